// swift-tools-version: 6.1
// libFuzzer targets for libprovidermux (see fuzz/README.md). A separate package so the root
// Package.swift stays untouched: it depends on the root by path and reaches ProviderMuxCore
// through the root's `providermux` product (whose target depends on ProviderMuxCore).
// Build one: swift build --package-path fuzz --product fuzz-config \
//              --sanitize=fuzzer --sanitize=address --scratch-path fuzz/.build-fuzz
import PackageDescription

// SwiftPM names a path dependency after its directory (lowercased), which differs per
// checkout/worktree: derive it instead of hard-coding it.
let rootDirectory = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "providermux")
let rootIdentity = rootDirectory.lowercased()

let fuzzers = [
    "fuzz-config", "fuzz-request", "fuzz-sse", "fuzz-ndjson",
    "fuzz-openai-stream", "fuzz-anthropic-stream", "fuzz-gemini-stream",
    "fuzz-ollama-stream", "fuzz-cohere-stream", "fuzz-responses",
]

let package = Package(
    name: "providermux-fuzz",
    products: fuzzers.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "providermux", package: rootIdentity)],
            path: "Sources/FuzzSupport"
        ),
    ] + fuzzers.map {
        .executableTarget(
            name: $0,
            dependencies: ["FuzzSupport", .product(name: "providermux", package: rootIdentity)],
            path: "Sources/\($0)"
        )
    }
)
