// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// ChatRequest / EmbedRequest validation (CandidateResolver is in Routing/CandidateResolverTests.swift).

private func chat(_ text: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(text)) }

private func requestError(_ text: String, embed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        let v = try JSONParser.parse(text)
        if embed { _ = try EmbedRequest.parse(v) } else { _ = try ChatRequest.parse(v) }
        Issue.record("request was accepted: \(text)", sourceLocation: sourceLocation)
    } catch let e as PMXError {
        return e
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

private let hello = #""messages":[{"role":"user","content":"hello"}]"#

@Suite("ChatRequest.parse")
struct ChatRequestTests {
    @Test("a valid request keeps its body, model and stream flag")
    func valid() throws {
        let r = try chat(#"{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":null}],"temperature":0.2,"top_p":1,"max_tokens":5,"seed":7,"stop":["x"],"stream":true,"tools":[],"vendor_extension":{"k":1}}"#)
        #expect(r.model == "gpt-4o")
        #expect(r.stream)
        #expect(r.route.providers == nil && r.route.maxAttempts == nil && r.route.timeoutMs == nil)
        // Unknown keys pass through to OpenAI-shaped providers, in order.
        #expect(r.body.keys == ["model", "messages", "temperature", "top_p", "max_tokens", "seed", "stop", "stream", "tools", "vendor_extension"])
        #expect(r.body["vendor_extension"]?["k"] == .int(1))
        #expect(r.lastUserText == "a b")
        #expect(try chat("{\(hello)}").stream == false)
        #expect(try chat("{\(hello)}").model == nil)
    }

    @Test("errors name the field, with PMX_ERR_INVALID_REQUEST", arguments: [
        (#"{}"#, "messages: is required"),
        (#"{"messages":[]}"#, "messages: must not be empty"),
        (#"{"messages":{}}"#, "messages: expected an array, got object"),
        (#"{"messages":["hi"]}"#, "messages[0]: expected an object, got string"),
        (#"{"messages":[{"role":"user","content":"a"},5]}"#, "messages[1]: expected an object, got number"),
        (#"{"messages":[{"content":"a"}]}"#, "messages[0].role: is required"),
        (#"{"messages":[{"role":1,"content":"a"}]}"#, "messages[0].role: expected a string, got number"),
        (#"{"messages":[{"role":null,"content":"a"}]}"#, "messages[0].role: expected a string, got null"),
        (#"{"messages":[{"role":"user","content":"a"},{"role":"user","content":7}]}"#, "messages[1].content: expected a string or an array of parts, got number"),
        (#"{"messages":[{"role":"user","content":{"text":"a"}}]}"#, "messages[0].content: expected a string or an array of parts, got object"),
        (#"{"model":5,"messages":[{"role":"user","content":"a"}]}"#, "model: expected a string, got number"),
        (#"{"model":"","messages":[{"role":"user","content":"a"}]}"#, "model: must not be empty"),
        (#"{"temperature":2.5,"messages":[{"role":"user","content":"a"}]}"#, "temperature: must be between 0"),
        (#"{"temperature":-0.1,"messages":[{"role":"user","content":"a"}]}"#, "temperature: must be between 0"),
        (#"{"temperature":"hot","messages":[{"role":"user","content":"a"}]}"#, "temperature: expected a number, got string"),
        (#"{"top_p":1.5,"messages":[{"role":"user","content":"a"}]}"#, "top_p: must be between 0"),
        (#"{"max_tokens":0,"messages":[{"role":"user","content":"a"}]}"#, "max_tokens: must be between 1 and 2147483647, got 0"),
        (#"{"n":129,"messages":[{"role":"user","content":"a"}]}"#, "n: must be between 1 and 128, got 129"),
        (#"{"stop":5,"messages":[{"role":"user","content":"a"}]}"#, "stop: expected a string or an array of strings, got number"),
        (#"{"tools":{},"messages":[{"role":"user","content":"a"}]}"#, "tools: expected an array, got object"),
        (#"{"stream":"yes","messages":[{"role":"user","content":"a"}]}"#, "stream: expected true or false, got string"),
        (#"[1]"#, "expected an object, got array"),
    ])
    func errors(text: String, message: String) throws {
        let e = try #require(requestError(text))
        #expect(e.status == .invalidRequest, "\(e)")
        #expect(e.message.contains(message), "\"\(e.message)\" lacks \"\(message)\"")
    }

    @Test("temperature bounds 0 and 2 are accepted")
    func temperatureBounds() throws {
        _ = try chat(#"{"temperature":0,\#(hello)}"#)
        _ = try chat(#"{"temperature":2,\#(hello)}"#)
        _ = try chat(#"{"temperature":null,\#(hello)}"#)
    }

    @Test("route is parsed and removed from the body forwarded to providers")
    func route() throws {
        let r = try chat(#"{"model":"m","route":{"providers":["b","a"],"max_attempts":2,"timeout_ms":1500},\#(hello),"user":"u1"}"#)
        #expect(r.route.providers == ["b", "a"])
        #expect(r.route.maxAttempts == 2)
        #expect(r.route.timeoutMs == 1500)
        #expect(r.body["route"] == nil)
        #expect(r.body.keys == ["model", "messages", "user"])
        let bytes = OpenAIProtocol.chatBody(r, model: "m", stream: false)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("route"))
    }

    @Test("route errors name route.<key>", arguments: [
        (#"{"bogus":1}"#, "route.bogus: unknown key"),
        (#"{"providers":[]}"#, "route.providers: must not be empty"),
        (#"{"providers":"a"}"#, "route.providers: expected an array of strings"),
        (#"{"providers":["a",""]}"#, "route.providers[1]"),
        (#"{"max_attempts":0}"#, "route.max_attempts: must be between 1 and 100, got 0"),
        (#"{"timeout_ms":0}"#, "route.timeout_ms"),
        (#"[]"#, "route: expected an object, got array"),
    ])
    func routeErrors(route: String, message: String) throws {
        let e = try #require(requestError(#"{"route":\#(route),\#(hello)}"#))
        #expect(e.status == .invalidRequest)
        #expect(e.message.contains(message), "\"\(e.message)\" lacks \"\(message)\"")
    }

    @Test("lastUserText is the LAST user message")
    func lastUser() throws {
        let r = try chat(#"{"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"mid"},{"role":"user","content":"second"},{"role":"tool","content":"x"}]}"#)
        #expect(r.lastUserText == "second")
    }
}

@Suite("EmbedRequest.parse")
struct EmbedRequestTests {
    @Test("a string or an array of strings; route removed")
    func valid() throws {
        let one = try EmbedRequest.parse(JSONParser.parse(#"{"model":"e","input":"hello"}"#))
        #expect(one.inputs == ["hello"])
        #expect(one.model == "e")
        let many = try EmbedRequest.parse(JSONParser.parse(#"{"input":["a","b"],"route":{"providers":["x"]},"dimensions":4}"#))
        #expect(many.inputs == ["a", "b"])
        #expect(many.model == nil)
        #expect(many.route.providers == ["x"])
        #expect(many.body["route"] == nil)
        #expect(many.body["dimensions"] == .int(4))
    }

    @Test("errors", arguments: [
        (#"{"model":"e"}"#, "input: is required"),
        (#"{"input":[]}"#, "input: must not be empty"),
        (#"{"input":5}"#, "input: expected a string or an array of strings, got number"),
        (#"{"input":["a",3]}"#, "input[1]: expected a string, got number"),
        (#"{"input":"a","route":{"x":1}}"#, "route.x: unknown key"),
    ])
    func errors(text: String, message: String) throws {
        let e = try #require(requestError(text, embed: true))
        #expect(e.status == .invalidRequest)
        #expect(e.message.contains(message), "\"\(e.message)\" lacks \"\(message)\"")
    }
}
