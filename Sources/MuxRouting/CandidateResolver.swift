// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProviders

/// Which deployments a request's `model` may use, in pool order, and the model name each receives.
public enum CandidateResolver {
    /// A provider a route may use, with the model its lane or group fixes (nil = any model).
    public typealias PoolEntry = (provider: ProviderRuntime, model: String?)

    /// Over every provider (no lane, no groups): the rules of `resolve(model:pool:all:groups:)`.
    public static func resolve(model: String?, route: RouteOptions, providers all: [ProviderRuntime]) throws
        -> [RequestExecution.Candidate]
    {
        let pool = try restrict(all.map { ($0, nil) }, to: route.providers, all: all, lane: nil)
        return try resolve(model: model, pool: pool, all: all, groups: [:])
    }

    /// `route.providers` restricts the pool and orders it.
    public static func restrict(_ pool: [PoolEntry], to names: [String]?, all: [ProviderRuntime], lane: String?) throws -> [PoolEntry] {
        guard let names else { return pool }
        // Indexed once: a long `route.providers` over a big pool stays linear.
        let known = Set(all.map(\.name))
        var byName: [String: [PoolEntry]] = [:]
        for e in pool { byName[e.provider.name, default: []].append(e) }
        return try names.enumerated().flatMap { i, name -> [PoolEntry] in
            guard known.contains(name) else {
                throw PMXError(.providerNotFound, "route.providers[\(i)]: no provider named \"\(name)\"")
            }
            let entries = byName[name] ?? []
            if entries.isEmpty, let lane {
                throw PMXError(.noProvider, "route.providers[\(i)]: provider \"\(name)\" is not in lane \"\(lane)\"")
            }
            return entries
        }
    }

    /// - no model: every pool entry (each with its fixed model, else the provider's default).
    /// - a model group's name: the group's deployments (those in the pool, when the pool is restricted).
    /// - `"provider/model"` where `provider` names a provider: only that one, with `model`.
    /// - a bare model: the entries fixed to it or whose provider lists it; if none, the entries
    ///   with no fixed model whose provider has no list.
    /// When nothing serves the model, the error suggests the closest known names (models the
    /// providers list or default to, group names, and `aliases`, e.g. the lanes'), see
    /// `ModelSuggestions`. `aliases` is only evaluated then.
    public static func resolve(model: String?, pool: [PoolEntry], all: [ProviderRuntime], groups: [String: [Deployment]],
                               poolIsRestricted: Bool = false, aliases: @autoclosure () -> [String] = []) throws
        -> [RequestExecution.Candidate]
    {
        guard let model else {
            if pool.isEmpty { throw PMXError(.noProvider, all.isEmpty ? "the router has no providers" : "no provider on this route") }
            return pool.map { .init(provider: $0.provider, model: $0.model) }
        }
        if let group = groups[model] {
            // Indexed once: a group of thousands of deployments over thousands of providers.
            let byName = index(all)
            let inPool = poolIsRestricted ? Set(pool.map { ObjectIdentifier($0.provider) }) : []
            let chosen: [RequestExecution.Candidate] = group.compactMap { d in
                guard let p = byName[d.provider] else { return nil }  // removed since
                if poolIsRestricted && !inPool.contains(ObjectIdentifier(p)) { return nil }
                return .init(provider: p, model: d.model)
            }
            guard !chosen.isEmpty else {
                throw PMXError(.noProvider, "model group \"\(model)\" has no deployment on this route")
            }
            return chosen
        }
        if let slash = model.firstSlash {
            let prefix = String(model[..<slash])
            let rest = String(model[model.index(after: slash)...])
            if let p = all.first(where: { $0.name == prefix }) {
                guard pool.contains(where: { $0.provider === p }) else {
                    throw PMXError(.noProvider, "model \"\(model)\" names provider \"\(prefix)\", which this route excludes")
                }
                guard !rest.isEmpty else { throw PMXError(.invalidRequest, "model: \"\(model)\" names no model after the provider") }
                guard p.config.serves(rest) else {
                    let close = ModelSuggestions.closest(to: rest, among: knownModels(of: p)).map { "\(prefix)/\($0)" }
                    throw PMXError(.noProvider, "provider \"\(prefix)\" does not serve model \"\(rest)\"" + ModelSuggestions.hint(close)
                        + " (it lists: \(p.config.models!.joined(separator: ", ")))")
                }
                return [.init(provider: p, model: rest)]
            }
        }
        let listing = pool.filter { $0.model == model || ($0.model == nil && $0.provider.config.models?.contains(model) == true) }
        let chosen = listing.isEmpty ? pool.filter { $0.model == nil && $0.provider.config.models == nil } : listing
        guard !chosen.isEmpty else {
            // The first few only: a router may have thousands.
            var known = pool.prefix(20).map { e in "\(e.provider.name) [\(e.model ?? e.provider.config.models?.prefix(20).joined(separator: ", ") ?? "any")]" }
            if pool.count > 20 { known.append("… \(pool.count - 20) more") }
            let listed = pool.lazy.flatMap { e in e.model.map { [$0] } ?? knownModels(of: e.provider) }
            let close = ModelSuggestions.closest(to: model, among: Array(listed.prefix(ModelSuggestions.maxCandidates))
                + groups.keys.sorted() + aliases())
            throw PMXError(.noProvider, "no provider serves model \"\(model)\"" + ModelSuggestions.hint(close) + (known.isEmpty ? " (the router has no providers)" : " (providers: \(known.joined(separator: "; ")))"))
        }
        return chosen.map { .init(provider: $0.provider, model: model) }
    }

    /// The model names a provider declares: its list, then its default model.
    private static func knownModels(of p: ProviderRuntime) -> [String] {
        (p.config.models ?? []) + (p.config.defaultModel.map { [$0] } ?? [])
    }

    /// Providers by name (names are unique; the first wins if not).
    package static func index(_ all: [ProviderRuntime]) -> [String: ProviderRuntime] {
        var byName: [String: ProviderRuntime] = [:]
        byName.reserveCapacity(all.count)
        for p in all where byName[p.name] == nil { byName[p.name] = p }
        return byName
    }
}

extension String {
    /// `firstIndex(of: "/")` (the "provider/model" split), after a byte search: a name with no
    /// "/" byte, most model names, answers without walking its grapheme clusters (~4,000
    /// instructions per lookup, twice per request). With one, the Character search decides
    /// as before (a "/" followed by a combining mark is not a "/").
    package var firstSlash: String.Index? {
        guard WireSafety.anyByte(self, { $0 == UInt8(ascii: "/") }) else { return nil }
        return firstIndex(of: "/")
    }
}
