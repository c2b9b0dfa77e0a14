// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

/// The codec toolkit (Sources/MuxProtocols/Toolkit): the pieces every protocol
/// shares, tested once here rather than through each codec.
@Suite("Codec toolkit")
struct CodecToolkitTests {
    /// A JSON object written as a literal.
    private func obj(_ v: JSONValue) -> JSONObject { v.objectValue ?? JSONObject() }

    /// Keyless (`"api_key": ""`, intentionally empty) unless `extra` gives a key.
    private func provider(_ extra: String = "") throws -> ProviderConfig {
        let key = extra.contains(#""api_key""#) ? "" : #","api_key":"""#
        return try ProviderConfig.parse(JSONParser.parse(#"{"name":"tk","type":"openai","base_url":"http://127.0.0.1:9/v1"\#(key)\#(extra)}"#), path: "p")
    }

    // MARK: DataURL

    @Test("data URLs: media type, base64 flag and payload, split on bytes")
    func dataURLParts() {
        #expect(DataURL.parse("data:image/png;base64,iVBORw0KGgo=") == DataURL(mediaType: "image/png", isBase64: true, payload: "iVBORw0KGgo="))
        // Parameters before base64; a comma inside the payload stays in the payload.
        #expect(DataURL.parse("data:text/plain;charset=utf-8;base64,QQ==,x") == DataURL(mediaType: "text/plain", isBase64: true, payload: "QQ==,x"))
        // No media type, no base64, an empty payload.
        #expect(DataURL.parse("data:;base64,AAAA") == DataURL(mediaType: "", isBase64: true, payload: "AAAA"))
        #expect(DataURL.parse("data:image/png,raw") == DataURL(mediaType: "image/png", isBase64: false, payload: "raw"))
        #expect(DataURL.parse("data:,") == DataURL(mediaType: "", isBase64: false, payload: ""))
        // base64 must be the last parameter, spelled exactly; ";base64," after the comma is payload.
        #expect(DataURL.parse("data:image/png;base64;x=1,AAAA")?.isBase64 == false)
        #expect(DataURL.parse("data:image/png,a;base64,b") == DataURL(mediaType: "image/png", isBase64: false, payload: "a;base64,b"))
        // "\r\n" is one Character but two bytes: a Character split would miss the comma after it.
        #expect(DataURL.parse("data:a\r\n,b")?.payload == "b")
        #expect(DataURL.parse("data:image/png;base64,é€")?.payload == "é€")
    }

    @Test("not data URLs: nil", arguments: ["https://x/y.png", "data:image/png;base64", "DATA:image/png;base64,AA", "data", ""])
    func notDataURL(url: String) {
        #expect(DataURL.parse(url) == nil)
    }

    @Test("requireBase64 names the field and the form; a media type is required")
    func requireBase64() throws {
        #expect(try DataURL.requireBase64("data:image/jpeg;base64,/9j/", path: "p", protocolName: "x").mediaType == "image/jpeg")
        for bad in ["data:image/png,raw", "data:;base64,AAAA", "data:image/png;base64", "https://x"] {
            #expect(throws: PMXError(.invalidRequest, "m[0].url: gemini needs a base64 data URL with a media type (data:<media type>;base64,<data>)")) {
                try DataURL.requireBase64(bad, path: "m[0].url", protocolName: "gemini")
            }
        }
    }

    // MARK: ToolCalls

    @Test("arguments text → object: blank is {}, objects pass, anything else names the field")
    func argumentsObject() throws {
        #expect(try ToolCalls.argumentsObject(nil, path: "a") == JSONObject())
        #expect(try ToolCalls.argumentsObject(.null, path: "a") == JSONObject())
        #expect(try ToolCalls.argumentsObject(" \r\n\t", path: "a") == JSONObject())
        #expect(try ToolCalls.argumentsObject(#"{"city":"Paris"}"#, path: "a") == obj(["city": "Paris"]))
        #expect(try ToolCalls.argumentsObject(["k": 1], path: "a") == obj(["k": 1]))
        for bad: JSONValue in ["{not json", "[1,2]", "42", #""text""#] {
            #expect(throws: PMXError(.invalidRequest, "m.args: must be a JSON object encoded as a string")) {
                try ToolCalls.argumentsObject(bad, path: "m.args", provider: "tk")
            }
        }
        #expect(throws: PMXError(.invalidRequest, "m.args: expected a string of JSON, got array")) {
            try ToolCalls.argumentsObject(.array([1]), path: "m.args")
        }
    }

    @Test("arguments from an answer → OpenAI's JSON text; other types are nil")
    func argumentsText() {
        #expect(ToolCalls.argumentsText(nil) == "{}")
        #expect(ToolCalls.argumentsText(.null) == "{}")
        #expect(ToolCalls.argumentsText(.object(JSONObject())) == "{}")
        #expect(ToolCalls.argumentsText(["a": 1]) == #"{"a":1}"#)
        #expect(ToolCalls.argumentsText(#"{"a":1}"#) == #"{"a":1}"#)
        #expect(ToolCalls.argumentsText(.array([])) == nil)
        #expect(ToolCalls.argumentsText(7) == nil)
    }

    @Test("tool-call deltas in OpenAI's shape")
    func deltas() {
        #expect(ToolCalls.delta(index: 2, id: "c", name: "f", arguments: "{}")
                == ["index": 2, "id": "c", "type": "function", "function": ["name": "f", "arguments": "{}"]])
        #expect(ToolCalls.argumentsDelta(index: 1, piece: "{\"a") == ["index": 1, "function": ["arguments": "{\"a"]])
    }

    // MARK: ErrorText

    @Test("error details are cut in UTF-8 bytes, never inside a scalar, at most maxDetailBytes + the ellipsis")
    func shortenInBytes() {
        let limit = ErrorText.maxDetailBytes
        #expect(ErrorText.shorten("short") == "short")
        #expect(ErrorText.shorten(String(repeating: "a", count: limit)) == String(repeating: "a", count: limit))
        // A 2-byte scalar straddling the limit is dropped whole, not split.
        let straddle = String(repeating: "a", count: limit - 1) + "é" + "tail"
        #expect(ErrorText.shorten(straddle) == String(repeating: "a", count: limit - 1) + "…")
        // 4-byte scalars: 300 characters are 1200 bytes; the cut keeps 75 of them (300 bytes).
        let emoji = String(repeating: "😀", count: limit)
        let cut = ErrorText.shorten(emoji)
        #expect(cut == String(repeating: "😀", count: limit / 4) + "…")
        for offset in 0..<4 {
            let s = String(repeating: "a", count: offset) + emoji
            let out = ErrorText.shorten(s)
            #expect(out.utf8.count <= limit + "…".utf8.count)
            #expect(!out.unicodeScalars.contains("\u{FFFD}"), "a scalar was split at offset \(offset)")
        }
    }

    @Test("a raw body is cut at maxRawBodyBytes, invalid UTF-8 replaced, never trapping")
    func shortenBody() {
        let body = [UInt8](repeating: 0x41, count: 1000)
        #expect(ErrorText.shorten(body: body) == String(repeating: "A", count: ErrorText.maxRawBodyBytes) + "…")
        #expect(ErrorText.shorten(body: [0xFF, 0xFE, 0x41]) == "\u{FFFD}\u{FFFD}A")
    }

    // MARK: SamplingFields

    @Test("stop: a string is a list of one, an empty list is none, a non-string entry names its index")
    func stop() throws {
        #expect(try SamplingFields.stopSequences(obj(["stop": "END"])) == ["END"])
        #expect(try SamplingFields.stopSequences(obj(["stop": ["a", "b"]])) == ["a", "b"])
        #expect(try SamplingFields.stopSequences(obj(["stop": .array([])])) == nil)
        #expect(try SamplingFields.stopSequences(obj(["stop": .null])) == nil)
        #expect(try SamplingFields.stopSequences(JSONObject()) == nil)
        #expect(throws: PMXError(.invalidRequest, "stop[1]: expected a string, got number")) {
            try SamplingFields.stopSequences(obj(["stop": ["a", 2]]))
        }
    }

    @Test("max tokens: max_completion_tokens over max_tokens; null is absent")
    func maxTokens() {
        #expect(SamplingFields.maxTokens(obj(["max_tokens": 10, "max_completion_tokens": 20])) == 20)
        #expect(SamplingFields.maxTokens(obj(["max_tokens": 10, "max_completion_tokens": .null])) == 10)
        #expect(SamplingFields.maxTokens(JSONObject()) == nil)
    }

    @Test("response_format: text, json_object, json_schema with its schema; others unsupported")
    func responseFormat() throws {
        func rf(_ v: JSONValue) throws -> SamplingFields.ResponseFormat? {
            try SamplingFields.responseFormat(obj(["response_format": v]), protocolName: "p")
        }
        #expect(try rf(["type": "text"]) == .text)
        #expect(try rf(["type": "json_object"]) == .jsonObject)
        #expect(try rf(["type": "json_schema", "json_schema": ["name": "n", "schema": ["type": "object"]]]) == .jsonSchema(["type": "object"]))
        #expect(try SamplingFields.responseFormat(JSONObject(), protocolName: "p") == nil)
        #expect(throws: PMXError(.invalidRequest, "response_format.json_schema.schema: expected an object")) {
            try rf(["type": "json_schema", "json_schema": ["name": "n"]])
        }
        #expect(throws: PMXError(.unsupported, "response_format.type: \"grammar\" is not supported by p (text, json_object, json_schema)")) {
            try rf(["type": "grammar"])
        }
    }

    @Test("copy: present, non-null values under the protocol's names")
    func copy() {
        var out = JSONObject()
        SamplingFields.copy([("top_p", "p"), ("top_k", "k"), ("seed", "seed")], from: obj(["top_p": 0.5, "top_k": .null]), into: &out)
        #expect(out == obj(["p": 0.5]))
    }

    // MARK: ModelGuard, AuthHeaders

    @Test("the model: the request's, else default_model, else an invalid request naming both")
    func modelGuard() throws {
        let bare = try provider()
        let withDefault = try provider(#","default_model":"d""#)
        #expect(try ModelGuard.require("m", provider: withDefault, protocolName: "x") == "m")
        #expect(try ModelGuard.require(nil, provider: withDefault, protocolName: "x") == "d")
        #expect(try ModelGuard.require("", provider: withDefault, protocolName: "x") == "d")
        #expect(throws: PMXError(.invalidRequest, #"model: cohere needs a model for embeddings: name one in the request or set "default_model" on provider "tk""#)) {
            try ModelGuard.require(nil, provider: bare, protocolName: "cohere", operation: "for embeddings")
        }
    }

    @Test("headers: content type, accept, the key where the protocol wants it, extras, then the user's")
    func headers() throws {
        let p = try provider(#","api_key":"sk-toolkit-0123456789","headers":{"X-Team":"a"}"#)
        let bearer = AuthHeaders.build(p, accept: AuthHeaders.accept(streaming: true), key: .bearer)
        #expect(bearer.map { "\($0.0)=\($0.1)" } == ["Content-Type=application/json", "Accept=text/event-stream",
                                                       "Authorization=Bearer sk-toolkit-0123456789", "X-Team=a"])
        let named = AuthHeaders.build(p, accept: AuthHeaders.json, key: .header("x-api-key"), extra: [("v", "1")], jsonBody: false)
        #expect(named.map { "\($0.0)=\($0.1)" } == ["Accept=application/json", "x-api-key=sk-toolkit-0123456789", "v=1", "X-Team=a"])
        let keyless = AuthHeaders.build(try provider(), accept: AuthHeaders.json, key: .bearer)
        #expect(keyless.map(\.0) == ["Content-Type", "Accept"])
    }

    // MARK: EmbeddingsList, TokenCounts, ProviderErrorBody

    @Test("embeddings list: one vector per input, all numbers, in the OpenAI shape")
    func embeddings() throws {
        let o = try EmbeddingsList.build([[1, 2], [3.5]], inputs: 2, model: "e", promptTokens: 4, protocolName: "x", provider: "tk", path: { "v[\($0)]" })
        #expect(JSONValue.object(o) == ["object": "list",
                      "data": [["object": "embedding", "index": 0, "embedding": [1, 2]], ["object": "embedding", "index": 1, "embedding": [3.5]]],
                      "model": "e", "usage": ["prompt_tokens": 4, "total_tokens": 4]])
        #expect(throws: PMXError(.upstreamProtocol, "x: 1 embeddings for 2 inputs", provider: "tk")) {
            try EmbeddingsList.build([[1]], inputs: 2, model: "e", promptTokens: 0, protocolName: "x", provider: "tk", path: { "v[\($0)]" })
        }
        #expect(throws: PMXError(.upstreamProtocol, "x: v[0].values is not an array of numbers", provider: "tk")) {
            try EmbeddingsList.build([["values": [1, "a"]]], inputs: 1, model: "e", promptTokens: 0, protocolName: "x", provider: "tk",
                                     path: { "v[\($0)].values" }, vector: { $0["values"] })
        }
    }

    @Test("token counts: absent or null is nil, numbers clamped, anything else the caller's error")
    func tokenCounts() throws {
        #expect(try TokenCounts.count(nil, orThrow: PMXError(.upstreamProtocol, "x")) == nil)
        #expect(try TokenCounts.count(.null, orThrow: PMXError(.upstreamProtocol, "x")) == nil)
        #expect(try TokenCounts.count(12, orThrow: PMXError(.upstreamProtocol, "x")) == 12)
        #expect(try TokenCounts.count(-3, orThrow: PMXError(.upstreamProtocol, "x")) == 0)
        #expect(throws: PMXError(.upstreamProtocol, "not a count")) { try TokenCounts.count("7", orThrow: PMXError(.upstreamProtocol, "not a count")) }
    }

    @Test("error objects: message, or the string itself, or the JSON; an HTTP code only in 400...599")
    func errorBody() throws {
        #expect(ProviderErrorBody.message(["message": "m", "code": 429]) == "m")
        #expect(ProviderErrorBody.message("plain") == "plain")
        #expect(ProviderErrorBody.message(["detail": 1]) == #"{"detail":1}"#)
        #expect(ProviderErrorBody.inBand(["error": .null]) == nil)
        #expect(ProviderErrorBody.inBand(["error": "x"]) == "x")
        #expect(ProviderErrorBody.httpCode(["code": 429]) == 429)
        #expect(ProviderErrorBody.httpCode(["code": 200]) == nil)
        #expect(ProviderErrorBody.httpCode(["code": 600]) == nil)
        #expect(ProviderErrorBody.httpCode(["code": "429"]) == nil)
    }

    @Test("a normal end of turn is tool_calls when tools were called, else stop")
    func endOfTurn() {
        #expect(FinishReasons.endOfTurn(calledTools: true) == "tool_calls")
        #expect(FinishReasons.endOfTurn(calledTools: false) == "stop")
    }
}
