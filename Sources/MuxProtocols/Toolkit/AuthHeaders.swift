// SPDX-License-Identifier: Apache-2.0
import MuxConfig

/// The request headers every protocol sends, in one order: `Content-Type` (when the call has a
/// JSON body), `Accept`, the key where the protocol wants it, the protocol's own fixed headers,
/// then the provider's configured `headers` last. A codec says only where its key goes and
/// which extra headers it adds.
public enum AuthHeaders {
    /// Where a protocol carries the API key.
    public enum Key: Sendable {
        /// `Authorization: Bearer <key>` (OpenAI and every OpenAI-compatible server, Cohere, a
        /// proxy in front of Ollama).
        case bearer
        /// The key as the value of a header of its own (`x-api-key`, `x-goog-api-key`, `api-key`).
        case header(String)
    }

    public static let json = "application/json"
    public static let eventStream = "text/event-stream"
    public static let ndjson = "application/x-ndjson"

    /// `Accept` for an SSE protocol: the event stream when streaming, JSON otherwise.
    @inline(__always)
    public static func accept(streaming: Bool) -> String { streaming ? eventStream : json }

    /// The headers of one call. No key configured: no key header (local servers need none).
    public static func build(_ provider: ProviderConfig, accept: String, key: Key,
                             extra: [(String, String)] = [], jsonBody: Bool = true) -> [(String, String)] {
        var h: [(String, String)] = []
        h.reserveCapacity(4 + extra.count + provider.headers.count)
        if jsonBody { h.append(("Content-Type", json)) }
        h.append(("Accept", accept))
        if let apiKey = provider.apiKey {
            switch key {
            case .bearer: h.append(("Authorization", "Bearer \(apiKey)"))
            case .header(let name): h.append((name, apiKey))
            }
        }
        h += extra
        h += provider.headers
        return h
    }
}
