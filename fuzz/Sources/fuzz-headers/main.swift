// SPDX-License-Identifier: Apache-2.0
// The headers an upstream uses to steer the router's timing: Retry-After, retry-after-ms,
// x-ms-retry-after-ms, x-ratelimit-reset-requests / -tokens and (in the body) Google's
// RetryInfo.retryDelay. The first byte picks the codec (low nibble) and the status (high
// nibble); the rest is a header block, split into lines and name/value pairs the way
// HTTPTransfer does (ASCII-lower-cased name, trimmed value), up to a blank line; what follows
// is the error body. Beyond crashes: a wait, when there is one, is never negative.
import MuxTransport
import MuxConfig
import MuxProtocols
import MuxProviders
import FuzzSupport

let targets: [(ProviderConfig, any WireCodec)] = [
    ProviderType.openai, .anthropic, .gemini, .ollama, .azure, .cohere,
].compactMap { type in
    guard let provider = providerConfig(type), let codec = ProviderCatalogue.entry(for: type).codec else { return nil }
    return (provider, codec)
}
let statuses = [429, 503, 500, 529, 408, 200, 400, 401, 403, 404, 413, 502, 504, 0, 999, 429]

/// (headers, body start) from the input, split like HTTPTransfer's header callback.
func headerBlock(_ u: [UInt8]) -> ([(String, String)], Int) {
    var headers: [(String, String)] = []
    var i = 0
    while i < u.count {
        var j = i
        while j < u.count && u[j] != 0x0A { j += 1 }
        let line = u[i..<j]
        if line.isEmpty || (line.count == 1 && line.first == 0x0D) { return (headers, min(j + 1, u.count)) }
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[line.startIndex..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
            var lo = colon + 1, hi = line.endIndex
            func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
            while lo < hi && isSpace(u[lo]) { lo += 1 }
            while hi > lo && isSpace(u[hi - 1]) { hi -= 1 }
            headers.append((name, String(decoding: u[lo..<hi], as: UTF8.self)))
        }
        i = j + 1
    }
    return (headers, u.count)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let (provider, codec) = targets[Int(data[0] & 0x0F) % targets.count]
    let status = statuses[Int(data[0] >> 4)]
    let input = bytes(data + 1, size - 1)
    let (headers, bodyStart) = headerBlock(input)
    let head = HTTPResponseHead(status: status, headers: headers)
    let body = Array(input[bodyStart...])
    for wait in [HTTPErrorMapping.retryAfterMs(head), HTTPErrorMapping.retryAfterMs(head, body: body),
                 codec.retryAfterMs(head), codec.retryAfterMs(head, body: body)] {
        if let wait, wait < 0 { fatalError("negative wait \(wait) ms from \(headers)") }
    }
    blackHole(codec.error(status: status, head: head, body: body, provider: provider))
    return 0
}
