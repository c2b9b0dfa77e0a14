// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The API keys of live provider definitions, masked wherever text leaves the library: a
/// defence in depth behind never putting them in messages in the first place.
///
/// Reference-counted: a key is known while a `Registration` for it lives. A parsed
/// `ProviderConfig` holds one (from the moment its key is read), so a key is masked while the
/// config is being parsed, while a router that uses it lives (its providers hold the config;
/// a removed provider until its last request ends), and while a `pmx_provider` handle holds
/// it. Freeing the router releases it: parsing configs in a loop, or creating and freeing
/// routers, does not grow the set, and `mask` only scans live keys.
///
/// Masking works on UTF-8 BYTES, never on `String` comparison: Swift's `String.contains`
/// matches grapheme clusters under canonical equivalence, so a key followed by a combining mark
/// (U+0301) or a zero-width joiner was not "contained" and leaked. A byte search finds it.
///
/// The rule (README "Behaviour choices", include/providermux.h):
/// - A key of `substringMinimum` (8) bytes or more is masked wherever its bytes appear, in
///   everything handed to the host: messages, logs, and every document and stream event
///   (`Surface.json`), also in its JSON-escaped spellings (`\"`, `\\`, `\/`, `\u00e9`).
/// - It is shown as `****` plus its last 4 bytes only when it is `suffixMinimum` (16) bytes or
///   longer and those 4 bytes are plain ASCII letters, digits, `-` or `_` (at most a quarter of
///   the key); shorter keys are masked in full (`****`).
/// - A key of 1 to 7 bytes is a placeholder (`x`, `ollama`, `EMPTY` for local servers), not a
///   credential any supported provider issues: masking it inside ordinary text would corrupt
///   answers and documents (`"type":"ollama"`). It is masked in full in errors and log lines
///   (`Surface.message`, where a rejected credential is echoed) where it stands as a whole word
///   (no ASCII letter, digit, `-` or `_` on either side), and not in successful documents.
/// - Overlapping or adjacent matches of several keys are masked as one `****`.
public enum Secrets {
    /// Keys at least this long (bytes) are masked wherever they appear.
    public static let substringMinimum = 8
    /// Keys at least this long show their last 4 bytes when masked.
    public static let suffixMinimum = 16

    /// What kind of text is masked.
    public enum Surface: Sendable {
        /// Free text: error messages and log lines. Every key, short ones as whole words.
        case message
        /// A JSON document or event written by `JSONWriter`: keys of 8 bytes or more, matched
        /// inside JSON strings only (the replacement `****` keeps the document valid JSON).
        case json
        /// Other text handed out whole (Prometheus stats): keys of 8 bytes or more, anywhere.
        case text
    }

    private struct State {
        var counts: [String: Int] = [:]
        /// Built on first use after a change (parsing 10,000 providers builds it once, not
        /// 10,000 times).
        var matcher: SecretMatcher?
    }
    private static let state = Locked(State())
    /// How many distinct keys are live: with none, masking is one atomic load.
    private static let liveCount = Atomic<Int>(0)
    /// Changes (under the lock, before `liveCount`) whenever the set of live keys does: a
    /// `MatcherCache` still holding the current generation holds the current matcher.
    private static let generation = Atomic<Int>(0)

    /// Keeps one key registered until it is released (when the last reference goes away).
    public final class Registration: Sendable {
        fileprivate let secret: String
        fileprivate init(_ secret: String) { self.secret = secret }
        deinit { Secrets.release(secret) }
    }

    /// Registers `secret` for the lifetime of the returned token; nil for nil or "".
    public static func register(_ secret: String?) -> Registration? {
        guard let secret, !secret.isEmpty else { return nil }
        state.withLock { s in
            let n = s.counts[secret, default: 0]
            s.counts[secret] = n + 1
            if n == 0 {
                s.matcher = nil
                generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
                liveCount.store(s.counts.count, ordering: .sequentiallyConsistent)
            }
        }
        return Registration(secret)
    }

    private static func release(_ secret: String) {
        state.withLock { s in
            guard let n = s.counts[secret] else { return }
            if n > 1 { s.counts[secret] = n - 1; return }
            s.counts[secret] = nil
            s.matcher = nil
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            liveCount.store(s.counts.count, ordering: .sequentiallyConsistent)
        }
    }

    /// Whether `secret` is currently masked.
    public static func isRegistered(_ secret: String) -> Bool { state.withLock { $0.counts[secret] != nil } }

    /// How many distinct keys are live.
    public static var count: Int { liveCount.load(ordering: .acquiring) }

    /// What a key is replaced with: "****" + its last 4 bytes for keys of 16 bytes or more
    /// whose last 4 bytes are [A-Za-z0-9_-], else "****".
    public static func masked(_ secret: String) -> String {
        String(decoding: replacement(Array(secret.utf8)), as: UTF8.self)
    }

    package static func replacement(_ key: [UInt8]) -> [UInt8] {
        let stars: [UInt8] = Array("****".utf8)
        guard key.count >= suffixMinimum else { return stars }
        let tail = key.suffix(4)
        return tail.allSatisfy(isWordByte) ? stars + tail : stars
    }

    /// ASCII letters, digits, `-`, `_`: the bytes that continue a word (whole-word matching of
    /// short keys) and that may be shown in a masked key's suffix.
    @inline(__always)
    package static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }

    /// The live keys' matcher, or nil when no key is live.
    @inline(__always)
    package static func currentMatcher() -> SecretMatcher? {
        guard liveCount.load(ordering: .acquiring) > 0 else { return nil }
        return state.withLock { s in
            if let m = s.matcher { return m }
            let m = SecretMatcher(keys: Array(s.counts.keys))
            s.matcher = m
            return m
        }
    }

    /// The live keys' matcher kept by one reader that asks for it per event (a stream's
    /// guard, its event writer): while no key is registered or released it is reused after
    /// one atomic load, without `currentMatcher`'s lock (two of them per streamed chunk cost
    /// ~500 instructions). A key registered before the call is always seen: registering moves
    /// the generation first, and the cache is refreshed when it moved.
    package struct MatcherCache {
        private var generation = -1
        private var matcher: SecretMatcher?

        package init() {}

        /// The current matcher, or nil when no key is live.
        @inline(__always)
        package mutating func current() -> SecretMatcher? {
            guard Secrets.liveCount.load(ordering: .sequentiallyConsistent) > 0 else { return nil }
            let g = Secrets.generation.load(ordering: .sequentiallyConsistent)
            if g != generation {
                // Read after `g`: at least as new as generation `g` (a newer one moves it again).
                matcher = Secrets.currentMatcher()
                generation = g
            }
            return matcher
        }
    }

    /// Masks `bytes` in place (a JSON document or event) with the matcher of `cache`.
    package static func mask(_ bytes: inout [UInt8], cache: inout MatcherCache, surface: Surface = .json) {
        guard let m = cache.current() else { return }
        if let out = bytes.withUnsafeBytes({ m.mask($0, surface) }) { bytes = out }
    }

    // MARK: masking

    /// `text` with every live key masked (`Surface.message` by default: errors, log lines).
    public static func mask(_ text: String, surface: Surface = .message) -> String {
        guard let m = currentMatcher() else { return text }
        var t = text
        let out: [UInt8]? = t.withUTF8 { m.mask(UnsafeRawBufferPointer($0), surface) }
        guard let out else { return text }
        return String(decoding: out, as: UTF8.self)
    }

    /// The masked bytes, or nil when nothing in `bytes` needed masking (use the original:
    /// no copy in the common case).
    public static func mask(bytes: UnsafeRawBufferPointer, surface: Surface = .json) -> [UInt8]? {
        guard let m = currentMatcher() else { return nil }
        return m.mask(bytes, surface)
    }

    /// Masks `bytes` in place (a JSON document or event by default).
    public static func mask(_ bytes: inout [UInt8], surface: Surface = .json) {
        guard let m = currentMatcher() else { return }
        if let out = bytes.withUnsafeBytes({ m.mask($0, surface) }) { bytes = out }
    }

    /// Masks, THEN shortens to at most `maxBytes` bytes of UTF-8 (cut on a character boundary,
    /// "…" appended when cut): a key cut in half by the truncation would no longer match, and
    /// its first part would leak.
    public static func shorten(_ text: String, maxBytes: Int, surface: Surface = .message) -> String {
        let masked = mask(text, surface: surface)
        guard masked.utf8.count > maxBytes else { return masked }
        let bytes = Array(masked.utf8)
        return String(decoding: bytes[..<utf8Boundary(bytes, atMost: maxBytes)], as: UTF8.self) + "…"
    }

    /// The same for raw bytes (an upstream body that may not even be UTF-8).
    public static func shorten(bytes: [UInt8], maxBytes: Int, surface: Surface = .message) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return shorten(text, maxBytes: maxBytes, surface: surface)
    }

    // MARK: streams (SecretStreamGuard)

    /// The largest n ≤ atMost that does not split a UTF-8 sequence of `bytes`.
    public static func utf8Boundary(_ bytes: some RandomAccessCollection<UInt8>, atMost: Int) -> Int {
        guard atMost < bytes.count else { return bytes.count }
        var n = Swift.max(atMost, 0)
        while n > 0, bytes[bytes.index(bytes.startIndex, offsetBy: n)] & 0xC0 == 0x80 { n -= 1 }
        return n
    }
}

/// The live keys compiled for a one-pass byte scan: every spelling of every key (raw and
/// JSON-escaped), indexed by its first 4 bytes, longest first. A position is looked at only
/// when its byte can start a spelling (a 256-entry table, or `memchr` when only one byte can):
/// over text that holds no key the scan is one table load and branch per byte, or less.
package final class SecretMatcher: @unchecked Sendable {
    package struct Pattern {
        package var bytes: [UInt8]
        package var replacement: [UInt8]
        /// A short key: only as a whole word, only in `Surface.message`.
        package var wholeWord: Bool
        /// Holds a raw `"` or `\` (an unescaped spelling): never matched inside JSON text,
        /// where such a byte would be JSON syntax.
        package var rawJSONSyntax: Bool
    }

    package let patterns: [Pattern]
    /// The distinct first 4 bytes (little-endian load) of the spellings of 4 bytes or more,
    /// sorted: a binary search over a few words, where a `Dictionary` lookup hashed every
    /// candidate position (most of the cost of masking a document).
    private let prefixKeys: [UInt32]
    /// For `prefixKeys[k]`: its spellings are `prefixItems[prefixStart[k]..<prefixStart[k + 1]]`
    /// (indexes into `patterns`, longest first).
    private let prefixStart: [Int]
    private let prefixItems: [Int]
    /// Spellings of 1 to 3 bytes (short keys), longest first.
    package let tiny: [Int]
    /// Per first byte: bit 0 = starts a spelling used in `.message`; bit 1 = in `.json` /
    /// `.text`.
    package let first: [UInt8]
    /// The one byte every spelling used in `.message` (index 0) / `.json` and `.text`
    /// (index 1) starts with, when there is only one (the common case: one key, or keys of one
    /// vendor's `sk-` shape): the scan then jumps between its occurrences with `memchr`.
    private let onlyFirst: (UInt8?, UInt8?)

    package init(keys: [String]) {
        var list: [Pattern] = []
        var seen = Set<[UInt8]>()
        for key in keys {
            let raw = Array(key.utf8)
            let replacement = Secrets.replacement(raw)
            let short = raw.count < Secrets.substringMinimum
            for spelling in Self.spellings(raw) where seen.insert(spelling).inserted {
                // Escaped spellings escape both; only the raw one can hold them bare.
                let syntax = spelling == raw && (raw.contains(UInt8(ascii: "\"")) || raw.contains(UInt8(ascii: "\\")))
                list.append(Pattern(bytes: spelling, replacement: replacement, wholeWord: short, rawJSONSyntax: syntax))
            }
        }
        // Longest first: where several spellings start at one position, the longest wins.
        list.sort { $0.bytes.count > $1.bytes.count }
        var index: [UInt32: [Int]] = [:]
        var tiny: [Int] = []
        var first = [UInt8](repeating: 0, count: 256)
        for (i, p) in list.enumerated() {
            first[Int(p.bytes[0])] |= p.wholeWord ? 1 : 3
            if p.bytes.count >= 4 {
                index[Self.prefix(p.bytes), default: []].append(i)
            } else {
                tiny.append(i)
            }
        }
        patterns = list
        let sortedKeys = index.keys.sorted()
        var starts = [0], items: [Int] = []
        for k in sortedKeys {
            items += index[k] ?? []  // each list keeps the longest-first order of `list`
            starts.append(items.count)
        }
        prefixKeys = sortedKeys
        prefixStart = starts
        prefixItems = items
        self.tiny = tiny
        self.first = first
        func only(_ bit: UInt8) -> UInt8? {
            let bytes = (0..<256).filter { first[$0] & bit != 0 }
            return bytes.count == 1 ? UInt8(bytes[0]) : nil
        }
        onlyFirst = (only(1), only(2))
    }

    /// The spellings (indexes into `patterns`, longest first) whose first 4 bytes are `key`.
    @inline(__always)
    private func candidates(_ key: UInt32) -> ArraySlice<Int> {
        var lo = 0, hi = prefixKeys.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            let k = prefixKeys[mid]
            if k == key { return prefixItems[prefixStart[mid]..<prefixStart[mid &+ 1]] }
            if k < key { lo = mid &+ 1 } else { hi = mid }
        }
        return []
    }

    package static func prefix(_ b: [UInt8]) -> UInt32 {
        UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    /// The key's bytes and the ways a JSON writer may spell them inside a string: `"` and `\`
    /// escaped, `/` escaped or not, non-ASCII kept or written as `\uXXXX` (lower or upper hex,
    /// UTF-16 surrogate pairs). A key of [A-Za-z0-9_-] has one spelling.
    package static func spellings(_ raw: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = [raw]
        let scalars = String(decoding: raw, as: UTF8.self).unicodeScalars
        for escapeSlash in [false, true] {
            for nonASCII in 0..<3 {  // 0 kept, 1 \u lower hex, 2 \u upper hex
                var s: [UInt8] = []
                for u in scalars {
                    switch u.value {
                    case 0x22: s += [0x5C, 0x22]
                    case 0x5C: s += [0x5C, 0x5C]
                    case 0x2F: s += escapeSlash ? [0x5C, 0x2F] : [0x2F]
                    case 0..<0x20: s += Array(String(format4: u.value, upper: nonASCII == 2).utf8)
                    case 0x20..<0x80: s.append(UInt8(u.value))
                    default:
                        if nonASCII == 0 { s += Array(String(u).utf8); continue }
                        if u.value > 0xFFFF {
                            let v = u.value - 0x10000
                            s += Array(String(format4: 0xD800 + (v >> 10), upper: nonASCII == 2).utf8)
                            s += Array(String(format4: 0xDC00 + (v & 0x3FF), upper: nonASCII == 2).utf8)
                        } else {
                            s += Array(String(format4: u.value, upper: nonASCII == 2).utf8)
                        }
                    }
                }
                if !out.contains(s) { out.append(s) }
            }
        }
        return out
    }

    package var longest: Int { patterns.first?.bytes.count ?? 0 }

    /// Whether some byte of `bytes` can start a spelling used in JSON text (8 bytes or more):
    /// false means no key, nor the start of one, is in them.
    package func mayStartKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        if let only = onlyFirst.1 { return memchr(base, Int32(only), bytes.count) != nil }
        return first.withUnsafeBufferPointer { table in bytes.contains { table[Int($0)] & 2 != 0 } }
    }

    package func mayStartKey(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { mayStartKey($0) }
    }

    package func mayStartKey(_ text: String) -> Bool {
        if let r = text.utf8.withContiguousStorageIfAvailable({ mayStartKey($0) }) { return r }
        return mayStartKey(Array(text.utf8))
    }

    /// How many bytes of `all[tailCount..<end]` continue a key (8 bytes or more) that starts in
    /// `all[..<tailCount]` (the last bytes already handed out on the same text channel); 0 when
    /// none.
    package func continuation(_ all: [UInt8], tailCount: Int, end: Int) -> Int {
        var covered = 0
        all.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress!
            for j in Swift.max(0, tailCount - longest + 1)..<tailCount where first[Int(base[j])] & 2 != 0 && end - j >= 4 {
                let key = UnsafeRawPointer(base + j).loadUnaligned(as: UInt32.self).littleEndian
                for c in candidates(key) where patterns[c].bytes.count > tailCount - j {
                    if matches(patterns[c], base, end, at: j, .text) {
                        covered = Swift.max(covered, j + patterns[c].bytes.count - tailCount)
                    }
                }
            }
        }
        return covered
    }

    /// The length of the longest suffix of `bytes`, at least `minimum` long, that is a proper
    /// prefix of a key (8 bytes or more): the part to hold back until the next fragment
    /// shows whether the key follows. 0 when none.
    package func heldSuffix(_ bytes: [UInt8], minimum: Int) -> Int {
        let n = bytes.count
        guard n >= minimum else { return 0 }
        return bytes.withUnsafeBufferPointer { buf -> Int in
            let base = buf.baseAddress!
            let lo = Swift.max(0, n - longest + 1)
            guard lo <= n - minimum else { return 0 }
            for j in lo...(n - minimum) where first[Int(base[j])] & 2 != 0 {
                let rest = n - j  // ≥ minimum ≥ 4: the prefix index applies
                let key = UnsafeRawPointer(base + j).loadUnaligned(as: UInt32.self).littleEndian
                for c in candidates(key) {
                    let p = patterns[c]
                    guard !p.wholeWord && p.bytes.count > rest else { continue }
                    if p.bytes.withUnsafeBufferPointer({ memcmp(base + j, $0.baseAddress!, rest) == 0 }) { return rest }
                }
            }
            return 0
        }
    }

    /// The masked copy, or nil when nothing matched.
    package func mask(_ buf: UnsafeRawBufferPointer, _ surface: Secrets.Surface) -> [UInt8]? {
        let n = buf.count
        guard n > 0, let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let wanted: UInt8 = surface == .message ? 1 : 2
        // Matched ranges, merged when they overlap or touch; `pattern` -1 = merged.
        var regions: [(start: Int, end: Int, pattern: Int)] = []
        var json = JSONStringState()
        let only = surface == .message ? onlyFirst.0 : onlyFirst.1
        first.withUnsafeBufferPointer { table in
            var i = 0
            while i < n {
                if let only {
                    // One possible first byte: libc's vectorized search skips to it.
                    guard let hit = memchr(base + i, Int32(only), n - i) else { break }
                    i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                } else if table[Int(base[i])] & wanted == 0 { i &+= 1; continue }
                if let (p, len) = match(base, n, at: i, surface) {
                    if surface == .json && !json.isInsideString(base, at: i) { i &+= 1; continue }
                    let end = i + len
                    if let last = regions.last, last.end >= i {
                        // Inside the previous match (a key containing another): nothing new.
                        if end > last.end { regions[regions.count - 1] = (last.start, end, -1) }
                    } else {
                        regions.append((i, end, p))
                    }
                }
                i &+= 1
            }
        }
        guard !regions.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var at = 0
        let stars: [UInt8] = Array("****".utf8)
        for r in regions {
            out.append(contentsOf: UnsafeBufferPointer(start: base + at, count: r.start - at))
            out.append(contentsOf: r.pattern >= 0 ? patterns[r.pattern].replacement : stars)
            at = r.end
        }
        out.append(contentsOf: UnsafeBufferPointer(start: base + at, count: n - at))
        return out
    }

    /// The longest spelling usable on `surface` that starts at `i`.
    @inline(__always)
    private func match(_ base: UnsafePointer<UInt8>, _ n: Int, at i: Int, _ surface: Secrets.Surface) -> (Int, Int)? {
        if n - i >= 4 {
            let key = UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self).littleEndian
            for c in candidates(key) where matches(patterns[c], base, n, at: i, surface) { return (c, patterns[c].bytes.count) }
        }
        guard surface == .message else { return nil }
        for c in tiny where matches(patterns[c], base, n, at: i, surface) { return (c, patterns[c].bytes.count) }
        return nil
    }

    @inline(__always)
    private func matches(_ p: Pattern, _ base: UnsafePointer<UInt8>, _ n: Int, at i: Int, _ surface: Secrets.Surface) -> Bool {
        let len = p.bytes.count
        guard len <= n - i else { return false }
        if p.wholeWord && surface != .message { return false }
        if p.rawJSONSyntax && surface == .json { return false }
        let equal = p.bytes.withUnsafeBufferPointer { memcmp(base + i, $0.baseAddress!, len) == 0 }
        guard equal else { return false }
        if p.wholeWord {
            if i > 0 && Secrets.isWordByte(base[i - 1]) { return false }
            if i + len < n && Secrets.isWordByte(base[i + len]) { return false }
        }
        if surface == .json {
            // A match must start at an escape boundary: an odd run of backslashes before it
            // would make its first byte part of an escape, and `****` would break the text.
            var k = i, slashes = 0
            while k > 0 && base[k - 1] == 0x5C { k -= 1; slashes += 1 }
            if slashes % 2 == 1 { return false }
        }
        return true
    }
}

/// Whether a position of a JSON text lies inside a string, computed lazily from the last
/// position asked (matches are rare: the scan itself never pays for it).
private struct JSONStringState {
    private var scanned = 0
    private var inString = false
    private var escaped = false

    mutating func isInsideString(_ base: UnsafePointer<UInt8>, at i: Int) -> Bool {
        while scanned < i {
            let b = base[scanned]
            if escaped { escaped = false }
            else if inString && b == 0x5C { escaped = true }
            else if b == 0x22 { inString.toggle() }
            scanned += 1
        }
        return inString
    }
}

private extension String {
    /// `\u00e9` / `\u00E9`.
    init(format4 v: UInt32, upper: Bool) {
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var s: [UInt8] = [0x5C, 0x75]
        for shift in stride(from: 12, through: 0, by: -4) { s.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        self = String(decoding: s, as: UTF8.self)
    }
}
