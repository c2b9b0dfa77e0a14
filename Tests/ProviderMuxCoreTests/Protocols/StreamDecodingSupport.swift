// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// What the protocol suites share: a provider of a type at a base URL, a chat request from its
// JSON, and a codec's stream decoder fed whole, split in two at every byte and byte by byte.

/// Provider "p" of `type` at `base`, key "k".
func protocolProvider(_ type: String, _ base: String) throws -> ProviderConfig {
    try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"\#(type)","base_url":"\#(base)","api_key":"k"}"#), path: "p")
}

func parseChat(_ json: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(json)) }

/// A decoded stream: its events, and the error that stopped it, if any.
struct DecodedStream: Equatable {
    var events: [ProviderEvent] = []
    var error: PMXError?
}

/// Feeds `pieces` to a new stream decoder of `codec`, in order, then finishes it.
func decodeStream(_ codec: any WireCodec, _ p: ProviderConfig, model: String? = "m", _ pieces: [ArraySlice<UInt8>]) -> DecodedStream {
    decodeStream(codec.streamDecoder(model: model, provider: p), pieces)
}

/// Feeds `pieces` to `d` (a new decoder), in order, then finishes it.
func decodeStream(_ d: any ChatStreamDecoding, _ pieces: [ArraySlice<UInt8>]) -> DecodedStream {
    var out = DecodedStream()
    do {
        for piece in pieces { try Array(piece).withUnsafeBytes { buf in try d.feed(buf) { out.events.append($0) } } }
        try d.finish { out.events.append($0) }
    } catch let e as PMXError {
        out.error = e
    } catch {
        out.error = PMXError(.internal, "non-PMXError thrown: \(error)")
    }
    return out
}

/// Decodes `bytes` whole, split in two at every byte boundary, and byte by byte: every way must
/// give the same events and error (a difference is recorded at the caller's line). The whole.
func decodeStreamEverySplit(_ codec: any WireCodec, _ p: ProviderConfig, model: String? = "m", _ bytes: [UInt8],
                            sourceLocation: SourceLocation = #_sourceLocation) -> DecodedStream {
    let whole = decodeStream(codec, p, model: model, [bytes[...]])
    for cut in 0...bytes.count {
        let split = decodeStream(codec, p, model: model, [bytes[..<cut], bytes[cut...]])
        if split != whole {
            Issue.record("split at byte \(cut) decodes differently: \(split) vs \(whole)", sourceLocation: sourceLocation)
            break
        }
    }
    let bytewise = decodeStream(codec, p, model: model, bytes.indices.map { bytes[$0...$0] })
    #expect(bytewise == whole, "byte by byte decodes differently", sourceLocation: sourceLocation)
    return whole
}
