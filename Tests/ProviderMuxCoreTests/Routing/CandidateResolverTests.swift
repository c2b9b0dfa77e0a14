// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProviders
@testable import MuxRouting
import Testing

// CandidateResolver: which providers a request may use, in which order, with which model name.

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

    @Test("a model nobody serves: the error suggests the closest listed names, groups and aliases, only when close")
    func didYouMean() throws {
        let ps = try Self.providers(#"[{"name":"a","type":"mock","models":["gpt-4o-mini","gpt-4.1-mini"]},{"name":"b","type":"mock","default_model":"llama3.2","models":["qwen3"]}]"#)
        func message(_ model: String, groups: [String: [Deployment]] = [:], aliases: [String] = []) -> String {
            do {
                _ = try CandidateResolver.resolve(model: model, pool: ps.map { ($0, nil) }, all: ps, groups: groups, aliases: aliases)
                Issue.record("resolved \(model)")
            } catch let e as PMXError { #expect(e.status == .noProvider); return e.message } catch { Issue.record("\(error)") }
            return ""
        }
        #expect(message("gpt-4-mini").contains(#"(did you mean "gpt-4o-mini", "gpt-4.1-mini"?)"#))
        #expect(message("llama3").contains(#"did you mean "llama3.2"?"#), "a default model is a known name")
        #expect(message("fst", aliases: ["fast"]).contains(#"did you mean "fast"?"#))
        #expect(message("smrat", groups: ["smart": [Deployment(provider: "a", model: "gpt-4o-mini")]]).contains(#"did you mean "smart"?"#))
        #expect(!message("mistral-large").contains("did you mean"))
        // Pinned: that provider's names, in the form that routes.
        let pinned = try #require(resolveError("b/qwen", in: ps))
        #expect(pinned.message.contains(#"did you mean "b/qwen3"?"#))
    }
}
