// SPDX-License-Identifier: Apache-2.0

// Int is assumed 64 bits wide (Int64 ↔ Int conversions of parsed JSON integers; the reasons in
// scripts/lint-numbers.allow rely on it): a 32-bit build must fail here, not trap at run time.
#if !(arch(x86_64) || arch(arm64) || arch(powerpc64le) || arch(s390x) || arch(riscv64))
#error("libprovidermux assumes a 64-bit Int")
#endif

/// Arithmetic and conversions that cannot trap, for numbers that came from outside (a request,
/// a config, a response header or body). Swift traps on `Int(x)` of a non-finite or
/// out-of-range `Double` and on overflowing `+`, `-`, `*`: inside a host process that is a
/// crash of the host. Every value that crossed the boundary goes through these.
public enum SafeNumbers {
    /// `d` as an integer in `lo...hi`: NaN gives `lo`, ±infinity and out-of-range values the
    /// nearer bound, everything else `d` rounded toward zero (then clamped).
    @inlinable
    public static func int(_ d: Double, lo: Int = Int.min, hi: Int = Int.max) -> Int {
        guard !d.isNaN else { return lo }
        // Double(Int.max) rounds up to 2^63, so compare before converting.
        if d <= Double(lo) { return lo }
        if d >= Double(hi) { return hi }
        return Swift.min(Swift.max(Int(d), lo), hi)
    }

    /// As `int(_:lo:hi:)` for `Int64`.
    @inlinable
    public static func int64(_ d: Double, lo: Int64 = Int64.min, hi: Int64 = Int64.max) -> Int64 {
        Int64(int(d, lo: Int(lo), hi: Int(hi)))
    }

    /// `v` clamped to `lo...hi`.
    @inlinable
    public static func clamp<T: Comparable>(_ v: T, _ lo: T, _ hi: T) -> T { Swift.min(Swift.max(v, lo), hi) }

    /// `ms` milliseconds as nanoseconds: negative gives 0, too large sticks at UInt64.max.
    @inlinable
    public static func nanos(ms: Int) -> UInt64 {
        ms <= 0 ? 0 : UInt64(ms).multipliedSaturated(by: 1_000_000)
    }

    /// As `nanos(ms:)` for a fractional millisecond count; NaN gives 0, +infinity UInt64.max.
    @inlinable
    public static func nanos(ms: Double) -> UInt64 {
        guard ms > 0 else { return 0 }  // NaN too
        let ns = ms * 1_000_000
        // 2^64 exactly; UInt64(ns) traps at or above it.
        return ns >= 18_446_744_073_709_551_616.0 ? .max : UInt64(ns)
    }

    /// `ns` in whole milliseconds, rounded up, without the `ns + 999_999` that overflows near UInt64.max.
    @inlinable
    public static func ceilMs(ns: UInt64) -> UInt64 {
        ns / 1_000_000 + (ns % 1_000_000 == 0 ? 0 : 1)
    }

    /// A finite `d` clamped to `lo...hi`; NaN gives `lo`.
    @inlinable
    public static func clampFinite(_ d: Double, _ lo: Double, _ hi: Double) -> Double {
        d.isNaN ? lo : Swift.min(Swift.max(d, lo), hi)
    }
}

extension FixedWidthInteger {
    /// `self + other`, stuck at the type's bounds instead of trapping.
    @inlinable
    public func addingSaturated(_ other: Self) -> Self {
        let (r, overflow) = addingReportingOverflow(other)
        guard overflow else { return r }
        return other > 0 ? .max : .min
    }

    /// `self - other`, stuck at the type's bounds instead of trapping.
    @inlinable
    public func subtractingSaturated(_ other: Self) -> Self {
        let (r, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return r }
        return other > 0 ? .min : .max
    }

    /// `self * other`, stuck at the type's bounds instead of trapping.
    @inlinable
    public func multipliedSaturated(by other: Self) -> Self {
        let (r, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return r }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
