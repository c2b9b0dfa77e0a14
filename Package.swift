// swift-tools-version: 6.1
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
        .target(
            name: "ProviderMuxCore",
            dependencies: ["CCurl", "CJansson"]
        ),
        .target(
            name: "ProviderMux",
            dependencies: ["ProviderMuxCore"],
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
            dependencies: ["ProviderMuxCore", "CCurl"]
        ),
    ]
)
