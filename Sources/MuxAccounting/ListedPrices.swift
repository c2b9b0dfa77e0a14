// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Prices a provider publishes itself (OpenRouter's `/models` `pricing`), learnt while the router
/// runs and replaced whole by each new listing. `PricingTable.price` reads them after the
/// configured prices (which win) and before the built-in list. Any thread.
public final class ListedPrices: @unchecked Sendable {
    private let table = Locked<[String: ModelPrice]>([:])

    public init() {}

    /// Replaces the table; an empty listing (a failed or odd answer) keeps the last one.
    public func replace(_ prices: [String: ModelPrice]) {
        guard !prices.isEmpty else { return }
        table.withLock { $0 = prices }
    }

    public func price(_ model: String) -> ModelPrice? { table.withLock { $0[model] } }

    public var count: Int { table.withLock { $0.count } }
}
