// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProviders
@testable import MuxRouting
import Testing

// AttemptRecord (Support/): the typed record of one attempt and its one serialisation, and the
// error object PMXError.json() builds around the records.

private func text(_ r: AttemptRecord) -> String { JSONWriter.string(r.json()) }

@Suite("AttemptRecord")
struct AttemptRecordTests {
    @Test("a success: provider, model, outcome, http_status 200, latency_ms rounded to the microsecond")
    func ok() {
        let r = AttemptRecord.sent(provider: "a", model: "m", error: nil, latencyMs: 12.0004)
        #expect(r.outcome == .ok && r.status == nil && r.message == nil && r.httpStatus == 200)
        #expect(text(r) == #"{"provider":"a","model":"m","outcome":"ok","http_status":200,"latency_ms":12.0}"#)
    }

    @Test("a failure: the status fields, http_status and message in the order the bindings read")
    func failed() {
        let e = PMXError(.rateLimited, "HTTP 429: slow down", httpStatus: 429, provider: "a")
        let r = AttemptRecord.sent(provider: "a", model: "m", error: e, latencyMs: 10)
        #expect(text(r) == #"{"provider":"a","model":"m","outcome":"error","code":\#(Status.rateLimited.rawValue),"#
            + #""status_name":"PMX_ERR_RATE_LIMITED","error_class":"rate_limited","http_status":429,"message":"HTTP 429: slow down","latency_ms":10.0}"#)
        #expect(r["status_name"] == "PMX_ERR_RATE_LIMITED" && r["outcome"] == "error" && r["nothing"] == nil)
    }

    @Test("a candidate passed over: outcome skipped, http_status 0, latency_ms the integer 0")
    func skipped() {
        let e = PMXError(.circuitOpen, "circuit open", httpStatus: 503)
        let r = AttemptRecord.skipped(provider: "b", model: "", refusal: e)
        #expect(text(r) == #"{"provider":"b","model":"","outcome":"skipped","code":\#(Status.circuitOpen.rawValue),"#
            + #""status_name":"PMX_ERR_CIRCUIT_OPEN","error_class":"\#(Status.circuitOpen.errorClass)","http_status":0,"message":"circuit open","latency_ms":0}"#)
    }

    @Test("attempts_omitted is written only when records were left out")
    func omitted() {
        let records = [AttemptRecord.sent(provider: "a", model: "m", error: nil, latencyMs: 1)]
        var o = JSONObject()
        AttemptRecord.write(records, omitted: 0, into: &o)
        #expect(o.keys == ["attempts"] && o["attempts"]?.arrayValue?.count == 1)
        AttemptRecord.write(records, omitted: 3, into: &o)
        #expect(o.keys == ["attempts", "attempts_omitted"] && o["attempts_omitted"] == .int(3))
    }

    @Test("the error object: one shape, its attempts serialised by AttemptRecord")
    func errorObject() {
        var e = PMXError(.upstreamServer, "all failed", httpStatus: 500, provider: "b")
        e.attempts = [AttemptRecord.sent(provider: "b", model: "m", error: PMXError(.upstreamServer, "HTTP 500", httpStatus: 500), latencyMs: 2)]
        e.attemptsOmitted = 4
        let j = e.json()
        #expect(j.objectValue?.keys == ["type", "code", "status_name", "error_class", "http_status", "provider", "message", "attempts", "attempts_omitted"])
        #expect(j["attempts"] == .array(e.attempts.map { $0.json() }))
        #expect(j["attempts"]?.arrayValue?.first?["message"] == "HTTP 500")
        // Retry and fallback events name the status without error_class, as they always have.
        let retry = ExecutionEvent.retry(provider: "b", attempt: 1, delayMs: 5, error: e).json()
        #expect(retry.objectValue?.keys == ["type", "provider", "attempt", "delay_ms", "code", "status_name", "http_status", "message"])
    }

    @Test("a router's providers get their driver once, when the router takes them (config, add_provider)")
    func driversOnce() throws {
        let r = try Router(config: RouterConfig.parse(JSONParser.parse(
            #"{"providers":[{"name":"m","type":"mock"},{"name":"o","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1"}]}"#),
            lookup: { _ in nil }))
        try r.addProvider(ProviderConfig.parse(JSONParser.parse(#"{"name":"later","type":"ollama"}"#), path: "provider"))
        let drivers = r.providerSnapshot.map { ($0.name, $0.driver) }
        #expect(drivers.map(\.0) == ["m", "o", "later"])
        #expect(drivers[0].1 is MockDriver && drivers[1].1 is CodecHTTPDriver && drivers[2].1 is CodecHTTPDriver)
    }
}
