// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxAccounting
import MuxProviders

/// What a request needs from a provider, read off the request itself.
public struct RequestNeeds: Sendable, Equatable {
    public var capabilities: Set<Capability> = []
    /// Estimated prompt + expected output tokens (for context windows, rate limits and cost).
    public var estimatedTokens = 0
    public var promptTokens = 0
    public var outputTokens = 0
    /// `route.min_context`: a provider must declare at least this context window.
    public var minContext: Int?

    public init() {}

    public init(_ op: AttemptOperation) {
        switch op {
        case .chat(let r, _):
            if let tools = r.body["tools"]?.arrayValue, !tools.isEmpty { capabilities.insert(.tools) }
            if let rf = r.body["response_format"]?["type"]?.stringValue, rf == "json_object" || rf == "json_schema" {
                capabilities.insert(.jsonMode)
            }
            if Self.hasImage(r.body["messages"]) { capabilities.insert(.vision) }
            promptTokens = TokenEstimate.prompt(r)
            outputTokens = TokenEstimate.expectedOutput(r)
            minContext = r.route.minContext
        case .embed(let e):
            capabilities.insert(.embeddings)
            promptTokens = e.inputs.reduce(0) { $0.addingSaturated(($1.utf8.count + 3) / 4) }
            minContext = e.route.minContext
        case .call(let r, _):
            // About four bytes a token, as for embeddings; the output cap where the operation has one.
            promptTokens = (r.promptText.utf8.count + 3) / 4
            if let m = r.body["max_tokens"]?.intValue { outputTokens = Int(clamping: max(0, m)) }
            minContext = r.route.minContext
        }
        estimatedTokens = promptTokens.addingSaturated(outputTokens)
    }

    /// Any message part that carries an image (OpenAI `image_url`, Anthropic-style `image`, `input_image`).
    package static func hasImage(_ messages: JSONValue?) -> Bool {
        guard let list = messages?.arrayValue else { return false }
        for m in list {
            guard let parts = m["content"]?.arrayValue else { continue }
            for p in parts {
                if let t = p["type"]?.stringValue, t == "image_url" || t == "image" || t == "input_image" { return true }
            }
        }
        return false
    }

    /// Why `p` cannot serve this request, or nil.
    package func unmet(by p: ProviderConfig) -> String? {
        if let caps = p.capabilities {
            let missing = capabilities.subtracting(caps)
            if !missing.isEmpty { return "\(p.name) lacks \(missing.map(\.rawValue).sorted().joined(separator: ", "))" }
        }
        if let need = minContext {
            guard let have = p.contextLength else { return "\(p.name) declares no context_length (route.min_context is \(need))" }
            if have < need { return "\(p.name) context_length \(have) < route.min_context \(need)" }
        }
        if let have = p.contextLength, estimatedTokens > have {
            return "\(p.name) context_length \(have) < estimated \(estimatedTokens) tokens"
        }
        return nil
    }
}

/// A request's route: the lane it runs in, the strategy, and its candidates in order.
public struct RoutePlan {
    public var lane: String?
    public var strategy: StrategyKind
    /// The model or group name the request asked for (fallbacks are looked up by it).
    public var label: String?
    public var candidates: [RequestExecution.Candidate]
}

/// Turns a request into a `RoutePlan`: lane → pool of deployments → model resolution →
/// capability filter → budget → strategy order. Live state comes in through closures so that
/// every step is testable without a router.
public struct RoutePlanner {
    public var routing: RoutingConfig
    public var providers: [ProviderRuntime]
    /// What a strategy knows about a candidate right now.
    public var facts: (RequestExecution.Candidate, RequestNeeds) -> CandidateFacts = { _, _ in CandidateFacts() }
    /// The budget action in force for a lane (nil lane = router-wide only); nil = within budget.
    public var budgetAction: (String?) -> BudgetSettings.OnExceeded? = { _ in nil }
    /// Zero-cost providers: where a spent budget with `on_exceeded: local` still routes.
    public var isZeroCost: (ProviderRuntime) -> Bool = { $0.config.isLocal }
    /// Next round-robin turn for a route key.
    public var turn: (String) -> Int = { _ in 0 }
    public var random: () -> Double = { 0.5 }

    /// Fallback names looked up (without finding a candidate) per failover, at most.
    public static let maxFallbackLookups = 1000

    public init(routing: RoutingConfig, providers: [ProviderRuntime]) {
        self.routing = routing
        self.providers = providers
    }

    public func plan(model: String?, route: RouteOptions, tags: [String], needs: RequestNeeds, streaming: Bool) throws -> RoutePlan {
        var model = model
        let lane = try chooseLane(model: &model, route: route, tags: tags)
        let laneConfig = lane.flatMap { routing.lane(named: $0) }
        var pool = self.pool(lane: lane)
        pool = try CandidateResolver.restrict(pool, to: route.providers, all: providers, lane: lane)
        var candidates = try CandidateResolver.resolve(model: model, pool: pool, all: providers, groups: routing.modelGroups,
                                                       poolIsRestricted: lane != nil || route.providers != nil,
                                                       aliases: routing.lanes.flatMap(\.aliases))
        candidates = try filter(candidates, needs: needs, lane: lane)
        let strategy = route.strategy ?? laneConfig?.strategy ?? routing.strategy
        candidates = order(candidates, strategy: strategy, key: "\(lane ?? "")|\(model ?? "")", needs: needs, streaming: streaming)
        return RoutePlan(lane: lane, strategy: strategy, label: model, candidates: candidates)
    }

    /// Candidates for a fallback model or group, over every provider, filtered and ordered like the request's.
    public func fallbackCandidates(_ name: String, lane: String?, strategy: StrategyKind, needs: RequestNeeds,
                                   streaming: Bool) -> [RequestExecution.Candidate] {
        let pool = providers.map { ($0, nil as String?) }
        guard let found = try? CandidateResolver.resolve(model: name, pool: pool, all: providers, groups: routing.modelGroups),
              let kept = try? filter(found, needs: needs, lane: lane) else { return [] }
        return order(kept, strategy: strategy, key: "fallback|\(name)", needs: needs, streaming: streaming)
    }

    /// The next fallback after `tried` (breadth-first over the kind's map from everything tried,
    /// and from the model that failed last), with candidates; nil when none is left.
    public func nextFallback(_ kind: FallbackKind, tried: [String], failedModel: String?, lane: String?,
                             strategy: StrategyKind, needs: RequestNeeds, streaming: Bool)
        -> (label: String, candidates: [RequestExecution.Candidate])?
    {
        let map: [String: [String]] = switch kind {
        case .general: routing.fallbacks
        case .contextWindow: routing.contextWindowFallbacks
        case .contentPolicy: routing.contentPolicyFallbacks
        }
        guard !map.isEmpty else { return nil }
        var queue = tried + (failedModel.map { [$0] } ?? [])
        var seen = Set(queue)
        var i = 0
        var lookups = 0
        while i < queue.count {
            for next in map[queue[i]] ?? [] where !seen.contains(next) {
                // Each lookup resolves over every provider: a chain of thousands of names that
                // resolve to nothing must not make one failover cost millions of steps.
                lookups += 1
                if lookups > Self.maxFallbackLookups { return nil }
                seen.insert(next)
                queue.append(next)
                let c = fallbackCandidates(next, lane: lane, strategy: strategy, needs: needs, streaming: streaming)
                if !c.isEmpty { return (next, c) }
            }
            i += 1
        }
        return nil
    }

    /// `route.lane`, else a lane whose alias is the model (the model is then the lane's), else a
    /// lane tagged with one of the request's tags, else the default lane, else none (every provider).
    package func chooseLane(model: inout String?, route: RouteOptions, tags: [String]) throws -> String? {
        if let name = route.lane {
            guard routing.laneNames.contains(name) else {
                throw PMXError(.invalidRequest, "route.lane: unknown lane \"\(name)\" (lanes: \(routing.laneNames.joined(separator: ", ")))")
            }
            return name
        }
        if let m = model, let lane = routing.lanes.first(where: { $0.aliases.contains(m) }) {
            model = nil
            return lane.name
        }
        if !tags.isEmpty, let lane = routing.lanes.first(where: { l in l.tags.contains(where: tags.contains) }) {
            return lane.name
        }
        // A model that names its own deployments (a group, or "provider/model" of a known
        // provider) is explicit enough: the default lane does not narrow it.
        if let m = model {
            if routing.modelGroups[m] != nil { return nil }
            if let slash = m.firstSlash, providers.contains(where: { $0.name == m[..<slash] }) { return nil }
        }
        return routing.defaultLane
    }

    /// The deployments a lane may use. `local` (configured or not) also takes every local-type
    /// and discovered provider.
    package func pool(lane: String?) -> [CandidateResolver.PoolEntry] {
        guard let lane else { return providers.map { ($0, nil) } }
        var entries: [CandidateResolver.PoolEntry]
        if let deployments = routing.lane(named: lane)?.deployments {
            let byName = CandidateResolver.index(providers)
            entries = deployments.compactMap { d in
                byName[d.provider].map { ($0, d.model) }  // removed providers drop out
            }
        } else if lane == RoutingConfig.localLane {
            entries = []
        } else {
            entries = providers.map { ($0, nil) }
        }
        if lane == RoutingConfig.localLane {
            var present = Set(entries.map { ObjectIdentifier($0.provider) })
            for p in providers where p.config.isLocal && present.insert(ObjectIdentifier(p)).inserted {
                entries.append((p, nil))
            }
        }
        return entries
    }

    /// Drops candidates that cannot serve the request, then applies the budgets.
    package func filter(_ candidates: [RequestExecution.Candidate], needs: RequestNeeds, lane: String?) throws -> [RequestExecution.Candidate] {
        var reasons: [String] = []
        var kept = candidates.filter { c in
            guard let why = needs.unmet(by: c.provider.config) else { return true }
            reasons.append(why)
            return false
        }
        if kept.isEmpty && !candidates.isEmpty {
            throw PMXError(.unsupported, "no provider on this route can serve the request: " + reasons.joined(separator: "; "))
        }
        if let action = budgetAction(lane) {
            let scope = lane.map { "lane \"\($0)\"" } ?? "the router"
            switch action {
            case .fail:
                throw PMXError(.budgetExceeded, "the budget of \(scope) is spent for the current window")
            case .local:
                kept = kept.filter { isZeroCost($0.provider) }
                if kept.isEmpty {
                    throw PMXError(.budgetExceeded, "the budget of \(scope) is spent and no zero-cost (local) provider can serve the request")
                }
                Log.info("budget of \(scope) spent: routing to zero-cost providers only")
            }
        }
        return kept
    }

    /// `key` is built only for a round-robin turn (its interpolation cost ~600 instructions
    /// on every request, most of which have one candidate).
    package func order(_ candidates: [RequestExecution.Candidate], strategy: StrategyKind, key: @autoclosure () -> String,
                       needs: RequestNeeds, streaming: Bool) -> [RequestExecution.Candidate] {
        guard candidates.count > 1 else { return candidates }
        let facts = candidates.map { self.facts($0, needs) }
        let turn = strategy == .roundRobin ? self.turn(key()) : 0
        return StrategySelector.order(strategy, facts: facts, turn: turn, exploration: routing.exploration,
                                      streaming: streaming, random: random).map { candidates[$0] }
    }
}
