// SPDX-License-Identifier: Apache-2.0
// SSEDecoder over the input cut into chunks (first byte picks the cuts). Besides crashes it
// checks the decoder's promise: the events do not depend on where the stream was cut.
import MuxTransport
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var split = SSEDecoder(maxEventBytes: 1 << 16)
    var events: [SSEEvent] = []
    let splitOK: Bool
    do {
        try forEachChunk(data, size) { piece in try split.feed(piece) { events.append($0) } }
        split.finish { events.append($0) }
        splitOK = true
    } catch { splitOK = false }

    guard size > 0 else { return 0 }
    var whole = SSEDecoder(maxEventBytes: 1 << 16)
    var reference: [SSEEvent] = []
    let wholeOK: Bool
    do {
        try whole.feed(UnsafeRawBufferPointer(start: data + 1, count: size - 1)) { reference.append($0) }
        whole.finish { reference.append($0) }
        wholeOK = true
    } catch { wholeOK = false }
    if splitOK && wholeOK && events != reference {
        fatalError("SSEDecoder: events differ by split (\(events.count) vs \(reference.count) events)")
    }
    return 0
}
