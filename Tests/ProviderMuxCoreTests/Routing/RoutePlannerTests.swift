// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
@testable import MuxProviders
@testable import MuxRouting
import Testing

// The `routing` section (lanes, groups, fallbacks) and RoutePlanner: lane choice, pools,
// capability filters, budgets. Pure: no router, no network.

private let providersJSON = #"""
[{"name":"oa","type":"mock","models":["gpt-4o","gpt-4o-mini"],"capabilities":["tools","json_mode","vision"],"context_length":128000},
 {"name":"an","type":"mock","models":["claude"],"capabilities":["tools"],"context_length":200000},
 {"name":"small","type":"mock","models":["tiny"],"capabilities":[],"context_length":100},
 {"name":"any","type":"mock"},
 {"name":"ol","type":"ollama","base_url":"http://127.0.0.1:9","models":["llama3"]}]
"""#

private func config(_ routing: String, extra: String = "") throws -> RouterConfig {
    try RouterConfig.parse(JSONParser.parse(#"{"providers":\#(providersJSON),"routing":\#(routing)\#(extra)}"#), lookup: { _ in nil })
}

private func configError(_ routing: String, extra: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        _ = try config(routing, extra: extra)
        Issue.record("config accepted", sourceLocation: sourceLocation)
    } catch let e as PMXError { return e } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    return nil
}

private func planner(_ routing: String) throws -> RoutePlanner {
    let c = try config(routing)
    return RoutePlanner(routing: c.routing, providers: c.providers.map(ProviderRuntime.init))
}

private func request(_ json: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(json)) }

private func plan(_ p: RoutePlanner, _ json: String) throws -> (lane: String?, picks: [String]) {
    let r = try request(json)
    let op = AttemptOperation.chat(r, stream: false)
    let tags = r.route.tags + Router.metadataTags(r.body["metadata"])
    let plan = try p.plan(model: r.model, route: r.route, tags: tags, needs: RequestNeeds(op), streaming: false)
    return (plan.lane, plan.candidates.map { "\($0.provider.name):\($0.seriesKey.model)" })
}

private func planError(_ p: RoutePlanner, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        let got = try plan(p, json)
        Issue.record("planned \(got)", sourceLocation: sourceLocation)
    } catch let e as PMXError { return e } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    return nil
}

private let lanes = #"""
{"lanes":{"code":{"providers":["an/claude","oa/gpt-4o"],"tags":["coding"],"aliases":["coder"]},
          "cheap":{"providers":["oa/gpt-4o-mini","ol"],"strategy":"lowest_cost"},
          "chat":{}},
 "model_groups":{"smart":["oa/gpt-4o","an/claude"]},
 "default_lane":"chat"}
"""#

@Suite("Routing config")
struct RoutingConfigTests {
    @Test("a valid routing section: lanes, groups, strategies, fallbacks")
    func valid() throws {
        let c = try config(#"{"strategy":"round_robin","lanes":{"code":{"providers":["an/claude","oa"],"strategy":"least_latency","tags":["coding"]}},"model_groups":{"smart":["oa/gpt-4o","an/claude"]},"fallbacks":{"smart":["tiny"]},"context_window_fallbacks":{"gpt-4o-mini":["gpt-4o"]}}"#)
        #expect(c.routing.strategy == .roundRobin)
        let code = try #require(c.routing.lane(named: "code"))
        #expect(code.deployments == [Deployment(provider: "an", model: "claude"), Deployment(provider: "oa", model: nil)])
        #expect(code.strategy == .leastLatency)
        #expect(c.routing.modelGroups["smart"]?.count == 2)
        #expect(c.routing.fallbacks["smart"] == ["tiny"])
        #expect(c.routing.laneNames == ["code", "local"])
    }

    @Test("bad config is refused at creation, naming the field", arguments: [
        (#"{"strategy":"fastest"}"#, "routing.strategy", "unknown strategy"),
        (#"{"lanes":{"code":{"providers":["nope"]}}}"#, "routing.lanes.code.providers[0]", "no provider named \"nope\""),
        (#"{"lanes":{"code":{"providers":[]}}}"#, "routing.lanes.code.providers", "must not be empty"),
        (#"{"default_lane":"premium"}"#, "routing.default_lane", "unknown lane \"premium\""),
        (#"{"model_groups":{"g":["oa/gpt-4o","ghost/x"]}}"#, "routing.model_groups.g[1]", "no provider named \"ghost\""),
        (#"{"fallbacks":{"gpt-4o":["claude"],"claude":["tiny"],"tiny":["gpt-4o"]}}"#, "routing.fallbacks", "fallback cycle"),
        (#"{"fallbacks":{"gpt-4o":["gpt-4o"]}}"#, "routing.fallbacks.gpt-4o[0]", "falls back to itself"),
        (#"{"context_window_fallbacks":{"tiny":["oa/claude"]}}"#, "routing.context_window_fallbacks.tiny[0]", "does not serve"),
        (#"{"lanes":{"a":{"aliases":["x"]},"b":{"aliases":["x"]}}}"#, "routing.lanes.b.aliases", "already an alias"),
        (#"{"lanes":{"a":{"colour":"red"}}}"#, "routing.lanes.a.colour", "unknown key"),
    ])
    func badRouting(_ routing: String, field: String, reason: String) throws {
        let e = try #require(configError(routing))
        #expect(e.status == .config)
        #expect(e.message.hasPrefix(field), "message: \(e.message)")
        #expect(e.message.contains(reason), "message: \(e.message)")
    }

    @Test("a negative weight and an unknown capability name their provider field")
    func badProviderFields() throws {
        for (provider, field) in [(#"{"name":"w","type":"mock","weight":-1}"#, "providers[0].weight"),
                                  (#"{"name":"w","type":"mock","capabilities":["telepathy"]}"#, "providers[0].capabilities[0]")] {
            do {
                _ = try RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(provider)]}"#), lookup: { _ in nil })
                Issue.record("accepted \(provider)")
            } catch let e as PMXError {
                #expect(e.status == .config)
                #expect(e.message.hasPrefix(field), "message: \(e.message)")
            }
        }
    }

    @Test("the fallback graph's cycle finder reports the loop")
    func cycleFinder() {
        #expect(RoutingConfig.findCycle(["a": ["b"], "b": ["c"]]) == nil)
        #expect(RoutingConfig.findCycle(["a": ["b"], "b": ["c", "a"]]) == ["a", "b", "a"])
    }

    @Test("per-class retry settings override the router's for that class only")
    func retryClasses() throws {
        var r = try FieldReader(JSONParser.parse(#"{"max_attempts":2,"retry_on":["rate_limited","timeout"],"classes":{"rate_limited":{"max_attempts":6,"initial_backoff_ms":1000}}}"#), path: "retry")
        let s = try RetrySettings().overlaid(with: &r)
        #expect(s.resolved(for: "rate_limited").maxAttempts == 6)
        #expect(s.resolved(for: "rate_limited").initialBackoffMs == 1000)
        #expect(s.resolved(for: "timeout").maxAttempts == 2)
        // retry_on replaces the built-in set: a 5xx (unavailable) is no longer retried.
        let e503 = PMXError(.upstreamServer, "x", httpStatus: 503)
        #expect(RetryPolicy.decide(e503, retryAfterMs: nil, attemptsOnProvider: 1, settings: s, random: 0.5) == .failover)
        let e429 = PMXError(.rateLimited, "x", httpStatus: 429)
        #expect(RetryPolicy.decide(e429, retryAfterMs: nil, attemptsOnProvider: 5, settings: s, random: 0.5) != .failover)
        #expect(RetryPolicy.decide(e429, retryAfterMs: nil, attemptsOnProvider: 6, settings: s, random: 0.5) == .failover)

        var bad = try FieldReader(JSONParser.parse(#"{"classes":{"sunspots":{}}}"#), path: "retry")
        #expect(throws: PMXError.self) { try RetrySettings().overlaid(with: &bad) }
    }
}

@Suite("RoutePlanner")
struct RoutePlannerTests {
    @Test("route.lane picks the lane; its deployments fix the models")
    func explicitLane() throws {
        let p = try planner(lanes)
        let got = try plan(p, #"{"messages":[{"role":"user","content":"x"}],"route":{"lane":"code"}}"#)
        #expect(got.lane == "code")
        #expect(got.picks == ["an:claude", "oa:gpt-4o"])
    }

    @Test("an unknown route.lane is an invalid request naming the lanes")
    func unknownLane() throws {
        let e = try #require(planError(try planner(lanes), #"{"messages":[{"role":"user","content":"x"}],"route":{"lane":"premium"}}"#))
        #expect(e.status == .invalidRequest)
        #expect(e.message.contains("route.lane") && e.message.contains("code"))
    }

    @Test("a model alias picks its lane; tags in route or metadata pick a tagged lane; else the default lane")
    func laneByAliasTagsDefault() throws {
        let p = try planner(lanes)
        #expect(try plan(p, #"{"model":"coder","messages":[{"role":"user","content":"x"}]}"#).lane == "code")
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}],"route":{"tags":["coding"]}}"#).lane == "code")
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}],"metadata":{"tags":"misc, coding"}}"#).lane == "code")
        let d = try plan(p, #"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#)
        #expect(d.lane == "chat")
        #expect(d.picks == ["oa:gpt-4o"])
        // An explicit "provider/model" or a model group is not narrowed by the default lane.
        let pinned = try plan(p, #"{"model":"an/claude","messages":[{"role":"user","content":"x"}]}"#)
        #expect(pinned.lane == nil && pinned.picks == ["an:claude"])
        #expect(try plan(p, #"{"model":"smart","messages":[{"role":"user","content":"x"}]}"#).picks == ["oa:gpt-4o", "an:claude"])
    }

    @Test("the local lane holds every local-type provider even when not configured")
    func localLane() throws {
        let p = try planner(#"{}"#)
        let got = try plan(p, #"{"max_tokens":10,"messages":[{"role":"user","content":"x"}],"route":{"lane":"local"}}"#)
        #expect(got.picks == ["oa:gpt-4o", "an:claude", "small:tiny", "any:default", "ol:llama3"])  // mock counts as local
    }

    @Test("a model group expands to its deployments")
    func modelGroup() throws {
        let p = try planner(lanes)
        #expect(try plan(p, #"{"model":"smart","messages":[{"role":"user","content":"x"}],"route":{"lane":"chat"}}"#).picks == ["oa:gpt-4o", "an:claude"])
    }

    @Test("capability filters drop providers that declare they cannot serve the request")
    func capabilities() throws {
        let p = try planner(#"{}"#)
        let tools = #"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#
        #expect(try plan(p, tools).picks == ["oa:gpt-4o", "an:claude", "any:default", "ol:llama3"])
        let vision = #"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:,"}}]}]}"#
        #expect(try plan(p, vision).picks == ["oa:gpt-4o", "any:default", "ol:llama3"])
        let json = #"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#
        #expect(try plan(p, json).picks == ["oa:gpt-4o", "any:default", "ol:llama3"])
        // context ≥ N: a prompt estimated above small's 100 tokens skips it.
        let long = String(repeating: "word ", count: 200)
        let big = #"{"model":"tiny","messages":[{"role":"user","content":"\#(long)"}]}"#
        let e = try #require(planError(p, big))
        #expect(e.status == .unsupported)
        #expect(e.message.contains("small context_length 100"))
        // route.min_context: only providers declaring at least that much.
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}],"route":{"min_context":150000}}"#).picks == ["an:claude"])
    }

    @Test("a spent budget routes to zero-cost providers (on_exceeded local) or fails (fail)")
    func budgets() throws {
        var p = try planner(#"{}"#)
        p.isZeroCost = { $0.name == "ol" }
        p.budgetAction = { _ in .local }
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}]}"#).picks == ["ol:llama3"])
        p.budgetAction = { _ in .fail }
        #expect(planError(p, #"{"messages":[{"role":"user","content":"x"}]}"#)?.status == .budgetExceeded)
        p.budgetAction = { _ in .local }
        p.isZeroCost = { _ in false }
        let e = try #require(planError(p, #"{"messages":[{"role":"user","content":"x"}]}"#))
        #expect(e.status == .budgetExceeded && e.message.contains("zero-cost"))
    }

    @Test("the lane's strategy orders its candidates; route.strategy overrides it")
    func laneStrategy() throws {
        var p = try planner(lanes)
        p.facts = { c, _ in var f = CandidateFacts(); f.costUSD = c.provider.name == "ol" ? 0 : 1; f.latencyMs = c.provider.name == "ol" ? 900 : 1; return f }
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}],"route":{"lane":"cheap"}}"#).picks == ["ol:llama3", "oa:gpt-4o-mini"])
        #expect(try plan(p, #"{"messages":[{"role":"user","content":"x"}],"route":{"lane":"cheap","strategy":"least_latency"}}"#).picks == ["oa:gpt-4o-mini", "ol:llama3"])
    }

    @Test("fallbacks: breadth-first from the tried names, skipping names with no candidate")
    func nextFallback() throws {
        let p = try planner(#"{"fallbacks":{"smart":["nowhere-model","tiny"]},"model_groups":{"smart":["oa/gpt-4o"]},"context_window_fallbacks":{"gpt-4o-mini":["claude"]}}"#)
        let needs = RequestNeeds()
        // "nowhere-model" resolves to the provider without a list ("any"), so it comes first.
        let first = try #require(p.nextFallback(.general, tried: ["smart"], failedModel: "gpt-4o", lane: nil, strategy: .priority, needs: needs, streaming: false))
        #expect(first.label == "nowhere-model")
        let second = try #require(p.nextFallback(.general, tried: ["smart", "nowhere-model"], failedModel: nil, lane: nil, strategy: .priority, needs: needs, streaming: false))
        #expect(second.label == "tiny" && second.candidates.map(\.provider.name) == ["small"])
        #expect(p.nextFallback(.general, tried: ["smart", "nowhere-model", "tiny"], failedModel: nil, lane: nil, strategy: .priority, needs: needs, streaming: false) == nil)
        // Context-window fallbacks are keyed by the model that failed.
        let ctx = try #require(p.nextFallback(.contextWindow, tried: [], failedModel: "gpt-4o-mini", lane: nil, strategy: .priority, needs: needs, streaming: false))
        #expect(ctx.label == "claude" && ctx.candidates.map(\.provider.name) == ["an"])
        #expect(p.nextFallback(.contentPolicy, tried: [], failedModel: "gpt-4o-mini", lane: nil, strategy: .priority, needs: needs, streaming: false) == nil)
    }
}
