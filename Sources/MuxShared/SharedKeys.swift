// SPDX-License-Identifier: Apache-2.0

/// Where each piece of shared state lives: every key starts with the configured prefix, so
/// several deployments can share one Redis database. Names are provider and lane names from the
/// config and model names of requests; nothing secret is ever part of a key or a value.
package struct SharedKeys: Sendable, Equatable {
    package let prefix: String

    package init(prefix: String) { self.prefix = prefix }

    /// A provider's rpm / tpm buckets and its server-requested cooldown.
    package func rateLimit(provider: String) -> String { "\(prefix)rl:\(provider)" }
    /// The circuit breaker of one provider+model (the same series the local breakers use).
    package func breaker(provider: String, model: String) -> String { "\(breakerPrefix)\(provider)/\(model)" }
    package var breakerPrefix: String { "\(prefix)cb:" }
    package var routerBudget: String { "\(prefix)budget:router" }
    package func laneBudget(_ lane: String) -> String { "\(lanePrefix)\(lane)" }
    package var lanePrefix: String { "\(prefix)budget:lane:" }

    /// The part of `key` after `head`, or nil when it does not start with it.
    package static func suffix(of key: String, after head: String) -> String? {
        key.hasPrefix(head) ? String(key.dropFirst(head.count)) : nil
    }
    /// The cache's keys are `<prefix>cache:<sha1 of the normalized request>`, made by the
    /// script (the request text itself never becomes a key).
    package var cachePrefix: String { "\(prefix)cache:" }
}
