// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0
// pmx-gateway: one router served over OpenAI-compatible HTTP (Hummingbird 2). A separate
// package so that the library's own `swift build` / `swift test` never resolve or compile
// Hummingbird and SwiftNIO: it compiles the library's core ITSELF, through symlinks
// (Sources/Mux*, Sources/CCurl, Sources/CHiredis → ../../Sources/…), as fuzz/ does — the core's declarations are
// `package`-visible only, and the root's one product is the release .so that exports nothing
// but pmx_*. The gateway sits beside the C ABI layer (ProviderMux), above MuxRouting.
// Build: swift build --package-path gateway -c release --product pmx-gateway
//   (scripts/build-gateway.sh; CMake target pmx_gateway_build; README "Gateway").
import PackageDescription

let core = ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxShared", "MuxProviders", "MuxRouting"]

let package = Package(
    name: "providermux-gateway",
    platforms: [.macOS(.v14)],
    products: [.executable(name: "pmx-gateway", targets: ["pmx-gateway"])],
    dependencies: [
        // No default traits: swift-configuration and full Foundation are not needed here.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Already Hummingbird's own dependencies: named here for ServiceGroup (SIGTERM drain), Channel and the event loops.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        // hiredis, loaded on demand when the config has "shared" (N gateways on one Redis share limits).
        .target(name: "CHiredis"),
        // The core: one target per layer, lowest first (docs/ARCHITECTURE.md), as in ../Package.swift.
        .target(name: "MuxBase"),
        .target(name: "MuxTransport", dependencies: ["MuxBase", "CCurl"]),
        .target(name: "MuxConfig", dependencies: ["MuxBase", "MuxTransport"]),
        .target(name: "MuxProtocols", dependencies: ["MuxBase", "MuxTransport", "MuxConfig"]),
        .target(name: "MuxAccounting", dependencies: ["MuxBase", "MuxConfig"]),
        .target(name: "MuxShared", dependencies: ["MuxBase", "MuxConfig", "CHiredis"]),
        .target(name: "MuxProviders", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting"]),
        .target(name: "MuxRouting", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxShared", "MuxProviders"]),
        // OpenAI-shaped HTTP over the router, without Hummingbird: auth, errors, chunks, metrics.
        .target(name: "GatewayCore", dependencies: .init(core.map { .byName(name: $0) })),
        .executableTarget(
            name: "pmx-gateway",
            dependencies: ["GatewayCore", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           // NIOPosix: its event loops as Swift's executor (LoopExecutor.swift).
                           .product(name: "NIOPosix", package: "swift-nio")]
                + core.map { .byName(name: $0) }
        ),
    ]
)
