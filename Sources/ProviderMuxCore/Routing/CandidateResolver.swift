/// Which providers a request may use, in order, and the model name each one receives.
public enum CandidateResolver {
    /// - `"provider/model"` where `provider` names a provider: only that one, with `model`.
    /// - a bare model: the providers whose `models` list it; if none does, those without a list.
    /// - no model: every provider (each uses its `default_model`).
    /// `route.providers` restricts and orders the set first.
    public static func resolve(model: String?, route: RouteOptions, providers all: [ProviderRuntime]) throws
        -> [RequestExecution.Candidate]
    {
        var providers = all
        if let names = route.providers {
            providers = try names.enumerated().map { i, name in
                guard let p = all.first(where: { $0.name == name }) else {
                    throw PMXError(.providerNotFound, "route.providers[\(i)]: no provider named \"\(name)\"")
                }
                return p
            }
        }
        guard let model else {
            if providers.isEmpty { throw PMXError(.noProvider, "the router has no providers") }
            return providers.map { .init(provider: $0, model: nil) }
        }
        if let slash = model.firstIndex(of: "/") {
            let prefix = String(model[..<slash])
            let rest = String(model[model.index(after: slash)...])
            if let p = all.first(where: { $0.name == prefix }) {
                guard providers.contains(where: { $0 === p }) else {
                    throw PMXError(.noProvider, "model \"\(model)\" names provider \"\(prefix)\", which route.providers excludes")
                }
                guard !rest.isEmpty else { throw PMXError(.invalidRequest, "model: \"\(model)\" names no model after the provider") }
                guard p.config.serves(rest) else {
                    throw PMXError(.noProvider, "provider \"\(prefix)\" does not serve model \"\(rest)\" (it lists: \(p.config.models!.joined(separator: ", ")))")
                }
                return [.init(provider: p, model: rest)]
            }
        }
        let listing = providers.filter { $0.config.models?.contains(model) == true }
        let chosen = listing.isEmpty ? providers.filter { $0.config.models == nil } : listing
        guard !chosen.isEmpty else {
            let known = providers.map { p in "\(p.name) [\(p.config.models?.joined(separator: ", ") ?? "any")]" }
            throw PMXError(.noProvider, "no provider serves model \"\(model)\"" + (known.isEmpty ? " (the router has no providers)" : " (providers: \(known.joined(separator: "; ")))"))
        }
        return chosen.map { .init(provider: $0, model: model) }
    }
}
