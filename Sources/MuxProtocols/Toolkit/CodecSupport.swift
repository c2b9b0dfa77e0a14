// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Small helpers every codec uses: parsing a body into a clear protocol error, the completion
/// built from decoded events, URLs and options.
public enum CodecSupport {
    /// Parses a JSON body, or throws `.upstreamProtocol` naming the provider and the problem.
    public static func parseBody(_ bytes: [UInt8], provider: ProviderConfig, what: String) throws -> JSONValue {
        try parseBody(bytes, provider: provider.name, what: what)
    }

    public static func parseBody(_ bytes: [UInt8], provider: String, what: String) throws -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch let e as PMXError {
            throw PMXError(.upstreamProtocol, "malformed \(what): \(e.message)", provider: provider)
        }
    }

    /// An OpenAI-shaped answer's body: parsed as `parseBody` does, and an error the server put
    /// in a 200 body (`{"error": …}`) raised as the upstream's failure.
    public static func parseOpenAIAnswer(_ bytes: [UInt8], provider: String, what: String) throws -> JSONValue {
        let json = try parseBody(bytes, provider: provider, what: what)
        if let err = ProviderErrorBody.inBand(json) {
            throw PMXError(.upstreamServer, "error in response body: \(ProviderErrorBody.message(err))", httpStatus: 200, provider: provider)
        }
        return json
    }

    /// One stream event or line: a malformed one breaks the protocol, said with `prefix`
    /// ("cohere: malformed stream event: ...").
    public static func parseEvent(_ bytes: UnsafeRawBufferPointer, provider: String, prefix: @autoclosure () -> String) throws -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch let e as PMXError {
            throw PMXError(.upstreamProtocol, "\(prefix())\(e.message)", provider: provider)
        }
    }

    /// `parseEvent` kept as a document, read in place (a stream's event after event, or a
    /// body read the same way by the shared readers).
    public static func document(_ bytes: UnsafeRawBufferPointer, provider: String, prefix: @autoclosure () -> String) throws -> JSONDocument {
        do { return try JSONDocument(bytes) } catch let e as PMXError {
            throw PMXError(.upstreamProtocol, "\(prefix())\(e.message)", provider: provider)
        }
    }

    /// `document`, parsed into a decoder's own reused document (no allocation per event).
    public static func load(_ bytes: UnsafeRawBufferPointer, into doc: JSONDocument, provider: String,
                            prefix: @autoclosure () -> String) throws {
        do { try doc.load(bytes) } catch let e as PMXError {
            throw PMXError(.upstreamProtocol, "\(prefix())\(e.message)", provider: provider)
        }
    }

    public static func parseEvent(_ bytes: [UInt8], provider: String, prefix: @autoclosure () -> String) throws -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch let e as PMXError {
            throw PMXError(.upstreamProtocol, "\(prefix())\(e.message)", provider: provider)
        }
    }

    public static func protocolError(_ provider: ProviderConfig, _ message: String) -> PMXError {
        PMXError(.upstreamProtocol, message, provider: provider.name)
    }

    /// The OpenAI `chat.completion` object built from the events of one answer.
    public static func completion(from events: [ProviderEvent], model: String?) -> JSONObject {
        var acc = StreamAccumulator()
        for e in events { acc.apply(e) }
        return acc.response(fallbackModel: model ?? "")
    }

    /// `{base}` + path, where base has no trailing slash.
    public static func url(_ provider: ProviderConfig, _ path: String) -> String { provider.baseURL + path }

    /// A string option from the provider's type-specific `options`.
    public static func option(_ provider: ProviderConfig, _ key: String) -> String? { provider.options[key]?.stringValue }
}
