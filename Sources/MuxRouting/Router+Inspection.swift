// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxAccounting
import MuxProviders

/// `models` and `health`: one request per provider, all concurrently on the loop; the caller
/// waits for every answer.
extension Router {
    /// Probes in flight at once per `health` / `models` call: 10,000 network providers must not
    /// open 10,000 sockets at once (file-descriptor limits, a connection storm on one host).
    /// A finished probe starts the next, so the whole call takes about
    /// ceil(n / maxConcurrentProbes) probe times at worst.
    package static let maxConcurrentProbes = 64

    /// Makes each provider's call (from its codec), at most `maxConcurrentProbes` at a time;
    /// providers without one get no probe. Blocks the caller (never the loop thread) until every
    /// answer is in; the caller is woken once, when the last one is.
    private func probeAll(_ providers: [ProviderRuntime], timeoutMs: Int, caller: String,
                          call: @escaping (any WireCodec, ProviderConfig) -> ProviderHTTPCall?) throws -> [String: ExchangeAnswer] {
        guard !providers.isEmpty else { return [:] }
        return try ProviderExchange.wait(caller: caller, on: loop) { [self] (waiter: ExchangeWaiter<[String: ExchangeAnswer]>) in
            // Loop thread only, until `finish` hands them to the caller.
            var results: [String: ExchangeAnswer] = [:]
            var next = 0
            var remaining = providers.count
            // A probe that completes at once (no call for this type) re-enters `launch` from inside
            // it: the outer loop carries on instead, so the stack never grows with the provider count.
            var launching = false
            func launch() {
                if launching { return }
                launching = true
                defer { launching = false }
                while next < providers.count && (next - (providers.count - remaining)) < Self.maxConcurrentProbes {
                    let p = providers[next]
                    next += 1
                    startProbe(p, timeoutMs: timeoutMs, call: call) { answer in
                        if let answer { results[p.name] = answer }
                        remaining -= 1
                        if remaining == 0 {
                            waiter.finish(.success(results))
                        } else {
                            launch()
                        }
                    }
                }
            }
            launch()
            return nil
        }
    }

    /// One probe on the loop thread; `done` gets nil when the provider type has no such call.
    package func startProbe(_ p: ProviderRuntime, timeoutMs: Int, call: (any WireCodec, ProviderConfig) -> ProviderHTTPCall?,
                    done: @escaping (ExchangeAnswer?) -> Void) {
        guard let codec = p.codec, let c = call(codec, p.config) else {
            done(nil)
            return
        }
        let limits = ExchangeLimits(connectMs: min(timeoutMs, p.config.timeouts(over: timeouts).connectMs), totalMs: timeoutMs,
                                    maxResponseBytes: maxResponseBytes, tls: p.config.tls)
        ProviderExchange.start(c, limits, provider: p.name, on: loop, done: done)
    }

    /// The health monitor's probe (loop thread): the provider's health call, healthy on a 2xx.
    package func probeHealth(_ p: ProviderRuntime, done: @escaping (Bool, Double, String?) -> Void) {
        startProbe(p, timeoutMs: timeouts.healthMs, call: { codec, c in codec.healthCall(provider: c) }) { [self] answer in
            guard let a = answer else { done(true, 0, nil); return }  // nothing to probe: assume able
            let error = self.verdict(p, a)
            done(error == nil, a.latencyMs, error?.message)
        }
    }

    /// nil when healthy (a 2xx); else why not, in the codec's words.
    private func verdict(_ p: ProviderRuntime, _ a: ExchangeAnswer) -> PMXError? {
        a.error(mappedBy: p.codec, provider: p.config)
    }

    /// Every provider's models as an OpenAI list with `provider/model` ids, filtered by `query`
    /// (see `ModelQuery`). A provider that publishes prices (OpenRouter) has them learnt from
    /// its answer (`cost_usd` of later requests) and shown as each model's `pricing`.
    public func models(_ query: ModelQuery = ModelQuery()) throws -> JSONValue {
        try refuseOnIOThread("pmx_router_models")
        var all = providerSnapshot
        if let only = query.provider {
            all = all.filter { $0.name == only }
            guard !all.isEmpty else { throw PMXError(.providerNotFound, "query.provider: no provider named \"\(only)\"") }
        }
        let asking = all.filter { $0.config.models == nil && $0.config.type.usesNetwork }
        let answers = try probeAll(asking, timeoutMs: timeouts.healthMs, caller: "pmx_router_models") { codec, p in codec.modelsCall(provider: p) }
        var data: [JSONValue] = []
        var errors: [JSONValue] = []
        for p in all {
            var infos: [ModelInfo]
            if let listed = p.config.models {
                infos = listed.map { ModelInfo(id: $0) }
            } else if let codec = p.codec {
                let a = answers[p.name] ?? ExchangeAnswer(failure: PMXError(.unsupported, "the provider type has no model list", provider: p.name))
                do {
                    if let e = a.error(mappedBy: codec, provider: p.config) { throw e }
                    infos = try codec.decodeModels(a.body, provider: p.config)
                    if let listed = p.listedPrices { Self.learnPrices(p, listed, from: a.body) }
                } catch {
                    let e = error as? PMXError ?? PMXError(.internal, "\(error)")
                    var o = JSONObject()
                    o["provider"] = .string(p.name)
                    PMXError.writeStatus(e.status, into: &o)
                    o["message"] = .string(e.message)
                    errors.append(.object(o))
                    continue
                }
            } else {
                infos = [ModelInfo(id: p.config.defaultModel ?? "mock", capabilities: ["chat", "embeddings"])]
            }
            for info in infos {
                let id = "\(p.name)/\(info.id)"
                guard query.matches(id: id, name: info.details["name"]?.stringValue) else { continue }
                var m = JSONObject()
                m["id"] = .string(id)
                m["object"] = "model"
                m["owned_by"] = .string(p.name)
                m["provider"] = .string(p.name)
                m["model"] = .string(info.id)
                if let ctx = info.contextLength { m["context_length"] = .int(Int64(ctx)) }
                if !info.capabilities.isEmpty { m["capabilities"] = .array(info.capabilities.map { .string($0) }) }
                if !info.details.isEmpty { m["details"] = .object(info.details) }
                if let price = p.listedPrices?.price(info.id) { m["pricing"] = price.json() }
                data.append(.object(m))
            }
        }
        return ["object": "list", "data": .array(data), "errors": .array(errors)]
    }

    /// Probes every provider now (`GET {base_url}/models`); in-process providers are healthy.
    public func health() throws -> JSONValue {
        try refuseOnIOThread("pmx_router_health")
        let all = providerSnapshot
        let answers = try probeAll(all, timeoutMs: timeouts.healthMs, caller: "pmx_router_health") { codec, p in codec.healthCall(provider: p) }
        // The breakers grouped by provider once (not a scan of every breaker per provider).
        var circuitsByProvider: [String: [(SeriesKey, CircuitBreaker)]] = [:]
        for (key, b) in breakerStates() { circuitsByProvider[key.provider, default: []].append((key, b)) }
        let sharedView = sharedPolicyView(all, circuits: circuitsByProvider)
        var list: [JSONValue] = []
        list.reserveCapacity(all.count)
        for p in all {
            var o = JSONObject()
            o["name"] = .string(p.name)
            o["type"] = .string(p.config.type.rawValue)
            guard p.config.type.usesNetwork else {  // in-process: always able to answer
                o["healthy"] = true
                o["latency_ms"] = 0
                o["http_status"] = 0
                addPolicyState(p, circuits: circuitsByProvider[p.name] ?? [], sharedView: sharedView, to: &o)
                list.append(.object(o))
                continue
            }
            guard let a = answers[p.name] else {
                o["healthy"] = false
                o["http_status"] = 0
                o["error"] = "this provider type has no health probe"
                addPolicyState(p, circuits: circuitsByProvider[p.name] ?? [], sharedView: sharedView, to: &o)
                list.append(.object(o))
                continue
            }
            let error = verdict(p, a)
            o["healthy"] = .bool(error == nil)
            o["latency_ms"] = .double((a.latencyMs * 1000).rounded() / 1000)
            o["http_status"] = .int(Int64(a.status))
            if let e = error {
                o["error"] = .string(e.message)
                o["error_class"] = .string(e.status.errorClass)
            }
            addPolicyState(p, circuits: circuitsByProvider[p.name] ?? [], sharedView: sharedView, to: &o)
            list.append(.object(o))
        }
        var doc = JSONObject()
        doc["providers"] = .array(list)
        if let s = sharedJSON(probe: true) { doc["shared"] = s }
        return .object(doc)
    }

    /// Circuit breakers (per model), rate limits, the periodic monitor's last verdict, discovery.
    /// With shared state, `state_source` says where circuits and rate limits were read: "shared"
    /// (Redis, `sharedView` holds them) or "local" (Redis did not answer: the local state, which
    /// admission uses while degraded).
    package func addPolicyState(_ p: ProviderRuntime, circuits mine: [(SeriesKey, CircuitBreaker)], sharedView: [String: PolicyJSON]?,
                                to o: inout JSONObject) {
        if let view = sharedView?[p.name] {
            o["state_source"] = "shared"
            o["circuits"] = view.circuits
            o["rate_limit"] = view.rateLimit
        } else {
            if shared != nil { o["state_source"] = "local" }
            let now = MonotonicClock.nanos()
            var circuits = JSONObject()
            for (key, b) in mine.sorted(by: { $0.0.model < $1.0.model }) {
                circuits.appendUnchecked(key.model, b.json(nowNs: now))  // keys are distinct
            }
            o["circuits"] = .object(circuits)
            o["rate_limit"] = p.limiter.json(nowNs: now)
        }
        if let r = healthMonitor?.record(for: p.name) {
            var m = JSONObject()
            m["healthy"] = .bool(r.healthy)
            m["consecutive_failures"] = .int(Int64(r.consecutiveFailures))
            m["latency_ms"] = .double((r.latencyMs * 1000).rounded() / 1000)
            if let e = r.error { m["error"] = .string(e) }
            m["next_probe_in_ms"] = .double(r.nextProbeInMs.rounded())
            o["monitor"] = .object(m)
        }
        if p.config.discovered { o["discovered"] = true }
    }
}
