// SPDX-License-Identifier: Apache-2.0

/// Where each piece of shared state lives: every key starts with the configured prefix, so
/// several deployments can share one Redis database. Names are provider and lane names from the
/// config and model names of requests; nothing secret is ever part of a key or a value.
package struct SharedKeys: Sendable, Equatable {
    package let prefix: String
    /// The heads of the keys, joined once: a request writes a key as head + name straight into
    /// its command (`RESPArguments.add(_:_:_:_:)`), with no String of its own.
    package let rateLimitPrefix: String
    package let breakerPrefix: String
    package let routerBudget: String
    package let lanePrefix: String

    package init(prefix: String) {
        self.prefix = prefix
        rateLimitPrefix = prefix + "rl:"
        breakerPrefix = prefix + "cb:"
        routerBudget = prefix + "budget:router"
        lanePrefix = prefix + "budget:lane:"
    }

    /// A provider's rpm / tpm buckets and its server-requested cooldown.
    package func rateLimit(provider: String) -> String { rateLimitPrefix + provider }
    package func addRateLimit(provider: String, to a: inout RESPArguments) { a.add(rateLimitPrefix, provider) }
    /// The circuit breaker of one provider+model (the same series the local breakers use).
    package func breaker(provider: String, model: String) -> String { "\(breakerPrefix)\(provider)/\(model)" }
    package func addBreaker(provider: String, model: String, to a: inout RESPArguments) { a.add(breakerPrefix, provider, "/", model) }
    package func laneBudget(_ lane: String) -> String { lanePrefix + lane }
    package func addLaneBudget(_ lane: String, to a: inout RESPArguments) { a.add(lanePrefix, lane) }

    /// The part of `key` after `head`, or nil when it does not start with it.
    package static func suffix(of key: String, after head: String) -> String? {
        key.hasPrefix(head) ? String(key.dropFirst(head.count)) : nil
    }
    /// The cache's keys are `<prefix>cache:<sha1 of the normalized request>`, made by the
    /// script (the request text itself never becomes a key).
    package var cachePrefix: String { "\(prefix)cache:" }
}
