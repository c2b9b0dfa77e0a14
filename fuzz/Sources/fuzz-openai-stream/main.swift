// SPDX-License-Identifier: Apache-2.0
// OpenAIStreamDecoder (SSE + chunk JSON read in place from jansson) over the chunked input.
import MuxProtocols
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var decoder = OpenAIStreamDecoder(provider: "fz")
    var events: [ProviderEvent] = []
    do {
        try forEachChunk(data, size) { piece in try decoder.feed(piece) { events.append($0) } }
        try decoder.finish { events.append($0) }
    } catch {}
    blackHole(events)
    return 0
}
