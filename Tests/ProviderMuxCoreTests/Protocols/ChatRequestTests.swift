import Testing
@testable import ProviderMuxCore

// ChatRequest / EmbedRequest validation and CandidateResolver (which providers a request may
// use, in which order, with which model name).

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
        (#"{"n":2,"messages":[{"role":"user","content":"a"}]}"#, "n: must be between 1 and 1, got 2"),
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

@Suite("CandidateResolver")
struct CandidateResolverTests {
    /// Providers: a lists [m1, m2], b lists [m2], c and d serve any model.
    static func providers(_ json: String = #"[{"name":"a","type":"mock","models":["m1","m2"]},{"name":"b","type":"mock","models":["m2"]},{"name":"c","type":"mock"},{"name":"d","type":"mock","default_model":"dm"}]"#) throws -> [ProviderRuntime] {
        try #require(try JSONParser.parse(json).arrayValue).enumerated().map { i, v in
            ProviderRuntime(try ProviderConfig.parse(v, path: "providers[\(i)]"))
        }
    }

    private func resolve(_ model: String?, route: [String]? = nil, in ps: [ProviderRuntime]) throws -> [String] {
        var r = RouteOptions()
        r.providers = route
        return try CandidateResolver.resolve(model: model, route: r, providers: ps).map { "\($0.provider.name):\($0.model ?? "-")" }
    }

    private func resolveError(_ model: String?, route: [String]? = nil, in ps: [ProviderRuntime],
                              sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
        do {
            let got = try resolve(model, route: route, in: ps)
            Issue.record("resolved to \(got)", sourceLocation: sourceLocation)
        } catch let e as PMXError { return e } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
        return nil
    }

    @Test("\"provider/model\" pins that provider with the model after the slash")
    func pinned() throws {
        let ps = try Self.providers()
        #expect(try resolve("c/gpt-4o", in: ps) == ["c:gpt-4o"])
        #expect(try resolve("a/m1", in: ps) == ["a:m1"])
        // Only the first slash separates: the rest is the provider's model name.
        #expect(try resolve("c/org/model", in: ps) == ["c:org/model"])
    }

    @Test("a pinned provider that does not list the model: PMX_ERR_NO_PROVIDER naming both")
    func pinnedNotServed() throws {
        let e = try #require(resolveError("b/m1", in: try Self.providers()))
        #expect(e.status == .noProvider)
        #expect(e.message.contains("\"b\"") && e.message.contains("\"m1\""))
        let empty = try #require(resolveError("c/", in: try Self.providers()))
        #expect(empty.status == .invalidRequest)
    }

    @Test("a slash model whose prefix is not a provider stays a bare model")
    func slashBare() throws {
        let ps = try Self.providers(#"[{"name":"a","type":"mock","models":["meta/llama3"]},{"name":"b","type":"mock"}]"#)
        #expect(try resolve("meta/llama3", in: ps) == ["a:meta/llama3"])
        #expect(try resolve("other/x", in: ps) == ["b:other/x"])
    }

    @Test("a bare model goes to the providers listing it, in routing order")
    func bareListed() throws {
        let ps = try Self.providers()
        #expect(try resolve("m2", in: ps) == ["a:m2", "b:m2"])
        #expect(try resolve("m1", in: ps) == ["a:m1"])
    }

    @Test("a bare model nobody lists goes to the providers without a list")
    func bareUnlisted() throws {
        #expect(try resolve("gpt-4o", in: try Self.providers()) == ["c:gpt-4o", "d:gpt-4o"])
    }

    @Test("no provider can serve: PMX_ERR_NO_PROVIDER naming the model")
    func nobody() throws {
        let ps = try Self.providers(#"[{"name":"a","type":"mock","models":["m1"]},{"name":"b","type":"mock","models":["m2"]}]"#)
        let e = try #require(resolveError("gpt-9", in: ps))
        #expect(e.status == .noProvider)
        #expect(e.message.contains("\"gpt-9\""))
        let none = try #require(resolveError("x", in: []))
        #expect(none.status == .noProvider)
        #expect(try #require(resolveError(nil, in: [])).status == .noProvider)
    }

    @Test("no model: every provider, each with its own default (model nil here)")
    func noModel() throws {
        #expect(try resolve(nil, in: try Self.providers()) == ["a:-", "b:-", "c:-", "d:-"])
    }

    @Test("route.providers restricts and orders the set")
    func routeRestricts() throws {
        let ps = try Self.providers()
        #expect(try resolve(nil, route: ["d", "a"], in: ps) == ["d:-", "a:-"])
        #expect(try resolve("m2", route: ["b", "c", "a"], in: ps) == ["b:m2", "a:m2"])
        #expect(try resolve("zz", route: ["d", "a", "c"], in: ps) == ["d:zz", "c:zz"])
        #expect(try resolve("c/x", route: ["c"], in: ps) == ["c:x"])
        let excluded = try #require(resolveError("c/x", route: ["a"], in: ps))
        #expect(excluded.status == .noProvider)
        // The restriction applies before the model lookup: b does not list m1 and has a list.
        let none = try #require(resolveError("m1", route: ["b"], in: ps))
        #expect(none.status == .noProvider)
        #expect(none.message.contains("\"m1\""))
    }

    @Test("an unknown provider in route.providers: PMX_ERR_PROVIDER_NOT_FOUND naming it")
    func routeUnknown() throws {
        let e = try #require(resolveError(nil, route: ["a", "ghost"], in: try Self.providers()))
        #expect(e.status == .providerNotFound)
        #expect(e.message.contains("route.providers[1]"))
        #expect(e.message.contains("\"ghost\""))
    }
}
