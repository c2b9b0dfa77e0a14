// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// What accounting accepts from an upstream's usage: counts are never negative, and a budget is
/// charged from the router's pricing table unless it opted in to the upstream's own figure.
extension Usage {
    /// The most a budget that trusts upstream costs is charged for one response (USD): an
    /// upstream reporting 1e300 spends this much at worst.
    public static let maxTrustedUpstreamCostUSD = 100.0

    /// These figures with every count at least 0 (a defence: decoders clamp too), so that
    /// stats, rate limiters and budgets never see a negative count.
    public var nonNegative: Usage {
        var u = Usage(promptTokens: max(0, promptTokens), completionTokens: max(0, completionTokens),
                      totalTokens: max(0, totalTokens), cachedTokens: cachedTokens.map { max(0, $0) },
                      cacheWriteTokens: cacheWriteTokens.map { max(0, $0) }, reasoningTokens: reasoningTokens.map { max(0, $0) })
        u.tokensPerSecond = tokensPerSecond.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        u.costUSD = costUSD.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        u.upstreamCostUSD = upstreamCostUSD.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        return u
    }
}

extension BudgetSettings {
    /// What one response charges this budget: the pricing table's cost; with
    /// `trust_upstream_cost`, the upstream's figure when it gave one, clamped to
    /// 0…`Usage.maxTrustedUpstreamCostUSD`. nil = nothing to charge.
    public func charge(for u: Usage) -> Double? {
        if trustUpstreamCost, let up = u.upstreamCostUSD, up.isFinite {
            return min(max(0, up), Usage.maxTrustedUpstreamCostUSD)
        }
        guard let c = u.costUSD, c.isFinite, c > 0 else { return nil }
        return c
    }
}

extension BudgetTracker {
    /// Charges one response's usage as `settings.charge(for:)` says.
    public func charge(_ u: Usage, nowNs: UInt64) {
        if let cost = settings.charge(for: u) { record(costUSD: cost, nowNs: nowNs) }
    }
}
