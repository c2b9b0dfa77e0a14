// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
import Foundation
import Testing

// ProviderExchange (Providers/ProviderExchange.swift), the one HTTP exchange of every non-routed
// call, over REAL libcurl against Tests/upstream/fake_upstream.py: its bounds (byte limit,
// timeout), the codec's error mapping with keys masked, streamed bodies, cancellation from the
// waiting thread, and the refusal to block on an I/O thread. Every blocking call runs on its own
// thread with a bounded wait (IntegrationSupport.swift), so nothing here can hang.

private let exchangeKey = "sk-exchange-SECRET-5678"

@Suite("ProviderExchange: one HTTP exchange against the fake upstream", .serialized)
final class ProviderExchangeTests {
    let server: FakeUpstreamServer
    let loop: EventLoop
    let scope = "ex-" + String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
        loop = try EventLoop(name: "pmx-exchange-test")
    }

    deinit { loop.shutdown() }

    /// An ollama provider at this test's scope (the codec whose error mapping differs from the
    /// generic one on a 404 that is not JSON).
    func provider() throws -> ProviderConfig {
        try ProviderConfig.parse(JSONParser.parse(
            #"{"name":"ex","type":"ollama","base_url":"http://127.0.0.1:\#(server.port)/\#(scope)","api_key":"\#(exchangeKey)"}"#), path: "p")
    }

    /// `GET {scope}/v1/models`: an endpoint the fake's fault scripts apply to.
    var modelsCall: ProviderHTTPCall {
        ProviderHTTPCall(method: "GET", url: server.base(scope) + "/models", headers: [("Authorization", "Bearer \(exchangeKey)")])
    }

    func limits(totalMs: Int = 5_000, maxResponseBytes: Int = 1 << 20) -> ExchangeLimits {
        ExchangeLimits(connectMs: 5_000, totalMs: totalMs, maxResponseBytes: maxResponseBytes)
    }

    /// The blocking form from a plain thread: the answer, or the error it threw.
    func perform(_ call: ProviderHTTPCall, _ limits: ExchangeLimits) throws -> Result<ExchangeAnswer, PMXError> {
        let p = try provider()
        let loop = self.loop
        return try #require(runOnThread {
            do { return .success(try ProviderExchange.perform(call, limits, provider: p, codec: OllamaCodec(), on: loop, caller: "test_call")) }
            catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "\(error)")) }
        })
    }

    /// The callback form: starts on the loop and waits (bounded) for `done`.
    func start(_ call: ProviderHTTPCall, _ limits: ExchangeLimits,
               onChunk: (@Sendable (UnsafeRawBufferPointer) -> Void)? = nil) throws -> ExchangeAnswer {
        let handoff = ThreadHandoff<ExchangeAnswer>()
        loop.execute { [loop] in
            ProviderExchange.start(call, limits, provider: "ex", on: loop, onChunk: onChunk) { answer in
                handoff.value = answer
                handoff.done.signal()
            }
        }
        #expect(handoff.done.wait(timeout: .now() + 15) == .success)
        return try #require(handoff.value)
    }

    @Test("a 2xx answer: status, headers and the whole body, after a request carrying the call's headers")
    func success() throws {
        let answer = try perform(modelsCall, limits()).get()
        #expect(answer.status == 200)
        #expect(answer.head.header("content-type")?.hasPrefix("application/json") == true)
        let ids = try JSONParser.parse(answer.body)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["fake-small", "fake-large"])
        #expect(answer.failure == nil)
        let logged = try server.requests(scope)
        #expect(logged.count == 1)
        #expect(logged.first?["headers"]?["authorization"]?.stringValue == "Bearer \(exchangeKey)")
    }

    @Test("a body larger than max_response_bytes fails as response_too_large, naming the limit")
    func bodyLimit() throws {
        let r = try perform(modelsCall, limits(maxResponseBytes: 64))
        guard case .failure(let e) = r else { Issue.record("expected a failure, got \(r)"); return }
        #expect(e.status == .responseTooLarge)
        #expect(e.message.contains("64 bytes"))
        #expect(e.provider == "ex")
        // The callback form reports the same, as its answer's failure.
        let answer = try start(modelsCall, limits(maxResponseBytes: 64))
        #expect(answer.failure?.status == .responseTooLarge)
    }

    @Test("a non-2xx answer is the codec's error (Ollama: a 404 that is not JSON is a wrong path), with the key masked")
    func nonSuccessMappedByCodec() throws {
        try server.script(scope, #"[{"status":404,"body":"404 page not found"}]"#)
        let r = try perform(modelsCall, limits())
        guard case .failure(let e) = r else { Issue.record("expected a failure, got \(r)"); return }
        // The generic mapping says model_not_found for any 404; Ollama's codec knows better.
        #expect(e.status == .upstreamHTTP)
        #expect(e.httpStatus == 404)
        #expect(e.message.contains("no such path"))
        // A provider echoing the credentials: the error never carries the key.
        try server.script(scope, #"[{"status":401,"echo_credentials":true}]"#)
        let echoed = try perform(modelsCall, limits())
        guard case .failure(let auth) = echoed else { Issue.record("expected a failure, got \(echoed)"); return }
        #expect(auth.status == .auth)
        #expect(auth.message.contains("credentials received"))
        #expect(!auth.message.contains(exchangeKey))
    }

    @Test("the callback form hands back a non-2xx answer as it came: status and body, no failure")
    func callbackFormKeepsStatus() throws {
        try server.script(scope, #"[{"status":503}]"#)
        let answer = try start(modelsCall, limits())
        #expect(answer.failure == nil)
        #expect(answer.status == 503)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("fake fault 503"))
        #expect(answer.error(mappedBy: OllamaCodec(), provider: try provider())?.status == .upstreamServer)
    }

    @Test("a server that never answers ends in a timeout after total_ms")
    func timeout() throws {
        try server.script(scope, #"[{"hang":true}]"#)
        let r = try perform(modelsCall, limits(totalMs: 300))
        guard case .failure(let e) = r else { Issue.record("expected a failure, got \(r)"); return }
        #expect(e.status == .timeout)
    }

    @Test("with onChunk a 2xx body is streamed to it and not kept; a non-2xx body is kept for the error")
    func streamedBody() throws {
        final class Bytes: @unchecked Sendable { var data: [UInt8] = [] }
        let seen = Bytes()  // loop thread only, read after `done`
        let answer = try start(modelsCall, limits()) { chunk in seen.data.append(contentsOf: chunk) }
        #expect(answer.status == 200)
        #expect(answer.body.isEmpty)
        #expect(try JSONParser.parse(seen.data)["data"]?.arrayValue?.count == 2)
        try server.script(scope, #"[{"status":500}]"#)
        let failed = try start(modelsCall, limits()) { _ in Issue.record("a 500 body reached onChunk") }
        #expect(failed.status == 500)
        #expect(!failed.body.isEmpty)
    }

    @Test("a non-zero return from the waiting thread's event callback cancels the transfer and ends with the given error")
    func cancelFromWaitingThread() throws {
        try server.script(scope, #"[{"hang":true}]"#)
        let call = modelsCall
        let limits = limits(totalMs: 60_000)
        let loop = self.loop
        let r: Result<Int, PMXError> = try #require(runOnThread {
            do {
                return .success(try ProviderExchange.wait(caller: "test_call", on: loop, onEvent: { _ in 1 },
                                                          cancelled: PMXError(.cancelled, "test cancelled", provider: "ex")) { (waiter: ExchangeWaiter<Int>) in
                    let transfer = ProviderExchange.start(call, limits, provider: "ex", on: loop) { _ in waiter.finish(.success(1)) }
                    waiter.push(["type": "progress"])
                    return transfer
                })
            } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "\(error)")) }
        })
        guard case .failure(let e) = r else { Issue.record("expected the cancellation, got \(r)"); return }
        #expect(e.status == .cancelled)
        #expect(e.message == "test cancelled")
    }

    @Test("blocking on an I/O thread is refused with would_deadlock, before anything is sent")
    func refusedOnIOThread() throws {
        let p = try provider()
        let handoff = ThreadHandoff<PMXError>()
        let call = modelsCall, limits = limits()
        loop.execute { [loop] in
            do { _ = try ProviderExchange.perform(call, limits, provider: p, codec: OllamaCodec(), on: loop, caller: "test_call") }
            catch { handoff.value = error as? PMXError }
            handoff.done.signal()
        }
        #expect(handoff.done.wait(timeout: .now() + 15) == .success)
        let e = try #require(handoff.value)
        #expect(e.status == .wouldDeadlock)
        #expect(e.message.contains("test_call called on the router's I/O thread"))
        #expect(try server.requests(scope).isEmpty)
    }
}
