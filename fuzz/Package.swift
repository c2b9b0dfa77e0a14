// swift-tools-version: 6.1
// SPDX-License-Identifier: Apache-2.0
// libFuzzer targets for libprovidermux (see fuzz/README.md). A separate package so the root
// Package.swift stays untouched. It compiles the library's core ITSELF, through symlinks
// (Sources/Mux*, Sources/CCurl, Sources/CJansson → ../../Sources/…), rather than
// depending on the root package: the root's only product is the release .so, which exports
// nothing but pmx_*, and sanitizer-coverage flags must reach the core's own objects for
// libFuzzer to see its branches.
// Build one: swift build --package-path fuzz -c release --product fuzz-config \
//              --sanitize=fuzzer --sanitize=address --scratch-path fuzz/.build-fuzz
import PackageDescription

let fuzzers = [
    "fuzz-config", "fuzz-request", "fuzz-sse", "fuzz-ndjson",
    "fuzz-openai-stream", "fuzz-anthropic-stream", "fuzz-gemini-stream",
    "fuzz-ollama-stream", "fuzz-cohere-stream", "fuzz-responses",
    "fuzz-headers", "fuzz-usage", "fuzz-json",
]

let package = Package(
    name: "providermux-fuzz",
    products: fuzzers.map { .executable(name: $0, targets: [$0]) },
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson"),
        // The core: one target per layer, lowest first (docs/ARCHITECTURE.md). A target depends
        // only on targets listed before it, so naming a type of a higher layer fails to build.
        // MuxBase parses JSON itself; CJansson is fuzz-json's oracle (and any harness's).
        .target(name: "MuxBase"),
        .target(name: "MuxTransport", dependencies: ["MuxBase", "CCurl"]),
        .target(name: "MuxConfig", dependencies: ["MuxBase", "MuxTransport"]),
        .target(name: "MuxProtocols", dependencies: ["MuxBase", "MuxTransport", "MuxConfig"]),
        .target(name: "MuxAccounting", dependencies: ["MuxBase", "MuxConfig"]),
        .target(name: "CHiredis"),
        .target(name: "MuxShared", dependencies: ["MuxBase", "MuxConfig", "CHiredis"]),
        .target(name: "MuxProviders", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting"]),
        .target(name: "MuxRouting", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxShared", "MuxProviders"]),
        .target(name: "FuzzSupport", dependencies: ["MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxProviders", "MuxRouting"]),
    ] + fuzzers.map {
        .executableTarget(name: $0, dependencies: ["FuzzSupport", "CJansson", "MuxBase", "MuxTransport", "MuxConfig", "MuxProtocols", "MuxAccounting", "MuxProviders", "MuxRouting"], path: "Sources/\($0)")
    }
)
