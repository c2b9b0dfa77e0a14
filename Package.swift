// swift-tools-version: 6.1
// SPDX-License-Identifier: Apache-2.0
// libprovidermux: a Swift core behind a stable C ABI (include/providermux.h).
// The release library is built by scripts/build-lib.sh (static Swift runtime, SONAME,
// pmx_*-only exports); `swift test` uses the plain debug configuration.
import PackageDescription

let abiVersion = "0"
let root = Context.packageDirectory

let package = Package(
    name: "providermux",
    products: [
        .library(name: "providermux", type: .dynamic, targets: ["ProviderMux"]),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson"),
        // hiredis, loaded with dlopen when a router is configured with "shared" (the .so does not
        // NEED it): compiled against Debian's libhiredis-dev headers (Sources/CHiredis/include).
        .target(name: "CHiredis"),
        // The core: one target per layer, lowest first (docs/ARCHITECTURE.md). A target depends
        // only on targets listed before it, so naming a type of a higher layer fails to build.
        // MuxBase parses JSON itself (JSON/JSONScanner.swift): the library no longer links
        // jansson, which stays the tests' oracle (Tests/ProviderMuxCoreTests/JSON/JanssonOracle.swift).
        .target(name: "MuxBase"),
        .target(name: "MuxTransport", dependencies: ["MuxBase", "CCurl"]),
        .target(name: "MuxConfig", dependencies: ["MuxBase", "MuxTransport"]),
        .target(name: "MuxProtocols", dependencies: ["MuxBase", "MuxTransport", "MuxConfig"]),
        .target(name: "MuxAccounting", dependencies: ["MuxBase", "MuxConfig"]),
        // Shared state on Redis (the `shared` section): the link, the Lua scripts, the key layout.
        .target(name: "MuxShared", dependencies: ["MuxBase", "MuxConfig", "CHiredis"]),
        .target(name: "MuxProviders", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting"]),
        .target(name: "MuxRouting", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxShared", "MuxProviders"]),
        .target(
            name: "ProviderMux",
            dependencies: ["MuxBase", "MuxConfig", "MuxProtocols", "MuxRouting"],
            linkerSettings: [
                // Only the pmx_* C functions leave the .so, and it carries its ABI number.
                .unsafeFlags([
                    "-Xlinker", "--version-script=\(root)/Sources/ProviderMux/exports.map",
                    "-Xlinker", "-soname=libprovidermux.so.\(abiVersion)",
                ], .when(configuration: .release)),
            ]
        ),
        .testTarget(
            name: "ProviderMuxCoreTests",
            dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxShared", "MuxProviders", "MuxRouting", "CCurl", "CJansson"]
        ),
    ]
)
