// SPDX-License-Identifier: Apache-2.0

/// The ranges shared by several numeric config and request fields. Every number read from a
/// config or a request has an explicit range (`FieldReader.int` / `.double` require one), chosen
/// so that no later arithmetic on it can overflow: a millisecond value times 1_000_000 (ns), a
/// token count plus a prompt estimate, a count times a price. docs/VOCABULARY.md lists them.
public enum NumericBounds {
    /// Longest duration any `*_ms` field accepts: one year. × 1_000_000 ns stays far below
    /// UInt64.max (3.2e16 < 1.8e19).
    public static let yearMs: Int64 = 31_536_000_000
    /// Largest token count a request or config may give (max_tokens, num_ctx, context_length,
    /// min_context, default_max_tokens): a 32-bit int, which every upstream accepts as it is.
    public static let tokens: Int64 = 2_147_483_647
    /// Largest count of things (entries, requests in a window, rates per minute).
    public static let count: Int64 = 1_000_000_000
    /// Largest byte size (the response cache): 1 TiB.
    public static let bytes: Int64 = 1 << 40
    /// Largest amount of US dollars (a budget, a price per million tokens).
    public static let usd: Double = 1e12
}
