// SPDX-License-Identifier: Apache-2.0

/// "Did you mean …" for a model no provider serves: the known names closest to what was asked,
/// by edit distance. Runs only when a request has already failed, never on the routing path.
package enum ModelSuggestions {
    /// At most this many names are offered.
    package static let limit = 3
    /// Names compared, at most: a router may list hundreds of thousands of models (discovery,
    /// big catalogues); the first ones are enough for a hint and the bound keeps a failing
    /// request cheap.
    package static let maxCandidates = 20_000
    /// Longer names are never model ids anyone mistyped (and would make the distance table big).
    package static let maxLength = 200

    /// Up to `limit` names of `candidates` close to `query` (closest first, then in the order
    /// given; duplicates and `query` itself dropped). Case is ignored for ASCII letters, so
    /// "GPT-4o" suggests "gpt-4o". Close = at most `threshold(query)` single-byte edits.
    package static func closest<S: Sequence<String>>(to query: String, among candidates: S) -> [String] {
        let q = Array(query.utf8).map(lower)
        guard !q.isEmpty, q.count <= maxLength else { return [] }
        let bound = threshold(q.count)
        var seen = Set<String>()
        var scored: [(distance: Int, order: Int, name: String)] = []
        var examined = 0
        for name in candidates {
            if examined >= maxCandidates { break }
            examined += 1
            guard name != query, seen.insert(name).inserted else { continue }
            let c = Array(name.utf8)
            // The length difference alone is a lower bound of the distance.
            guard c.count <= maxLength, abs(c.count - q.count) <= bound else { continue }
            if let d = distance(q, c.map(lower), bound: bound) { scored.append((d, scored.count, name)) }
        }
        scored.sort { ($0.distance, $0.order) < ($1.distance, $1.order) }
        return scored.prefix(limit).map(\.name)
    }

    /// How many edits still count as "close" for a query of `length` bytes: 1 for very short
    /// names (any two 3-letter names are 3 edits apart), else a quarter of the name, at least 2
    /// ("llama3" → "llama3.2", "gpt-4o-mni" → "gpt-4o-mini").
    package static func threshold(_ length: Int) -> Int { length < 5 ? 1 : max(2, length / 4) }

    /// `" (did you mean \"a\", \"b\"?)"`, or "" when there is nothing to suggest.
    package static func hint(_ names: [String]) -> String {
        names.isEmpty ? "" : " (did you mean " + names.map { "\"\($0)\"" }.joined(separator: ", ") + "?)"
    }

    /// Levenshtein distance of two byte strings, nil when above `bound` (stops as soon as a
    /// whole row exceeds it).
    package static func distance(_ a: [UInt8], _ b: [UInt8], bound: Int) -> Int? {
        if a.isEmpty { return b.count <= bound ? b.count : nil }
        if b.isEmpty { return a.count <= bound ? a.count : nil }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > bound { return nil }
            swap(&previous, &current)
        }
        return previous[b.count] <= bound ? previous[b.count] : nil
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 0x20 : b }
}
