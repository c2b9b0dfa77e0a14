// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the libFuzzer targets: how an input becomes stream chunks, and the
// provider configurations the codecs need. Only crashes and sanitizer reports are findings:
// every harness swallows the errors the library throws on purpose.
import MuxBase
import MuxConfig
import MuxProtocols


/// Splits a fuzzer input into a stream: the first byte chooses the cut points, the rest is
/// the body. Mode (top two bits of the first byte):
///   0, 1: up to 3 cuts at positions derived from the first byte (0 cuts: one chunk)
///   2:    one byte per chunk (the worst case for state carried between chunks)
///   3:    the whole body in one chunk, then an empty chunk
/// Calls `chunk` once per piece, in order; the pieces cover the body exactly once.
public func forEachChunk(_ data: UnsafePointer<UInt8>, _ size: Int,
                         _ chunk: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    guard size > 0 else {
        try chunk(UnsafeRawBufferPointer(start: nil, count: 0))
        return
    }
    let selector = Int(data[0])
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch selector >> 6 {
    case 2:
        for i in 0..<body.count { try chunk(UnsafeRawBufferPointer(rebasing: body[i..<(i + 1)])) }
    case 3:
        try chunk(body)
        try chunk(UnsafeRawBufferPointer(start: body.baseAddress, count: 0))
    default:
        for piece in cutPoints(selector: selector, count: body.count) {
            try chunk(UnsafeRawBufferPointer(rebasing: body[piece]))
        }
    }
}

/// Up to three cuts (count = selector & 3), at positions spread by a small hash of the selector.
/// Ranges are ascending and cover 0..<count exactly; some may be empty.
public func cutPoints(selector: Int, count: Int) -> [Range<Int>] {
    let cuts = selector & 3
    guard count > 0, cuts > 0 else { return [0..<count] }
    var points: [Int] = []
    var h = UInt32(truncatingIfNeeded: selector) &* 2_654_435_761 &+ 0x9E37
    for _ in 0..<cuts {
        h = h &* 1_103_515_245 &+ 12_345
        points.append(Int(h >> 8) % (count + 1))
    }
    points.sort()
    var ranges: [Range<Int>] = []
    var start = 0
    for p in points { ranges.append(start..<p); start = p }
    ranges.append(start..<count)
    return ranges
}

/// The input as text (invalid UTF-8 repaired, as a C caller's bytes would be).
public func text(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}

public func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// A parsed provider of `type` pointing at an unroutable loopback address (nothing is sent:
/// the harnesses only decode). Built once per type.
public func providerConfig(_ type: ProviderType) -> ProviderConfig? {
    var options = ""
    if type == .azure { options = #", "api_version": "2024-06-01""# }
    let json = #"{"name": "fz", "type": "\#(type.rawValue)", "base_url": "http://127.0.0.1:9", "api_key": "k"\#(options)}"#
    guard let value = try? JSONParser.parse(json) else { return nil }
    return try? ProviderConfig.parse(value, path: "providers[0]", lookup: { _ in nil })
}

/// Runs a `ChatStreamDecoding` over the chunked input, then `finish`. Errors are expected.
public func runStreamDecoder(_ decoder: ChatStreamDecoding, _ data: UnsafePointer<UInt8>, _ size: Int) {
    var events = 0
    do {
        try forEachChunk(data, size) { piece in try decoder.feed(piece) { _ in events += 1 } }
        try decoder.finish { _ in events += 1 }
    } catch {}
    blackHole(events)
}

@inline(never) public func blackHole<T>(_ value: T) { _ = value }
