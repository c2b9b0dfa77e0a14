// SPDX-License-Identifier: Apache-2.0
// NDJSONDecoder over the input cut into chunks (first byte picks the cuts). Besides crashes it
// checks that the lines do not depend on where the stream was cut.
import MuxTransport
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var split = NDJSONDecoder(maxLineBytes: 1 << 16)
    var lines: [[UInt8]] = []
    let splitOK: Bool
    do {
        try forEachChunk(data, size) { piece in try split.feed(piece) { lines.append(Array($0)) } }
        split.finish { lines.append(Array($0)) }
        splitOK = true
    } catch { splitOK = false }

    guard size > 0 else { return 0 }
    var whole = NDJSONDecoder(maxLineBytes: 1 << 16)
    var reference: [[UInt8]] = []
    let wholeOK: Bool
    do {
        try whole.feed(UnsafeRawBufferPointer(start: data + 1, count: size - 1)) { reference.append(Array($0)) }
        whole.finish { reference.append(Array($0)) }
        wholeOK = true
    } catch { wholeOK = false }
    if splitOK && wholeOK && lines != reference {
        fatalError("NDJSONDecoder: lines differ by split (\(lines.count) vs \(reference.count) lines)")
    }
    return 0
}
