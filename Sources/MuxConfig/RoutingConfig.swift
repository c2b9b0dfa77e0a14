// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// How a route orders its candidates. Set per router or lane in config and per request in `route.strategy`.
public enum StrategyKind: String, Sendable, CaseIterable {
    /// The configured order: a failover chain.
    case priority
    /// Rotates the starting provider request by request.
    case roundRobin = "round_robin"
    /// Random order drawn by provider `weight`.
    case weighted
    /// Fastest first by EWMA of latency (time to first token for streams), with some exploration.
    case leastLatency = "least_latency"
    /// Cheapest first by the pricing table and the request's estimated tokens.
    case lowestCost = "lowest_cost"
    /// Fewest in-flight attempts first.
    case leastBusy = "least_busy"

    static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }

    package static func parse(_ r: inout FieldReader, _ key: String) throws -> StrategyKind? {
        guard let s = try r.string(key) else { return nil }
        guard let k = StrategyKind(rawValue: s) else { throw r.fail(key, "unknown strategy \"\(s)\" (available: \(list))") }
        return k
    }
}

/// One place a request can go: a provider, optionally with the model it must be asked for.
/// Written `"provider"` or `"provider/model"` in config.
public struct Deployment: Sendable, Equatable {
    public var provider: String
    public var model: String?

    public init(provider: String, model: String?) { self.provider = provider; self.model = model }

    /// Parses `"name"` / `"name/model"`; the provider must exist.
    package static func parse(_ text: String, field: String, providers: Set<String>) throws -> Deployment {
        let d: Deployment
        if let slash = text.firstIndex(of: "/") {
            let model = String(text[text.index(after: slash)...])
            d = Deployment(provider: String(text[..<slash]), model: model.isEmpty ? nil : model)
        } else {
            d = Deployment(provider: text, model: nil)
        }
        guard providers.contains(d.provider) else {
            // Names the first few only: a router may have thousands.
            let some = providers.sorted().prefix(20).joined(separator: ", ") + (providers.count > 20 ? ", …" : "")
            throw PMXError(.config, "\(field): no provider named \"\(d.provider)\" (providers: \(some))")
        }
        return d
    }
}

/// What a request needs from a provider; providers that declare capabilities and lack one are dropped.
public enum Capability: String, Sendable, CaseIterable {
    case tools, vision, jsonMode = "json_mode", embeddings
    package static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A named route: its own providers (or every provider), strategy and budget.
public struct LaneConfig: Sendable {
    public var name: String
    /// nil: every provider of the router (for `local`: every local-type and discovered provider).
    public var deployments: [Deployment]?
    public var strategy: StrategyKind?
    /// A request whose `route.tags` / `metadata.tags` holds one of these goes to this lane.
    public var tags: [String] = []
    /// A request whose `model` is one of these goes to this lane (each deployment uses its own model).
    public var aliases: [String] = []
    public var budget: BudgetSettings?
}

/// The `routing` section: strategies, lanes, model groups and fallbacks. Replaceable at run time
/// (`Router.updateRouting`) while requests are in flight: each request keeps the routing it started with.
public struct RoutingConfig: Sendable {
    public var strategy = StrategyKind.priority
    /// least_latency: probability of trying a random other candidate first, so a recovered or
    /// new provider gets measured.
    public var exploration = 0.05
    /// Seeds the router's random choices (weighted, exploration) for reproducible runs.
    public var seed: UInt64?
    public var defaultLane: String?
    public var lanes: [LaneConfig] = []
    /// Public name → deployments (a group of one is an alias).
    public var modelGroups: [String: [Deployment]] = [:]
    /// Model or group → models or groups tried after every candidate failed.
    public var fallbacks: [String: [String]] = [:]
    /// … after context_length_exceeded (a larger-context model).
    public var contextWindowFallbacks: [String: [String]] = [:]
    /// … after content_filtered.
    public var contentPolicyFallbacks: [String: [String]] = [:]

    public init() {}

    public func lane(named name: String) -> LaneConfig? { lanes.first { $0.name == name } }

    /// The lane `local` always exists: configured, or implicitly every local-type provider.
    public static let localLane = "local"

    /// Parses `routing` (without the `order` key, which the router config applies to the provider list).
    /// Deployments must name one of `providerConfigs`.
    public static func parse(_ r: inout FieldReader, providerConfigs: [ProviderConfig]) throws -> RoutingConfig {
        // Sets and one pass over each object's members (JSONObject lookups are linear): a routing
        // section for 10,000 providers parses in linear time.
        let providers = Set(providerConfigs.map(\.name))
        var c = RoutingConfig()
        if let s = try StrategyKind.parse(&r, "strategy") { c.strategy = s }
        if let e = try r.double("exploration", min: 0, max: 1) { c.exploration = e }
        if let s = try r.int("seed", min: 0, max: Int64.max) { c.seed = UInt64(s) }

        if let groups = try r.object("model_groups") {
            for m in groups.object.members {
                let key = m.key
                let field = groups.fieldPath(key)
                guard let list = m.value.arrayValue, !list.isEmpty else {
                    throw PMXError(.config, "\(field): expected a non-empty array of \"provider\" or \"provider/model\"")
                }
                c.modelGroups[key] = try list.enumerated().map { i, v in
                    guard let s = v.stringValue, !s.isEmpty else { throw PMXError(.config, "\(field)[\(i)]: expected \"provider/model\"") }
                    return try Deployment.parse(s, field: "\(field)[\(i)]", providers: providers)
                }
            }
        }

        if let lanes = try r.object("lanes") {
            for m in lanes.object.members {
                let name = m.key
                var l = try FieldReader(m.value, path: lanes.fieldPath(name))
                var lane = LaneConfig(name: name)
                if let list = try l.stringArray("providers") {
                    guard !list.isEmpty else { throw l.fail("providers", "must not be empty (omit it for every provider)") }
                    lane.deployments = try list.enumerated().map { i, s in
                        try Deployment.parse(s, field: "\(l.fieldPath("providers"))[\(i)]", providers: providers)
                    }
                }
                lane.strategy = try StrategyKind.parse(&l, "strategy")
                lane.tags = try l.stringArray("tags") ?? []
                lane.aliases = try l.stringArray("aliases") ?? []
                if var b = try l.object("budget") { lane.budget = try BudgetSettings.parse(&b) }
                try l.finish()
                c.lanes.append(lane)
            }
        }
        // An alias must mean one thing.
        var aliasOwner: [String: String] = [:]
        for lane in c.lanes {
            for a in lane.aliases {
                if let other = aliasOwner[a] {
                    throw PMXError(.config, "routing.lanes.\(lane.name).aliases: \"\(a)\" is already an alias of lane \"\(other)\"")
                }
                if c.modelGroups[a] != nil {
                    throw PMXError(.config, "routing.lanes.\(lane.name).aliases: \"\(a)\" is also a model group")
                }
                aliasOwner[a] = lane.name
            }
        }

        if let d = try r.string("default_lane") {
            guard d == localLane || c.lane(named: d) != nil else {
                throw r.fail("default_lane", "unknown lane \"\(d)\" (lanes: \(c.laneNames.joined(separator: ", ")))")
            }
            c.defaultLane = d
        }

        c.fallbacks = try parseFallbacks(&r, "fallbacks")
        c.contextWindowFallbacks = try parseFallbacks(&r, "context_window_fallbacks")
        c.contentPolicyFallbacks = try parseFallbacks(&r, "content_policy_fallbacks")
        try c.validateFallbackTargets(providers: providerConfigs)
        return c
    }

    /// Every lane name a request may pick, `local` included.
    public var laneNames: [String] {
        var names = lanes.map(\.name)
        if !names.contains(Self.localLane) { names.append(Self.localLane) }
        return names
    }

    /// `{"model-or-group": ["model-or-group", …]}`; a cycle (a → b → a) is an error naming it.
    private static func parseFallbacks(_ r: inout FieldReader, _ key: String) throws -> [String: [String]] {
        guard let o = try r.object(key) else { return [:] }
        var map: [String: [String]] = [:]
        for m in o.object.members {
            let from = m.key
            let field = o.fieldPath(from)
            guard let list = m.value.arrayValue else { throw PMXError(.config, "\(field): expected an array of model or group names") }
            map[from] = try list.enumerated().map { i, v in
                guard let s = v.stringValue, !s.isEmpty else { throw PMXError(.config, "\(field)[\(i)]: expected a model or group name") }
                guard s != from else { throw PMXError(.config, "\(field)[\(i)]: \"\(s)\" falls back to itself") }
                return s
            }
        }
        if let cycle = findCycle(map) {
            throw PMXError(.config, "routing.\(key): fallback cycle \(cycle.joined(separator: " → "))")
        }
        return map
    }

    /// A path that returns to its start, or nil. Depth-first over the fallback graph, with an
    /// explicit stack: a chain of a million entries must not overflow the thread's stack.
    package static func findCycle(_ graph: [String: [String]]) -> [String]? {
        var state: [String: Int] = [:]  // 1 = on the current path, 2 = done
        var path: [String] = []
        var onPathAt: [String: Int] = [:]
        var stack: [(node: String, next: Int)] = []
        for root in graph.keys.sorted() where state[root] == nil {
            state[root] = 1; onPathAt[root] = 0; path.append(root)
            stack.append((root, 0))
            while let top = stack.last {
                let edges = graph[top.node] ?? []
                if top.next < edges.count {
                    stack[stack.count - 1].next += 1
                    let n = edges[top.next]
                    switch state[n] {
                    case 2?: continue
                    case 1?: return Array(path[onPathAt[n]!...]) + [n]
                    default:
                        state[n] = 1; onPathAt[n] = path.count; path.append(n)
                        stack.append((n, 0))
                    }
                } else {
                    state[top.node] = 2; onPathAt[top.node] = nil; path.removeLast()
                    stack.removeLast()
                }
            }
        }
        return nil
    }

    /// A fallback must lead somewhere: a model group, `provider/model` of a configured provider, or a
    /// model that some provider lists or could serve (one without a `models` list).
    private func validateFallbackTargets(providers: [ProviderConfig]) throws {
        // Indexed once (names, every listed model, whether some provider serves any model), so
        // that a chain of thousands over thousands of providers is not checked pairwise.
        var byName: [String: ProviderConfig] = [:]
        var listed = Set<String>()
        var anyModel = false
        for p in providers {
            byName[p.name] = p
            if let models = p.models { listed.formUnion(models) } else { anyModel = true }
        }
        for (key, map) in [("fallbacks", fallbacks), ("context_window_fallbacks", contextWindowFallbacks),
                           ("content_policy_fallbacks", contentPolicyFallbacks)] {
            for from in map.keys.sorted() {
                for (i, t) in map[from]!.enumerated() where modelGroups[t] == nil {
                    if let slash = t.firstIndex(of: "/"), let p = byName[String(t[..<slash])] {
                        let model = String(t[t.index(after: slash)...])
                        if p.serves(model) { continue }
                        throw PMXError(.config, "routing.\(key).\(from)[\(i)]: provider \"\(p.name)\" does not serve model \"\(model)\"")
                    }
                    guard anyModel || listed.contains(t) else {
                        throw PMXError(.config, "routing.\(key).\(from)[\(i)]: no provider serves \"\(t)\" and no model group has that name")
                    }
                }
            }
        }
    }
}
