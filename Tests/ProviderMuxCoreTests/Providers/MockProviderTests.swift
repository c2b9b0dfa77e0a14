// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
@testable import MuxRouting
import Testing

// MockDriver (Providers/MockProvider.swift) on the fake clock of RequestExecutionSupport.swift:
// token delays, scripted failures and cancellation happen exactly when the clock says.

/// A RequestExecution over real mock providers.
final class MockHarness {
    let clock = FakeScheduler()
    let recorder: ExecutionRecorder
    let providers: [ProviderRuntime]
    let execution: RequestExecution

    init(providers: [String], operation: AttemptOperation, retry: RetrySettings = retrySettings()) throws {
        recorder = ExecutionRecorder(clock: clock)
        self.providers = try providers.map(providerRuntime)
        let driver = MockDriver(scheduler: clock)
        let rec = recorder
        execution = RequestExecution(operation: operation, candidates: self.providers.map { .init(provider: $0, model: nil) },
                                     scheduler: clock, driverFor: { _ in driver }, retry: retry, timeouts: TimeoutSettings(),
                                     random: { 0.5 }, sink: { rec.record($0) })
    }

    static func chat(_ text: String = "hi there", stream: Bool) throws -> AttemptOperation {
        .chat(try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"\#(text)"}]}"#)), stream: stream)
    }

    var trace: [String] { recorder.trace }
}

@Suite("MockDriver on the fake clock")
struct MockDriverTests {
    @Test("token_delay_ms: deltas appear only as the clock advances")
    func tokenDelay() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"one two three","token_delay_ms":100}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        #expect(h.trace == ["@0 start mk  #1"])
        h.clock.advance(ms: 0)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"one \""])
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 2)
        h.clock.advance(ms: 1)
        #expect(h.trace.last == "@100 delta \"two \"")
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 3)
        h.clock.advance(ms: 1)
        // The last token, then usage and done at once: no extra token delay at the end.
        #expect(Array(h.trace.suffix(3)) == ["@200 delta \"three\"", "@200 usage 2/3/5", "@200 done mk"])
        let r = try #require(h.recorder.done)
        h.recorder.expectOneTerminal()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "one two three")
        #expect(r["model"] == "mock")
        #expect(r["ttft_ms"]?.doubleValue == 0)
        #expect((r["latency_ms"]?.doubleValue ?? 0) >= 200)
        let deltas = h.recorder.events.compactMap { e -> String? in if case .delta(let c, _) = e.event { return c }; return nil }
        #expect(deltas == ["one ", "two ", "three"])
        // usage comes right before done: 2 prompt words, 3 reply words.
        #expect(h.trace.suffix(2).first?.hasSuffix("usage 2/3/5") == true)
    }

    @Test("latency_ms delays the whole answer")
    func latency() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","latency_ms":500}"#], operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 499)
        #expect(h.recorder.terminals.isEmpty)
        h.clock.advance(ms: 1)
        #expect(h.trace == ["@0 start mk  #1", "@500 done mk"])
        #expect(h.recorder.done?["choices"]?.arrayValue?.first?["message"]?["content"] == "mock: hi there")
        #expect(h.recorder.done?["usage"]?["completion_tokens"] == 3)
    }

    @Test("script {status:429, times:2} then a normal answer: two retries, then done")
    func scripted429() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"status":429,"times":2,"message":"slow down"}]}"#],
                                operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 0)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_RATE_LIMITED"])
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 2)
        h.clock.advance(ms: 301)
        #expect(h.trace == [
            "@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_RATE_LIMITED",
            "@100 start mk  #2", "@100 retry mk #2 200ms PMX_ERR_RATE_LIMITED",
            "@300 start mk  #3", "@300 done mk",
        ])
        let attempts = try #require(h.recorder.done?["attempts"]?.arrayValue)
        #expect(attempts.map { $0["http_status"]?.intValue } == [429, 429, 200])
        #expect(attempts[0]["message"] == "HTTP 429: slow down")
    }

    @Test("script retry_after_ms is honoured as the minimum delay")
    func scriptedRetryAfter() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"status":503,"retry_after_ms":700}]}"#],
                                operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 699)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 700ms PMX_ERR_UPSTREAM_SERVER"])
        h.clock.advance(ms: 1)
        #expect(h.trace.suffix(2) == ["@700 start mk  #2", "@700 done mk"])
    }

    @Test("drop_after_deltas: the stream is interrupted after that many deltas, not retried")
    func dropAfterDeltas() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"a b c d","token_delay_ms":10,"script":[{"drop_after_deltas":2}]}"#,
                                            #"{"name":"other","type":"mock"}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"a \"", "@10 delta \"b \"", "@20 error PMX_ERR_STREAM_INTERRUPTED"])
        h.recorder.expectOneTerminal()
        #expect(h.recorder.error?.provider == "mk")
    }

    @Test("drop_after_deltas 0 fails before any output: retried, and the next attempt answers")
    func dropBeforeOutput() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"x y","script":[{"drop_after_deltas":0}]}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_CONNECTION", "@100 start mk  #2",
                            "@100 delta \"x \"", "@100 delta \"y\"", "@100 usage 2/2/4", "@100 done mk"])
    }

    @Test("error timeout / connection scripts fail that attempt with that class, then fail over")
    func errorScripts() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"error":"timeout"},{"error":"connection"}],"retry":{"max_attempts":2}}"#,
                                            #"{"name":"other","type":"mock","reply":"fine"}"#],
                                operation: MockHarness.chat(stream: false), retry: retrySettings(initial: 10, jitter: 0))
        h.execution.start()
        h.clock.advance(ms: 100)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 10ms PMX_ERR_TIMEOUT", "@10 start mk  #2",
                            "@10 fallback mk->other PMX_ERR_CONNECTION", "@10 start other  #3", "@10 done other"])
    }

    @Test("embeddings: deterministic vectors of embedding_dimensions")
    func embeddings() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"input":["alpha","beta"]}"#))
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","embedding_dimensions":4}"#], operation: .embed(req))
        h.execution.start()
        h.clock.advance(ms: 0)
        let r = try #require(h.recorder.done)
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.map { $0["embedding"]?.arrayValue?.count } == [4, 4])
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(data[0]["embedding"]?.arrayValue == MockReply.embedding("alpha", dimensions: 4))
        #expect(r["provider"] == "mk")
    }

    @Test("cancel while a mock stream is between tokens stops it")
    func cancelMockStream() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"a b c","token_delay_ms":50}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 60)
        h.execution.cancel()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"a \"", "@50 delta \"b \"", "@60 error PMX_ERR_CANCELLED"])
        #expect(h.clock.pendingTimers == 0)
    }
}
