// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols
import MuxProviders
import Synchronization

/// A server that answered AS the expected kind (see `ServerIdentification`).
public struct DiscoveredServer: Sendable, Equatable {
    public var kind: LocalServerKind
    /// The server root as probed.
    public var baseURL: String
    public var models: [String]
    /// Ollama's /api/version, when known.
    public var version: String?
    /// The provider name the router registers it under: "<kind>-<port>", e.g. "ollama-11434"
    /// (see `DiscoveryService.providerNames(for:)` for the suffix of clashing targets).
    public var providerName: String

    public init(kind: LocalServerKind, baseURL: String, models: [String], version: String? = nil, providerName: String) {
        self.kind = kind
        self.baseURL = baseURL
        self.models = models
        self.version = version
        self.providerName = providerName
    }

    /// A provider for it: its kind's type, base_url = the root for Ollama (native API) and
    /// root + "/v1" for LM Studio and llama.cpp (OpenAI-compatible codecs), models = the list.
    public func providerConfig() -> ProviderConfig {
        let type = kind.providerType
        return ProviderConfig(name: providerName, type: type, baseURL: kind == .ollama ? baseURL : baseURL + "/v1",
                              apiKey: nil, models: models, defaultModel: nil,
                              headers: type.defaults.headers,
                              retryOverride: nil, timeoutsOverride: nil, mock: nil)
    }
}

/// Probes the configured targets on the router's event loop and reports the servers that
/// identified as their kind. All probing state lives on the loop thread; callbacks run there.
public final class DiscoveryService: @unchecked Sendable {
    /// A probe answer body larger than this is not a model list (and fails the probe).
    package static let maxBodyBytes = 4 << 20

    public let settings: DiscoverySettings
    private let loop: EventLoop
    private let onUpdate: ([DiscoveredServer]) -> Void
    /// Per target (same index), fixed at init so a server keeps its name whatever else is up.
    private let names: [String]
    private let stopped = Atomic<Bool>(false)
    private let latest = Locked<[DiscoveredServer]>([])

    // Loop-thread state.
    private struct ListCache {
        var fetchedNs: UInt64
        var answers: ServerIdentification.Answers
    }
    private var listCache: [Int: ListCache] = [:]
    private var timer: UInt64?
    private var started = false
    private var delivered: [DiscoveredServer]?

    public init(loop: EventLoop, settings: DiscoverySettings, onUpdate: @escaping ([DiscoveredServer]) -> Void) {
        self.loop = loop
        self.settings = settings
        self.onUpdate = onUpdate
        self.names = Self.providerNames(for: settings.targets)
    }

    /// Provider names per target: "<kind>-<port>" (the URL's port, or 80/443); a name already
    /// taken by an earlier target (same kind and port on another host or path) gets "-2", "-3"….
    public static func providerNames(for targets: [DiscoveryTarget]) -> [String] {
        var taken = Set<String>()
        return targets.map { t in
            let base = "\(t.kind.rawValue)-\(LocalURL(t.baseURL)?.port ?? t.kind.defaultPort)"
            var name = base
            var n = 2
            while taken.contains(name) {
                name = "\(base)-\(n)"
                n += 1
            }
            taken.insert(name)
            return name
        }
    }

    /// The servers found by the latest finished round (any thread).
    public var servers: [DiscoveredServer] { latest.withLock { $0 } }

    /// Probes every target now (concurrently), then calls `onUpdate` on the loop thread with the
    /// full list; then re-probes every `intervalMs` (0: never), calling `onUpdate` again only
    /// when the list changed. A failed target is simply tried again next round. Any thread;
    /// a second call does nothing.
    public func start() {
        loop.execute { [self] in
            guard !started, !stopped.load(ordering: .relaxed) else { return }
            started = true
            round(first: true)
        }
    }

    /// Blocking: probes every target now and returns what identified. Updates `servers` but
    /// does not call `onUpdate`. Bounded by the probe timeouts: a refused port answers at once,
    /// a silent one after `timeoutMs`; a server that answers its first probe and then stalls on
    /// the model list can take up to 2 × `timeoutMs`. Must not be called on the loop thread
    /// (it would wait for itself): there it returns `servers` without probing.
    public func probeNow() -> [DiscoveredServer] {
        if loop.isOnLoopThread { return servers }
        let waiter = ExchangeWaiter<[DiscoveredServer]>()
        loop.execute { [self] in runRound { waiter.finish(.success($0)) } }
        return (try? waiter.wait().get()) ?? []
    }

    /// Cancels the timer; no `onUpdate` after this returns on the loop thread (from another
    /// thread: none after the loop gets to it). Idempotent.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        if loop.isOnLoopThread {
            cancelTimer()
        } else {
            loop.execute { [self] in cancelTimer() }
        }
    }

    private func cancelTimer() {
        if let t = timer { loop.cancelTimer(t); timer = nil }
    }

    // MARK: rounds (loop thread)

    private func round(first: Bool) {
        runRound { [weak self] found in
            guard let self, !self.stopped.load(ordering: .relaxed) else { return }
            if first || found != self.delivered {
                self.delivered = found
                self.onUpdate(found)
            }
            if self.settings.intervalMs > 0, !self.stopped.load(ordering: .relaxed) {
                self.timer = self.loop.schedule(afterMs: Double(self.settings.intervalMs)) { [weak self] in
                    guard let self else { return }
                    self.timer = nil
                    if !self.stopped.load(ordering: .relaxed) { self.round(first: false) }
                }
            }
        }
    }

    /// Probes all targets concurrently; `done` gets the identified ones in target order.
    private func runRound(_ done: @escaping ([DiscoveredServer]) -> Void) {
        let targets = settings.targets
        guard !targets.isEmpty else {
            latest.withLock { $0 = [] }
            done([])
            return
        }
        var found = [DiscoveredServer?](repeating: nil, count: targets.count)
        var remaining = targets.count
        for i in targets.indices {
            probeTarget(i) { [self] server in
                found[i] = server
                remaining -= 1
                if remaining == 0 {
                    let list = found.compactMap { $0 }
                    latest.withLock { $0 = list }
                    done(list)
                }
            }
        }
    }

    /// Identity paths every time; list paths only when the cached list is older than the TTL.
    private func probeTarget(_ i: Int, _ done: @escaping (DiscoveredServer?) -> Void) {
        let target = settings.targets[i]
        let kind = target.kind
        fetch(target.baseURL, ServerIdentification.identityPaths(for: kind), stopAtFailure: true) { [self] identity, ok in
            guard ok, ServerIdentification.identityHolds(kind, answers: identity) else {
                listCache[i] = nil
                done(nil)
                return
            }
            let now = loop.nowNs
            let listPaths = ServerIdentification.listPaths(for: kind)
            let finish = { [self] (lists: ServerIdentification.Answers) in
                let answers = identity.merging(lists) { a, _ in a }
                guard ServerIdentification.identify(kind, answers: answers) else {
                    listCache[i] = nil
                    done(nil)
                    return
                }
                done(DiscoveredServer(kind: kind, baseURL: target.baseURL, models: ServerIdentification.models(kind, answers: answers),
                                      version: ServerIdentification.version(kind, answers: answers), providerName: names[i]))
            }
            if let cached = listCache[i], now &- cached.fetchedNs < SafeNumbers.nanos(ms: settings.modelsTTLMs) {
                finish(cached.answers)
                return
            }
            fetch(target.baseURL, listPaths, stopAtFailure: false) { [self] lists, allOK in
                // Only a complete listing is worth reusing; a failed one is retried next round.
                if allOK && !listPaths.isEmpty { listCache[i] = ListCache(fetchedNs: now, answers: lists) }
                finish(lists)
            }
        }
    }

    /// GETs `paths` one after the other. `ok` = every path answered 200.
    private func fetch(_ base: String, _ paths: [String], stopAtFailure: Bool, from k: Int = 0,
                       into answers: ServerIdentification.Answers = [:], allOK: Bool = true,
                       _ done: @escaping (ServerIdentification.Answers, Bool) -> Void) {
        guard k < paths.count, allOK || !stopAtFailure else {
            done(answers, allOK)
            return
        }
        get(base + paths[k]) { [self] answer in
            var answers = answers
            if let answer { answers[paths[k]] = answer }
            fetch(base, paths, stopAtFailure: stopAtFailure, from: k + 1, into: answers,
                  allOK: allOK && answer?.status == 200, done)
        }
    }

    /// One bounded GET; nil = no HTTP answer (refused, timed out, too large).
    private func get(_ url: String, _ done: @escaping ((status: Int, body: [UInt8])?) -> Void) {
        let call = ProviderHTTPCall(method: "GET", url: url, headers: [("Accept", "application/json")])
        let limits = ExchangeLimits(connectMs: settings.timeoutMs, totalMs: settings.timeoutMs, maxResponseBytes: Self.maxBodyBytes)
        ProviderExchange.start(call, limits, provider: "discovery", on: loop) { answer in
            done(answer.failure == nil ? (answer.status, answer.body) : nil)
        }
    }
}
