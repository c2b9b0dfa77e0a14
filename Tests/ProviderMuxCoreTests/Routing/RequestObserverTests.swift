// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// The per-request observer (RequestObserver.swift) on a real router over mock providers:
// one record per request before the blocking call returns, the fields a record carries, none
// while unset, the last observer wins, and the request id in responses and errors.

private func chat(_ extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"hi"}]"# + extra + "}"))
}

private final class Records: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [JSONObject] = []
    func add(_ r: JSONObject) { lock.lock(); items.append(r); lock.unlock() }
    var all: [JSONObject] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Every observed test's setup: a router over `json` whose observer collects its records.
private func observedRouter(_ json: String) throws -> (Router, Records) {
    let r = try routerFromConfig(json)
    let records = Records()
    r.observers.set { records.add($0) }
    return (r, records)
}

@Suite("Request observer")
struct RequestObserverTests {
    @Test("a success: one record before complete returns, with the response's id, provider, attempts and usage")
    func success() throws {
        let (r, records) = try observedRouter(#"{"providers":[{"name":"m","type":"mock"}]}"#)
        defer { r.close() }
        let resp = try r.complete(try chat(#","metadata":{"team":"a"}"#))
        let rec = try #require(records.all.first)
        #expect(records.all.count == 1)
        #expect(rec["request_id"] == resp["request_id"])
        #expect(rec["operation"]?.stringValue == "chat.completions.create")
        #expect(rec["stream"] == .bool(false))
        #expect(rec["metadata"]?["team"]?.stringValue == "a")
        #expect(rec["provider"]?.stringValue == "m")
        #expect(rec["attempts"]?.arrayValue?.count == 1)
        #expect(rec["status"]?.stringValue == "ok")
        #expect(rec["code"] == .int(0))
        #expect(rec["usage"]?["total_tokens"] == resp["usage"]?["total_tokens"])
        #expect(rec["cache_hit"] == .bool(false))
    }

    @Test("a failure: status, code, message and the attempts; the error carries the request id")
    func failure() throws {
        let (r, records) = try observedRouter(#"{"providers":[{"name":"m","type":"mock","script":[{"status":500,"times":10}]}],"retry":{"max_attempts":1}}"#)
        defer { r.close() }
        var thrown: PMXError?
        do { _ = try r.complete(try chat(#","metadata":{"request_id":"mine-1"}"#)) } catch let e as PMXError { thrown = e }
        let rec = try #require(records.all.first)
        #expect(thrown?.requestID == "mine-1")
        #expect(thrown?.json()["request_id"]?.stringValue == "mine-1")
        #expect(rec["request_id"]?.stringValue == "mine-1")
        #expect(rec["status"]?.stringValue == "error")
        #expect(rec["code"] == .int(Int64(Status.upstreamServer.rawValue)))
        #expect(rec["attempts"]?.arrayValue?.first?["outcome"]?.stringValue == "error")
        #expect(rec["message"]?.stringValue?.isEmpty == false)
    }

    @Test("no observer: no record; cleared: none after; replaced: the new one gets the next")
    func setAndClear() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"m","type":"mock"}]}"#)
        defer { r.close() }
        let first = Records(), second = Records()
        #expect(!r.observers.isActive)
        _ = try r.complete(try chat())
        r.observers.set { first.add($0) }
        #expect(r.observers.isActive)
        _ = try r.complete(try chat())
        r.observers.set { second.add($0) }
        _ = try r.complete(try chat())
        r.observers.set(nil)
        _ = try r.complete(try chat())
        #expect(first.all.count == 1)
        #expect(second.all.count == 1)
    }

    @Test("a stream's record has ttft_ms and stream true")
    func stream() throws {
        let (r, records) = try observedRouter(#"{"providers":[{"name":"m","type":"mock"}]}"#)
        defer { r.close() }
        let resp = try r.stream(try chat()) { _ in 0 }
        let rec = try #require(records.all.first)
        #expect(rec["stream"] == .bool(true))
        #expect(rec["ttft_ms"]?.doubleValue != nil)
        #expect(rec["request_id"] == resp["request_id"])
    }
}

@Suite("Request ids")
struct RequestIDTests {
    private func metadata(_ json: String) throws -> JSONValue { try JSONParser.parse(json) }

    @Test("generated ids are unique and short; a caller's metadata.request_id is used as given")
    func ids() throws {
        let a = RequestID.next(), b = RequestID.next()
        #expect(a != b)
        #expect(a.utf8.count <= 20)
        #expect(try RequestID.forRequest(metadata: metadata(#"{"request_id":"abc"}"#)) == "abc")
        let long = String(repeating: "x", count: RequestID.maxCallerLength + 1)
        #expect(try RequestID.forRequest(metadata: metadata(#"{"request_id":"\#(long)"}"#)) != long)
        #expect(try RequestID.forRequest(metadata: metadata(#"{"request_id":3}"#)) != "3")
        #expect(try RequestID.forRequest(metadata: metadata(#"{"request_id":""}"#)) != "")
    }

    @Test("the format: 8 hex digits of the prefix, a dash, the counter in hex")
    func format() {
        #expect(RequestID.format(prefix: 0x3f9a_61c2, counter: 0x1b) == "3f9a61c2-1b")
        #expect(RequestID.format(prefix: 0xa, counter: 0) == "0000000a-0")
        #expect(RequestID.format(prefix: .max, counter: .max) == "ffffffff-ffffffffffffffff")
    }
}
