// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// No header or URL injection (WireSafety.swift): every string that becomes part of an upstream
// request line or header is refused at config time (PMX_ERR_CONFIG naming the field) or at
// request time (PMX_ERR_INVALID_REQUEST naming the field) when it holds a CR, LF, NUL or other
// control character; names in URL paths are percent-encoded.

private let breaks = ["\r\n", "\n", "\r", "\u{0}", "\u{7F}", "\u{1B}"]

private func provider(_ type: String, base: String? = "http://127.0.0.1:9/v1", _ fields: [String: JSONValue]) -> JSONValue {
    var o = JSONObject()
    o["name"] = "p"
    o["type"] = .string(type)
    if let base { o["base_url"] = .string(base) }
    for (k, v) in fields { o[k] = v }
    return .object(o)
}

private func configError(_ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        _ = try ProviderConfig.parse(value, path: "providers[0]", lookup: { _ in nil })
        Issue.record("accepted: \(JSONWriter.string(value))", sourceLocation: sourceLocation)
        return nil
    } catch let e as PMXError {
        return e
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

private func expectRefused(_ value: JSONValue, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e = configError(value, sourceLocation: sourceLocation) else { return }
    #expect(e.status == .config, "\(e.status)", sourceLocation: sourceLocation)
    #expect(e.message.contains(field), "\(e.message)", sourceLocation: sourceLocation)
    #expect(!e.message.contains("\r") && !e.message.contains("\n") && !e.message.contains("\u{0}"), "\(e.message.debugDescription)", sourceLocation: sourceLocation)
}

@Suite("Injection: config values that reach a request line or header")
struct WireSafetyConfigTests {
    @Test("every type-specific option refuses CR, LF, NUL and control characters, naming the option")
    func options() {
        for b in breaks {
            let evil = JSONValue.string("v1" + b + "X-Evil: 1")
            expectRefused(provider("anthropic", base: "http://127.0.0.1:9", ["anthropic_version": evil]), naming: "providers[0].anthropic_version")
            expectRefused(provider("openrouter", ["http_referer": evil]), naming: "providers[0].http_referer")
            expectRefused(provider("openrouter", ["x_title": evil]), naming: "providers[0].x_title")
            expectRefused(provider("azure", base: "https://r.openai.azure.com", ["api_version": evil]), naming: "providers[0].api_version")
            expectRefused(provider("azure", base: "https://r.openai.azure.com", ["api_version": "2024-10-21", "deployment": evil]), naming: "providers[0].deployment")
        }
    }

    @Test("api_version is a query value: 1 to 64 of A-Z a-z 0-9 . _ -; deployment is not a dot segment")
    func queryAndPathOptions() {
        for v in ["2024-10-21&x=1", "2024 10", "a/b", "v#1", "v?1", String(repeating: "1", count: 65), ""] {
            expectRefused(provider("azure", base: "https://r.openai.azure.com", ["api_version": .string(v)]), naming: "api_version")
        }
        for d in [".", ".."] {
            expectRefused(provider("azure", base: "https://r.openai.azure.com", ["api_version": "2024-10-21", "deployment": .string(d)]), naming: "deployment")
        }
        #expect(throws: Never.self) {
            try ProviderConfig.parse(provider("azure", base: "https://r.openai.azure.com", ["api_version": "2024-05-01-preview", "deployment": "gpt 4o/mini", "api_key": ""]), path: "p")
        }
    }

    @Test("custom header names and values, and the api_key (also from ${ENV}), refuse line breaks and NUL")
    func headersAndKey() throws {
        for b in breaks {
            expectRefused(provider("openai-compatible", ["headers": ["X-Ok": .string("v" + b + "X-Evil: 1")]]), naming: "headers")
            expectRefused(provider("openai-compatible", ["headers": [.init("X-Bad" + b): "v"]]), naming: "headers")
            expectRefused(provider("openai-compatible", ["api_key": .string("sk-abc" + b + "X-Evil: 1")]), naming: "api_key")
        }
        for name in ["X Space", "X:Colon", "X(paren)", "Ünï", "X\"q"] {
            expectRefused(provider("openai-compatible", ["headers": [.init(name): "v"]]), naming: "headers")
        }
        // ${ENV} is expanded first; the expanded key is checked like a written one.
        let doc = provider("openai-compatible", ["api_key": "${PMX_TEST_EVIL_KEY}"])
        let expanded = try EnvExpansion.expand(doc, path: "providers[0]", lookup: { _ in "sk-env\r\nX-Evil: 1" })
        expectRefused(expanded, naming: "api_key")
        // The type's default key variable too.
        do {
            _ = try ProviderConfig.parse(provider("openai", base: nil, [:]), path: "providers[0]", lookup: { _ in "sk-default\nX-Evil: 1" })
            Issue.record("a default key variable with a line break was accepted")
        } catch let e as PMXError { #expect(e.status == .config && e.message.contains("api_key")) }
    }

    @Test("base_url: http(s), printable ASCII, a host, no user:password@, no query or fragment, no control character")
    func baseURL() {
        for b in breaks {
            expectRefused(provider("openai-compatible", base: "http://127.0.0.1:9/v1" + b + "X-Evil: 1", [:]), naming: "providers[0].base_url")
            expectRefused(provider("openai-compatible", base: "http://127.0.0.1" + b + ":9/v1", [:]), naming: "providers[0].base_url")
        }
        for url in ["http://user:pw@127.0.0.1:9/v1", "http://127.0.0.1:9/v1?x=1", "http://127.0.0.1:9/v1#f", "http://127.0.0.1 :9/v1",
                    "http://hôst/v1", "http:///v1", "http://:80/v1", "ftp://127.0.0.1/v1", "http://127.0.0.1:9/v\t1"] {
            expectRefused(provider("openai-compatible", base: url, [:]), naming: "providers[0].base_url")
        }
        for url in ["http://127.0.0.1:8080/v1", "https://api.example.com", "http://[::1]:8080/v1", "https://x.example.com/a%20b/v1"] {
            #expect(throws: Never.self) { try ProviderConfig.parse(provider("openai-compatible", base: url, [:]), path: "p") }
        }
    }

    @Test("model names in the config (models, default_model) refuse control characters")
    func configModels() {
        for b in breaks {
            expectRefused(provider("gemini", base: "http://127.0.0.1:9", ["default_model": .string("gemini" + b + "x")]), naming: "default_model")
            expectRefused(provider("gemini", base: "http://127.0.0.1:9", ["models": [.string("ok"), .string("gemini" + b + "x")]]), naming: "models[1]")
        }
    }

    @Test("a discovery target's base_url follows the same rules")
    func discoveryBase() {
        for url in ["http://127.0.0.1:11434\r\nX-Evil: 1", "http://u:p@127.0.0.1:11434", "http://127.0.0.1:11434/?x"] {
            let config: JSONValue = ["providers": [], "discovery": ["targets": [["type": "ollama", "base_url": .string(url)]]]]
            do {
                _ = try RouterConfig.parse(config)
                Issue.record("accepted \(url.debugDescription)")
            } catch let e as PMXError {
                #expect(e.status == .config && e.message.contains("base_url"), "\(e.message)")
            } catch { Issue.record("\(error)") }
        }
    }
}

@Suite("Injection: request values that reach a URL")
struct WireSafetyRequestTests {
    @Test("a request model with CR, LF, NUL or a control character is refused, naming `model`")
    func requestModel() {
        for b in breaks {
            for parse in [{ (v: JSONValue) throws in _ = try ChatRequest.parse(v) }, { (v: JSONValue) throws in _ = try EmbedRequest.parse(v) }] {
                let v: JSONValue = ["model": .string("gpt" + b + "X-Evil: 1"), "messages": [["role": "user", "content": "hi"]], "input": "x"]
                do { try parse(v); Issue.record("accepted \(b.debugDescription)") } catch let e as PMXError {
                    #expect(e.status == .invalidRequest && e.message.contains("model"), "\(e.message)")
                } catch { Issue.record("\(error)") }
            }
        }
    }

    @Test("path segments: RFC 3986 unreserved kept, everything else percent-encoded")
    func percentEncoding() throws {
        #expect(WireSafety.pathSegment("Az09-._~") == "Az09-._~")
        #expect(WireSafety.pathSegment("a b/c:d?e#f%g") == "a%20b%2Fc%3Ad%3Fe%23f%25g")
        #expect(WireSafety.pathSegment("é") == "%C3%A9")
        let gemini = try ProviderConfig.parse(provider("gemini", base: "http://127.0.0.1:9", ["api_key": ""]), path: "p")
        #expect(try GeminiCodec.resource("my model:v1/x?y#z", provider: gemini) == "models/my%20model%3Av1%2Fx%3Fy%23z")
        #expect(try GeminiCodec.resource("models/gemini-2.0-flash", provider: gemini) == "models/gemini-2.0-flash")
        #expect(try GeminiCodec.resource("tunedModels/my-tuned", provider: gemini) == "tunedModels/my-tuned")
        for bad in ["a\r\nX-Evil: 1", "a\u{0}b", "..", "models/..", "tunedModels/."] {
            #expect(throws: PMXError.self) { try GeminiCodec.resource(bad, provider: gemini) }
            do { _ = try GeminiCodec.resource(bad, provider: gemini) } catch let e as PMXError {
                #expect(e.status == .invalidRequest && e.message.contains("model"), "\(e.message)")
            }
        }
        let azure = try ProviderConfig.parse(provider("azure", base: "https://r.openai.azure.com", ["api_version": "2024-10-21", "api_key": ""]), path: "p")
        #expect(try AzureCodec().url(azure, "/chat/completions", model: "gpt 4o/x") == "https://r.openai.azure.com/openai/deployments/gpt%204o%2Fx/chat/completions?api-version=2024-10-21")
        for bad in ["x\r\ny", "..", "x\u{0}"] {
            #expect(throws: PMXError.self) { try AzureCodec().url(azure, "/chat/completions", model: bad) }
        }
    }
}

@Suite("Injection: the bytes the upstream receives", .serialized)
final class WireSafetyUpstreamTests {
    let server: FakeUpstreamServer
    let scope = "inject-" + String(UUID().uuidString.prefix(8)).lowercased()

    init() throws { server = try FakeUpstreamServer.shared.get() }

    private func router(_ extra: String = "") throws -> Router {
        try Router(config: RouterConfig.parse(JSONParser.parse(
            #"{"providers":[{"name":"g","type":"gemini","base_url":"http://127.0.0.1:\#(server.port)/\#(scope)","api_key":"inject-test-key-1","retry":{"max_attempts":1}\#(extra)}]}"#)))
    }

    @Test("a model with path syntax arrives percent-encoded in ONE path segment; no extra header line")
    func encodedPath() throws {
        let r = try router()
        defer { r.close() }
        let req = try ChatRequest.parse(["model": "my model:v1/x?y#z%", "messages": [["role": "user", "content": "hi"]]])
        _ = completeOnThread(r, req)  // the fake answers 404 for an unknown model path: the bytes sent are what matters
        let log = try server.requests(scope)
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["path"] == .string("/\(scope)/v1beta/models/my%20model%3Av1%2Fx%3Fy%23z%25:generateContent"), "\(entry["path"] ?? .null)")
        let names = entry["headers"]?.objectValue?.keys.map { $0 } ?? []
        #expect(!names.contains("x-evil"), "\(names)")
    }

    @Test("a model with CR LF never reaches the upstream: refused at request time, naming `model`")
    func refusedBeforeSending() throws {
        let r = try router()
        defer { r.close() }
        #expect(throws: PMXError.self) {
            try ChatRequest.parse(["model": "gemini-2.0-flash\r\nX-Evil: 1", "messages": [["role": "user", "content": "hi"]]])
        }
        // A name that reaches the codec some other way (an alias target) is refused there too.
        var req = try ChatRequest.parse(["model": "gemini-2.0-flash", "messages": [["role": "user", "content": "hi"]]])
        req.model = "gemini-2.0-flash\r\nX-Evil: 1"
        let result = try #require(completeOnThread(r, req))
        guard case .failure(let e) = result else { Issue.record("sent"); return }
        #expect(e.status == .invalidRequest && e.message.contains("model"), "\(e.message)")
        #expect(try server.requests(scope).isEmpty, "nothing was sent")
    }

    @Test("the transport refuses a request with a control character in its URL or headers, whatever built it")
    func transportBackstop() throws {
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x", headers: [("A", "b\tc")]).wireProblem == nil)
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x\r\nX-Evil: 1").wireProblem != nil)
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x y").wireProblem != nil)
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x", headers: [("A", "b\r\nX-Evil: 1")]).wireProblem != nil)
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x", headers: [("A\nB", "v")]).wireProblem != nil)
        #expect(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x", headers: [("A", "b\u{0}c")]).wireProblem != nil)
        // A provider definition changed after validation (a host embedding the core): not sent.
        var config = try RouterConfig.parse(JSONParser.parse(
            #"{"providers":[{"name":"g","type":"gemini","base_url":"http://127.0.0.1:\#(server.port)/\#(scope)","api_key":"inject-test-key-1","retry":{"max_attempts":1}}]}"#))
        config.providers[0].headers.append(("X-A", "a\r\nX-Evil: 1"))
        let r = try Router(config: config)
        defer { r.close() }
        let req = try ChatRequest.parse(["model": "gemini-2.0-flash", "messages": [["role": "user", "content": "hi"]]])
        let result = try #require(completeOnThread(r, req))
        guard case .failure(let e) = result else { Issue.record("sent"); return }
        #expect(e.message.contains("request not sent"), "\(e.message)")
        #expect(try server.requests(scope).isEmpty, "nothing was sent")
    }
}
