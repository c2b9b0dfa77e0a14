// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
@testable import MuxRouting
import Testing

// Maps keyed by request-supplied model names stay bounded (issue 12, item 3): metric series,
// circuit breakers and round-robin turns; and Prometheus label values never carry a raw control
// character (item 3, last clause).

private func chat(model: String) throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#))
}

@Suite("Series cap and Prometheus escaping")
struct SeriesCapTests {
    @Test("100,000 distinct model names: the series count stays at the cap plus one overflow series")
    func metricSeriesCapped() {
        let r = MetricsRegistry()
        for i in 0..<100_000 {
            let k = SeriesKey(provider: "p", model: "m\(i)")
            r.attemptStarted(k)
            r.attemptSucceeded(k, latencyMs: 1, ttftMs: nil, usage: Usage(promptTokens: 1, completionTokens: 2), costUSD: nil)
        }
        #expect(r.seriesCount == MetricsRegistry.defaultMaxSeries + 1)
        #expect(r.foldedAttempts == 100_000 - MetricsRegistry.defaultMaxSeries)
        let snap = r.snapshot()
        let other = snap.first { $0.key == SeriesKey(provider: "p", model: "__other__") }
        #expect(other?.requests == 100_000 - MetricsRegistry.defaultMaxSeries)
        #expect(other?.successes == 100_000 - MetricsRegistry.defaultMaxSeries)
        #expect(other?.inFlight == 0)
        // Totals are not lost by folding.
        #expect(snap.reduce(0) { $0 + $1.completionTokens } == 200_000)
        #expect(snap.reduce(0) { $0 + $1.requests } == 100_000)
    }

    @Test("a series that exists keeps counting after the cap is reached; each provider gets its own overflow")
    func existingSeriesKeepCounting() {
        let r = MetricsRegistry(maxSeries: 2)
        let a = SeriesKey(provider: "p", model: "a"), b = SeriesKey(provider: "p", model: "b")
        r.attemptStarted(a); r.attemptStarted(b)
        r.attemptStarted(SeriesKey(provider: "p", model: "c"))
        r.attemptStarted(SeriesKey(provider: "q", model: "d"))
        r.attemptStarted(a)
        r.attemptFailed(SeriesKey(provider: "p", model: "c"), status: .timeout, usage: nil, costUSD: nil)
        let snap = Dictionary(uniqueKeysWithValues: r.snapshot().map { ($0.key, $0) })
        #expect(snap.count == 4)
        #expect(snap[a]?.requests == 2)
        #expect(snap[SeriesKey(provider: "p", model: "__other__")]?.failures == 1)
        #expect(snap[SeriesKey(provider: "p", model: "__other__")]?.inFlight == 0)
        #expect(snap[SeriesKey(provider: "q", model: "__other__")]?.requests == 1)
        #expect(r.foldedAttempts == 2)
        r.reset()
        #expect(r.foldedAttempts == 0)
    }

    @Test("a router with 1,500 distinct request model names: series and breakers stay capped, round robin shares a turn")
    func routerMapsCapped() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock"},{"name":"b","type":"mock"}],"routing":{"strategy":"round_robin"}}"#)
        defer { r.close() }
        let n = MetricsRegistry.defaultMaxSeries + 500
        for i in 0..<n { _ = try r.complete(chat(model: "model-\(i)")) }
        #expect(r.metrics.seriesCount <= MetricsRegistry.defaultMaxSeries + 2)
        #expect(r.breakerStates().count <= MetricsRegistry.defaultMaxSeries + 2)
        #expect(r.breakerStates().keys.contains { $0.model == "__other__" })
        #expect(r.policy.withLock { $0.turns.count } <= MetricsRegistry.defaultMaxSeries + 1)
        let stats = r.stats()
        #expect(stats["metric_series"]?["folded_attempts"]?.intValue ?? 0 >= 500)
        #expect(r.stats(Router.StatsOptions()).contains("\"folded_attempts\""))
        var prom = Router.StatsOptions()
        prom.format = .prometheus
        #expect(r.stats(prom).contains("pmx_metric_series_folded_total "))
    }

    @Test("label values: NUL, CR, other C0/C1 controls and DEL become U+FFFD; quote, backslash and LF are escaped")
    func labelEscaping() {
        #expect(PrometheusWriter.escapeLabel("a\u{0}b") == "a\u{FFFD}b")
        #expect(PrometheusWriter.escapeLabel("a\rb\u{1}\u{1B}\u{7F}\u{85}c") == "a\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}c")
        #expect(PrometheusWriter.escapeLabel("q\"b\\n\nx\t") == #"q\"b\\n\nx"# + "\u{FFFD}")
        #expect(PrometheusWriter.escapeLabel("plain-model:7b") == "plain-model:7b")
        #expect(PrometheusWriter.escapeLabel("café ü") == "café ü")
        let invalid = String(decoding: [0x61, 0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80, 0x62], as: UTF8.self)
        let out = PrometheusWriter.escapeLabel(invalid)
        #expect(out.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F })
        #expect(out.hasPrefix("a") && out.hasSuffix("b"))
    }

    @Test("a whole exposition with hostile model names: one line per sample, every label value well-formed")
    func hostileExposition() {
        let names = ["nul\u{0}after", "cr\rlf\n", "quote\"", "back\\slash", "tab\tdel\u{7F}", "c1\u{9B}x"]
        let series = names.map { name -> SeriesSnapshot in
            var s = SeriesSnapshot(key: SeriesKey(provider: "p\u{0}q", model: name))
            s.requests = 1
            return s
        }
        let text = StatsRendering.prometheus(totals: RouterTotals(), series: series, providers: [], breakerStates: [:])
        #expect(!text.utf8.contains { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F })
        #expect(!text.unicodeScalars.contains { (0x80...0x9F).contains($0.value) })
        let attempts = text.split(separator: "\n").filter { $0.hasPrefix("pmx_attempts_total{") }
        #expect(attempts.count == names.count)
        for line in attempts {
            #expect(line.hasSuffix("} 1"))
            // Label values parse back: walk the quoted strings with the format's escapes.
            var inQuote = false, escaped = false, quotes = 0
            for ch in line.unicodeScalars {
                if escaped { #expect("\\\"n".unicodeScalars.contains(ch)); escaped = false; continue }
                if inQuote && ch == "\\" { escaped = true; continue }
                if ch == "\"" { inQuote.toggle(); quotes += 1 }
            }
            #expect(quotes == 4 && !inQuote)
        }
        #expect(text.contains("model=\"cr\u{FFFD}lf\\n\""))
    }
}
