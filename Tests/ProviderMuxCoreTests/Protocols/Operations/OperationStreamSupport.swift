// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxProtocols

/// The events a stream decoder gives for `pieces` fed in order, then finished; a thrown error
/// is the last event (as the transport would report it). Shared by the operations' codec tests.
func decodeOperationStream(_ make: () -> ChatStreamDecoding, _ pieces: [ArraySlice<UInt8>]) -> [ProviderEvent] {
    let d = make()
    var out: [ProviderEvent] = []
    do {
        for p in pieces { try p.withUnsafeBytes { try d.feed($0) { out.append($0) } } }
        try d.finish { out.append($0) }
    } catch {
        out.append(.error(error as? PMXError ?? PMXError(.internal, "\(error)")))
    }
    return out
}
