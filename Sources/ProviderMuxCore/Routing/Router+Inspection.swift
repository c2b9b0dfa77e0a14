/// `models` and `health`: one request per provider, all concurrently on the loop; the caller
/// waits for every answer.
extension Router {
    struct ProbeResult {
        var status = 0
        var body: [UInt8] = []
        var failure: PMXError?
        var latencyMs = 0.0
    }

    /// GETs `{base_url}{path}` on every network provider at once; mock providers get no probe.
    private func probeAll(_ providers: [ProviderRuntime], path: String, timeoutMs: Int) -> [String: ProbeResult] {
        let lock = ConditionLock()
        var results: [String: ProbeResult] = [:]
        let targets = providers.filter { $0.config.type.usesNetwork }
        var remaining = targets.count
        guard remaining > 0 else { return [:] }
        loop.execute { [self] in
            for p in targets {
                let started = MonotonicClock.nanos()
                var result = ProbeResult()
                let request = HTTPRequest(method: "GET", url: p.config.baseURL + path,
                                          headers: OpenAIProtocol.headers(for: p.config, streaming: false),
                                          connectTimeoutMs: min(timeoutMs, p.config.timeouts(over: timeouts).connectMs),
                                          totalTimeoutMs: timeoutMs, maxResponseBytes: maxResponseBytes)
                let transfer = HTTPTransfer(request,
                    onHead: { head in result.status = head.status },
                    onBody: { chunk in result.body.append(contentsOf: chunk); return true },
                    onComplete: { failure in
                        if let failure { result.failure = HTTPErrorMapping.error(failure, provider: p.name) }
                        result.latencyMs = Double(MonotonicClock.nanos() - started) / 1_000_000
                        lock.withLock {
                            results[p.name] = result
                            remaining -= 1
                            lock.signal()
                        }
                    })
                transfer.start(on: loop)
            }
        }
        lock.lock()
        while remaining > 0 { lock.wait() }
        lock.unlock()
        return results
    }

    /// Every provider's models as an OpenAI list with `provider/model` ids.
    public func models() -> JSONValue {
        let all = providerSnapshot
        let asking = all.filter { $0.config.models == nil && $0.config.type.usesNetwork }
        let answers = probeAll(asking, path: "/models", timeoutMs: timeouts.healthMs)
        var data: [JSONValue] = []
        var errors: [JSONValue] = []
        for p in all {
            var ids: [String]
            if let listed = p.config.models {
                ids = listed
            } else if !p.config.type.usesNetwork {
                ids = [p.config.defaultModel ?? "mock"]
            } else {
                let a = answers[p.name] ?? ProbeResult()
                do {
                    if let f = a.failure { throw f }
                    guard a.status / 100 == 2 else { throw HTTPErrorMapping.error(status: a.status, body: a.body, provider: p.name) }
                    ids = try OpenAIProtocol.decodeModels(a.body, provider: p.name)
                } catch {
                    let e = error as? PMXError ?? PMXError(.internal, "\(error)")
                    errors.append(["provider": .string(p.name), "code": .int(Int64(e.status.rawValue)),
                                   "status_name": .string(e.status.nameString), "message": .string(e.message)])
                    continue
                }
            }
            for id in ids {
                data.append(["id": .string("\(p.name)/\(id)"), "object": "model", "owned_by": .string(p.name),
                             "provider": .string(p.name), "model": .string(id)])
            }
        }
        return ["object": "list", "data": .array(data), "errors": .array(errors)]
    }

    /// Probes every provider now (`GET {base_url}/models`); in-process providers are healthy.
    public func health() -> JSONValue {
        let all = providerSnapshot
        let answers = probeAll(all, path: "/models", timeoutMs: timeouts.healthMs)
        var list: [JSONValue] = []
        for p in all {
            var o = JSONObject()
            o["name"] = .string(p.name)
            o["type"] = .string(p.config.type.rawValue)
            guard p.config.type.usesNetwork, let a = answers[p.name] else {
                o["healthy"] = true
                o["latency_ms"] = 0
                o["http_status"] = 0
                list.append(.object(o))
                continue
            }
            let healthy = a.failure == nil && a.status / 100 == 2
            o["healthy"] = .bool(healthy)
            o["latency_ms"] = .double((a.latencyMs * 1000).rounded() / 1000)
            o["http_status"] = .int(Int64(a.status))
            if !healthy {
                let e = a.failure ?? HTTPErrorMapping.error(status: a.status, body: a.body, provider: p.name)
                o["error"] = .string(e.message)
            }
            list.append(.object(o))
        }
        return ["providers": .array(list)]
    }
}
