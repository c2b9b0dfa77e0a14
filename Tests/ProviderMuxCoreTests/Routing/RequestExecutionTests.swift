// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// The routing state machine (RequestExecution) on a FAKE clock: attempts come from a scripted
// driver (or the real MockDriver), time only moves when a test calls `advance(ms:)`, so every
// retry delay, failover and terminal event is asserted exactly, with no sleeps.

private let a = #"{"name":"a","type":"openai-compatible","base_url":"http://a.invalid/v1"}"#
private let b = #"{"name":"b","type":"openai-compatible","base_url":"http://b.invalid/v1"}"#
private let c = #"{"name":"c","type":"openai-compatible","base_url":"http://c.invalid/v1"}"#

@Suite("RequestExecution (fake clock, scripted providers)")
struct RequestExecutionTests {
    @Test("429 twice then success: start, retry(100), start, retry(200), start, done — on the fake clock's schedule")
    func retryThenSuccess() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [
            [.wait(10), .http(429)], [.wait(10), .http(429)], [.wait(10), .ok],
        ]])
        h.start()
        #expect(h.trace == ["@0 start a m #1"])
        h.advance(10)
        #expect(h.trace == ["@0 start a m #1", "@10 retry a #1 100ms PMX_ERR_RATE_LIMITED"])
        h.advance(99)  // t = 109: the back-off has not elapsed
        #expect(h.trace.count == 2)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)  // t = 110
        #expect(h.trace.last == "@110 start a m #2")
        #expect(h.driver.attempts.count == 2)
        h.advance(10)
        #expect(h.trace.last == "@120 retry a #2 200ms PMX_ERR_RATE_LIMITED")
        h.advance(199)
        #expect(h.driver.attempts.count == 2)
        h.advance(1)
        #expect(h.trace.last == "@320 start a m #3")
        h.advance(10)
        #expect(h.trace == [
            "@0 start a m #1",
            "@10 retry a #1 100ms PMX_ERR_RATE_LIMITED",
            "@110 start a m #2",
            "@120 retry a #2 200ms PMX_ERR_RATE_LIMITED",
            "@320 start a m #3",
            "@330 done a",
        ])
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["id"] == "chatcmpl-test")  // the provider's answer, plus the router's fields
        #expect(r["provider"] == "a")
        #expect(r["latency_ms"]?.doubleValue == 330)
        #expect(r["ttft_ms"] == nil)  // not a stream
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 3)
        #expect(attempts.map { $0["outcome"]?.stringValue } == ["error", "error", "ok"])
        #expect(attempts.map { $0["http_status"]?.intValue } == [429, 429, 200])
        #expect(attempts.map { $0["latency_ms"]?.doubleValue } == [10, 10, 10])
        #expect(attempts[0]["status_name"] == "PMX_ERR_RATE_LIMITED")
        #expect(attempts[0]["code"]?.intValue == Int64(Status.rateLimited.rawValue))
        #expect(attempts[0]["message"]?.stringValue?.contains("fake 429") == true)
        #expect(attempts[0]["provider"] == "a" && attempts[0]["model"] == "m")
        #expect(attempts[2]["code"] == nil && attempts[2]["message"] == nil)
        let s = h.series("a")
        #expect(s.requests == 3 && s.retries == 2 && s.failures == 2 && s.successes == 1)
        #expect(s.failuresByStatus == ["PMX_ERR_RATE_LIMITED": 2])
    }

    @Test("the random source drives the jitter of the delay")
    func jitterFromRandom() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.http(503)], [.ok]]], random: 0)
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 80ms PMX_ERR_UPSTREAM_SERVER"])
        h.advance(79)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)
        #expect(h.trace.suffix(2) == ["@80 start a m #2", "@80 done a"])
    }

    @Test("Retry-After 5000 ms is a minimum: nothing happens at 4999 ms")
    func retryAfterRespected() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429, retryAfterMs: 5000)], [.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 5000ms PMX_ERR_RATE_LIMITED"])
        h.advance(4999)
        #expect(h.trace.count == 2)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)
        #expect(h.trace.suffix(2) == ["@5000 start a m #2", "@5000 done a"])
        h.recorder.expectOneTerminal()
    }

    @Test("a Retry-After beyond max_retry_after_ms fails over at once")
    func retryAfterTooLong() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429, retryAfterMs: 90_000)]], "b": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_RATE_LIMITED", "@0 start b m #2", "@0 done b"])
    }

    @Test("failover a → b: fallback event, then b's start; b answers")
    func failover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.wait(5), .http(401)]], "b": [[.wait(7), .ok]]])
        h.start()
        h.advance(5)
        #expect(h.trace == ["@0 start a m #1", "@5 fallback a->b PMX_ERR_AUTH", "@5 start b m #2"])
        h.advance(7)
        #expect(h.trace.last == "@12 done b")
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["provider"] == "b")
        #expect(r["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["a", "b"])
        #expect(h.series("a").fallbacks == 1)
        // The fallback event's JSON.
        guard case .fallback(let from, let to, let err) = h.recorder.events[1].event else {
            Issue.record("no fallback event"); return
        }
        let j = ExecutionEvent.fallback(from: from, to: to, error: err).json()
        #expect(j["type"] == "fallback" && j["from"] == "a" && j["to"] == "b")
        #expect(j["status_name"] == "PMX_ERR_AUTH" && j["http_status"] == 401)
        #expect(j["code"]?.intValue == Int64(Status.auth.rawValue))
    }

    @Test("retryable failures exhaust max_attempts on a provider before failing over")
    func exhaustThenFailover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(500)], [.http(502)]], "b": [[.ok]]],
                                     retry: retrySettings(maxAttempts: 2, initial: 40, jitter: 0))
        h.start()
        h.advance(40)
        #expect(h.trace == [
            "@0 start a m #1", "@0 retry a #1 40ms PMX_ERR_UPSTREAM_SERVER",
            "@40 start a m #2", "@40 fallback a->b PMX_ERR_UPSTREAM_SERVER",
            "@40 start b m #3", "@40 done b",
        ])
    }

    @Test("all providers fail: ONE error, status of the last failure, message listing every attempt")
    func allFail() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.wait(1), .http(503)], [.wait(1), .fail(PMXError(.connection, "connection refused"))]],
            "b": [[.wait(1), .http(401)]],
        ], retry: retrySettings(maxAttempts: 2, initial: 10, jitter: 0))
        h.start()
        h.advance(1000)
        #expect(h.trace == [
            "@0 start a m #1", "@1 retry a #1 10ms PMX_ERR_UPSTREAM_SERVER",
            "@11 start a m #2", "@12 fallback a->b PMX_ERR_CONNECTION",
            "@12 start b m #3", "@13 error PMX_ERR_AUTH",
        ])
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.status == .auth)
        #expect(e.httpStatus == 401)
        #expect(e.provider == "b")
        #expect(e.attemptCount == 3)
        #expect(e.attempts.count == 3)
        #expect(e.message.contains("3 attempts"))
        #expect(e.message.contains("a: HTTP 503: fake 503"))
        #expect(e.message.contains("a: connection refused"))
        #expect(e.message.contains("b: HTTP 401: fake 401"))
        let j = e.json()
        #expect(j["type"] == "error" && j["status_name"] == "PMX_ERR_AUTH" && j["provider"] == "b")
        #expect(j["attempts"]?.arrayValue?.count == 3)
        #expect(j["usage"] == nil)  // no output had started
    }

    @Test("a single failed attempt keeps its own message")
    func singleFailure() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.http(404)]]])
        h.start()
        let e = try #require(h.recorder.error)
        #expect(e.status == .modelNotFound)
        #expect(e.message == "HTTP 404: fake 404")
        #expect(e.attemptCount == 1)
    }

    @Test("a stream that fails BEFORE its first delta fails over (nothing reached the caller)")
    func streamFailsBeforeFirstDelta() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.event(.meta(id: "x", model: "m")), .wait(5),
                   .fail(PMXError(.upstreamProtocol, "malformed stream event"))]],
            "b": [[.wait(5), .delta("Hi"), .wait(5), .delta(" there"), .event(.finish(reason: "stop")), .succeed(nil)]],
        ], stream: true)
        h.start()
        h.advance(100)
        #expect(h.trace == [
            "@0 start a m #1", "@5 fallback a->b PMX_ERR_UPSTREAM_PROTOCOL", "@5 start b m #2",
            "@10 delta \"Hi\"", "@15 delta \" there\"", "@15 done b",
        ])
        let r = try #require(h.recorder.done)
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "Hi there")
        #expect(r["ttft_ms"]?.doubleValue == 10)
    }

    @Test("a retryable stream failure before the first delta is retried on the same provider")
    func streamRetriedBeforeFirstDelta() throws {
        let h = try ExecutionHarness(providers: [a], scripts: [
            "a": [[.wait(5), .fail(PMXError(.connection, "reset"))], [.delta("ok"), .succeed(nil)]],
        ], stream: true)
        h.start()
        h.advance(105)
        #expect(h.trace == ["@0 start a m #1", "@5 retry a #1 100ms PMX_ERR_CONNECTION", "@105 start a m #2",
                            "@105 delta \"ok\"", "@105 done a"])
    }

    @Test("a stream failing AFTER a delta: STREAM_INTERRUPTED, no retry, no failover, partial usage")
    func streamFailsAfterDelta() throws {
        let usage = Usage(promptTokens: 5, completionTokens: 1)
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.wait(3), .event(.usage(usage)), .delta("Hel"), .wait(4), .fail(PMXError(.connection, "reset by peer"))]],
            "b": [[.ok]],
        ], stream: true)
        h.start()
        h.advance(60_000)
        #expect(h.trace == ["@0 start a m #1", "@3 delta \"Hel\"", "@7 error PMX_ERR_STREAM_INTERRUPTED"])
        #expect(h.driver.attempts.count == 1)
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "a")
        #expect(e.partialUsage == usage)
        #expect(e.message.contains("reset by peer"))
        #expect(e.attemptCount == 1)
        #expect(e.json()["usage"]?["prompt_tokens"] == 5)
        #expect(h.clock.pendingTimers == 0)
    }

    @Test("partial usage: the provider's prompt tokens kept, completion tokens at least one per delta delivered")
    func partialUsageMerged() throws {
        // Prompt tokens reported before the output (Anthropic's message_start, Gemini's
        // usageMetadata), no completion count yet: 3 deltas reached the caller.
        let early = Usage(promptTokens: 7, completionTokens: 1, cachedTokens: 2)
        let h = try ExecutionHarness(providers: [a], scripts: [
            "a": [[.event(.usage(early)), .delta("a"), .delta("b"), .delta("c"), .fail(PMXError(.connection, "reset"))]],
        ], stream: true)
        h.start()
        h.advance(1_000)
        let e = try #require(h.recorder.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.partialUsage == Usage(promptTokens: 7, completionTokens: 3, cachedTokens: 2))
        // Nothing reported: completion tokens estimated, prompt unknown (0).
        let none = try ExecutionHarness(providers: [a], scripts: ["a": [[.delta("a"), .delta("b"), .fail(PMXError(.connection, "reset"))]]], stream: true)
        none.start()
        none.advance(1_000)
        #expect(try #require(none.recorder.error).partialUsage == Usage(promptTokens: 0, completionTokens: 2))
    }

    @Test("cancel during back-off: error CANCELLED, the retry timer never starts an attempt")
    func cancelDuringBackoff() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429)], [.ok]], "b": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 100ms PMX_ERR_RATE_LIMITED"])
        h.advance(50)
        h.execution.cancel()
        #expect(h.trace.last == "@50 error PMX_ERR_CANCELLED")
        #expect(h.clock.pendingTimers == 0)
        h.advance(10_000)
        #expect(h.driver.attempts.count == 1)
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.attemptCount == 1)
        #expect(e.provider == "a")
        // Idempotent: a second cancel emits nothing.
        h.execution.cancel()
        #expect(h.recorder.events.count == 3)
        #expect(h.execution.finished)
    }

    @Test("cancel during an attempt cancels the driver's attempt; late callbacks are ignored")
    func cancelDuringAttempt() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.wait(100), .delta("late"), .succeed(nil)]]], stream: true)
        h.driver.honoursCancel = false  // a driver that keeps calling back after cancel
        h.start()
        h.advance(30)
        h.execution.cancel()
        #expect(h.driver.attempts.first?.cancelled == true)
        h.advance(1000)
        #expect(h.trace == ["@0 start a m #1", "@30 error PMX_ERR_CANCELLED"])
        h.recorder.expectOneTerminal()
    }

    @Test("cancel after the terminal event is a no-op")
    func cancelAfterDone() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.ok]]])
        h.start()
        h.execution.cancel()
        #expect(h.trace == ["@0 start a m #1", "@0 done a"])
    }

    @Test("cancel with another status (router closing)")
    func cancelWithStatus() throws {
        let h = try ExecutionHarness(providers: [a], scripts: [:])
        h.start()
        h.execution.cancel(.cancelled, "the router was freed")
        #expect(h.recorder.error?.message == "the router was freed")
        h.recorder.expectOneTerminal()
    }

    @Test("a provider that succeeds synchronously inside start() still gives one done")
    func synchronousSuccess() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 done a"])
        h.recorder.expectOneTerminal()
    }

    @Test("synchronous failures chain through every provider to one error")
    func synchronousFailures() throws {
        let h = try ExecutionHarness(providers: [a, b, c], scripts: ["a": [[.http(401)]], "b": [[.http(404)]], "c": [[.http(400)]]])
        h.start()
        #expect(h.trace == [
            "@0 start a m #1", "@0 fallback a->b PMX_ERR_AUTH", "@0 start b m #2",
            "@0 fallback b->c PMX_ERR_MODEL_NOT_FOUND", "@0 start c m #3", "@0 error PMX_ERR_UPSTREAM_BAD_REQUEST",
        ])
        h.recorder.expectOneTerminal()
    }

    @Test("cancel after a synchronous failover cancels the attempt that is actually running")
    func cancelAfterSynchronousFailover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(401)]], "b": [[.wait(1000), .ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_AUTH", "@0 start b m #2"])
        h.advance(10)
        h.execution.cancel()
        #expect(h.driver.attempts.count == 2)
        #expect(h.driver.attempts[1].cancelled, "b's running attempt was not cancelled")
        #expect(h.clock.pendingTimers == 0, "b's attempt is still running")
    }

    @Test("stream done: deltas, usage event, then done with provider, attempts, latency_ms and ttft_ms")
    func streamDone() throws {
        let usage = Usage(promptTokens: 4, completionTokens: 2)
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[
            .event(.meta(id: "chatcmpl-s1", model: "served")), .wait(30), .delta("Hello"), .wait(20), .delta(" world"),
            .event(.finish(reason: "stop")), .event(.usage(usage)), .wait(5), .event(.end), .succeed(nil),
        ]]], stream: true)
        h.start()
        h.advance(29)
        #expect(h.trace == ["@0 start a m #1"])
        h.advance(1)
        #expect(h.trace.last == "@30 delta \"Hello\"")
        h.advance(25)
        #expect(h.trace == ["@0 start a m #1", "@30 delta \"Hello\"", "@50 delta \" world\"", "@55 usage 4/2/6", "@55 done a"])
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["id"] == "chatcmpl-s1")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "served")
        #expect(r["provider"] == "a")
        #expect(r["latency_ms"]?.doubleValue == 55)
        #expect(r["ttft_ms"]?.doubleValue == 30)
        #expect(r["usage"]?["total_tokens"] == 6)
        #expect(r["attempts"]?.arrayValue?.count == 1)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "Hello world")
        #expect(choice["finish_reason"] == "stop")
        let s = h.series("a")
        #expect(s.successes == 1 && s.promptTokens == 4 && s.completionTokens == 2)
    }

    @Test("ttft_ms counts from the start of the request, back-off included")
    func ttftAcrossRetries() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.wait(10), .http(500)], [.wait(15), .delta("x"), .succeed(nil)]]],
                                     stream: true)
        h.start()
        h.advance(1000)
        let r = try #require(h.recorder.done)
        #expect(r["ttft_ms"]?.doubleValue == 125)
        #expect(r["latency_ms"]?.doubleValue == 125)
    }

    @Test("the model: the candidate's, else the provider's default_model, else its first listed model")
    func modelChoice() throws {
        let d = #"{"name":"d","type":"openai-compatible","base_url":"http://d.invalid/v1","default_model":"dm","models":["x","dm"]}"#
        let l = #"{"name":"l","type":"openai-compatible","base_url":"http://l.invalid/v1","models":["first","second"]}"#
        let h = try ExecutionHarness(providers: [d, l, a], scripts: ["d": [[.http(401)]], "l": [[.http(401)]], "a": [[.ok]]], model: nil)
        h.start()
        #expect(h.trace.filter { $0.contains("start") } == ["@0 start d dm #1", "@0 start l first #2", "@0 start a  #3"])
        #expect(h.driver.attempts.map(\.model) == ["dm", "first", nil])
    }

    @Test("route overrides: max_attempts replaces the retry count, timeout_ms the total timeout")
    func routeOverrides() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429)]], "b": [[.ok]]],
                                     maxAttemptsOverride: 1, timeoutOverrideMs: 1234)
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_RATE_LIMITED", "@0 start b m #2", "@0 done b"])
        #expect(h.driver.attempts.map(\.timeouts.totalMs) == [1234, 1234])
    }

    @Test("per-provider retry and timeouts overrides apply to that provider only")
    func providerOverrides() throws {
        let a1 = #"{"name":"a","type":"openai-compatible","base_url":"http://a.invalid/v1","retry":{"max_attempts":1},"timeouts":{"idle_ms":77}}"#
        var base = TimeoutSettings()
        base.idleMs = 5000
        let h = try ExecutionHarness(providers: [a1, b], scripts: ["a": [[.http(503)]], "b": [[.http(503)], [.ok]]], timeouts: base)
        h.start()
        h.advance(100)
        #expect(h.trace == [
            "@0 start a m #1", "@0 fallback a->b PMX_ERR_UPSTREAM_SERVER", "@0 start b m #2",
            "@0 retry b #2 100ms PMX_ERR_UPSTREAM_SERVER", "@100 start b m #3", "@100 done b",
        ])
        #expect(h.driver.attempts.map(\.timeouts.idleMs) == [77, 5000, 5000])
    }

    @Test("no candidates: one error PMX_ERR_NO_PROVIDER")
    func noCandidates() throws {
        let h = try ExecutionHarness(providers: [], scripts: [:])
        h.start()
        #expect(h.trace == ["@0 error PMX_ERR_NO_PROVIDER"])
    }

    @Test("event JSON: start and retry carry the documented fields")
    func eventJSON() throws {
        let start = ExecutionEvent.start(provider: "a", model: "m", attempt: 2).json()
        #expect(start == ["type": "start", "provider": "a", "model": "m", "attempt": 2])
        let e = HTTPErrorMapping.error(status: 429, body: [], provider: "a")
        let retry = ExecutionEvent.retry(provider: "a", attempt: 1, delayMs: 250, error: e).json()
        #expect(retry["type"] == "retry" && retry["delay_ms"] == 250 && retry["attempt"] == 1)
        #expect(retry["status_name"] == "PMX_ERR_RATE_LIMITED" && retry["http_status"] == 429 && retry["message"] == "HTTP 429")
        let delta = ExecutionEvent.delta(content: "x", toolCalls: nil).json()
        #expect(delta == ["type": "delta", "content": "x"])
        #expect(ExecutionEvent.usage(Usage(promptTokens: 1, completionTokens: 2)).json()["usage"]?["total_tokens"] == 3)
    }
}

