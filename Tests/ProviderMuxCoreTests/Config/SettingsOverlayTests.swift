// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// RetryOverlay / TimeoutOverlay (Config/): a `retry` / `timeouts` section parsed once, then
// applied over settings by a pure function; errors at parse time name the field.

private func reader(_ json: String, path: String, status: Status = .invalidRequest) throws -> FieldReader {
    try FieldReader(JSONParser.parse(json), path: path, status: status)
}

private func requestError(_ json: String) -> PMXError? {
    do { _ = try ChatRequest.parse(JSONParser.parse(json)); return nil } catch { return error as? PMXError }
}

@Suite("Settings overlays")
struct SettingsOverlayTests {
    @Test("base + retry overlay → settings: given keys replace, the rest stays, a class entry refines the base's")
    func retryApplied() throws {
        var r = try reader(#"{"max_attempts":5,"jitter":0,"retry_on":["timeout"],"classes":{"rate_limited":{"max_attempts":7},"network":{"initial_backoff_ms":1}}}"#,
                           path: "retry")
        let overlay = try RetryOverlay.parse(&r)
        var base = RetrySettings()
        base.initialBackoffMs = 50
        var limited = base
        limited.multiplier = 3
        base.classes["rate_limited"] = limited

        let s = base.applying(overlay)
        #expect(s.maxAttempts == 5 && s.jitter == 0)
        #expect(s.initialBackoffMs == 50 && s.maxBackoffMs == base.maxBackoffMs && s.multiplier == base.multiplier)
        #expect(s.retryOn == ["timeout"])
        // The base's class entry, refined: its own multiplier kept, the overlay's max_attempts over it.
        #expect(s.classes["rate_limited"]?.multiplier == 3 && s.classes["rate_limited"]?.maxAttempts == 7)
        // A class the base did not have: the overlaid settings around it, then the class keys.
        #expect(s.classes["network"]?.maxAttempts == 5 && s.classes["network"]?.initialBackoffMs == 1)
        #expect(s.classes["network"]?.classes.isEmpty == true)
        // Pure: the same overlay over other settings, and the base untouched.
        #expect(RetrySettings().applying(overlay).initialBackoffMs == RetrySettings().initialBackoffMs)
        #expect(base.maxAttempts == RetrySettings().maxAttempts)
        #expect(base.applying(RetryOverlay()) == base && base.applying(nil as RetryOverlay?) == base)
        // The same result as reading the section over the settings in one go.
        var again = try reader(#"{"max_attempts":5,"jitter":0,"retry_on":["timeout"],"classes":{"rate_limited":{"max_attempts":7},"network":{"initial_backoff_ms":1}}}"#,
                               path: "retry")
        #expect(try base.overlaid(with: &again) == s)
    }

    @Test("base + timeouts overlay → settings")
    func timeoutsApplied() throws {
        var r = try reader(#"{"idle_ms":0,"total_ms":1234}"#, path: "timeouts")
        let overlay = try TimeoutOverlay.parse(&r)
        #expect(overlay.idleMs == 0 && overlay.totalMs == 1234 && overlay.connectMs == nil)
        var base = TimeoutSettings()
        base.connectMs = 77
        let t = base.applying(overlay)
        #expect(t.idleMs == 0 && t.totalMs == 1234 && t.connectMs == 77 && t.firstByteMs == base.firstByteMs && t.healthMs == base.healthMs)
        #expect(base.applying(nil) == base)
    }

    @Test("a request's route holds typed overlays, parsed with the request")
    func routeTyped() throws {
        let req = try ChatRequest.parse(JSONParser.parse(
            #"{"messages":[{"role":"user","content":"hi"}],"route":{"retry":{"max_attempts":2,"classes":{"timeout":{"jitter":0.5}}},"timeouts":{"first_byte_ms":9}}}"#))
        var expected = RetryOverlay()
        expected.scalars.maxAttempts = 2
        var timeout = RetryOverlay.Scalars()
        timeout.jitter = 0.5
        expected.classes["timeout"] = timeout
        #expect(req.route.retry == expected)
        var t = TimeoutOverlay()
        t.firstByteMs = 9
        #expect(req.route.timeouts == t)
        #expect(try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"hi"}]}"#)).route.retry == nil)
    }

    @Test("a provider's retry / timeouts sections are typed overlays on its config")
    func providerTyped() throws {
        let p = try ProviderConfig.parse(JSONParser.parse(#"{"name":"m","type":"mock","retry":{"max_attempts":4},"timeouts":{"connect_ms":5}}"#),
                                         path: "providers[0]")
        #expect(p.retryOverride?.scalars.maxAttempts == 4 && p.timeoutsOverride?.connectMs == 5)
        #expect(p.retry(over: RetrySettings()).maxAttempts == 4 && p.timeouts(over: TimeoutSettings()).connectMs == 5)
    }

    @Test("an invalid overlay in a request is PMX_ERR_INVALID_REQUEST naming the field", arguments: [
        (#""retry":{"max_attempts":0}"#, "route.retry.max_attempts: "),
        (#""retry":{"retry_on":["nope"]}"#, "route.retry.retry_on: "),
        (#""retry":{"classes":{"nope":{}}}"#, "route.retry.classes.nope: "),
        (#""retry":{"classes":{"timeout":{"max_attempts":0}}}"#, "route.retry.classes.timeout.max_attempts: "),
        (#""retry":{"classes":{"timeout":null}}"#, "route.retry.classes.timeout: expected an object"),
        (#""retry":{"classes":{"timeout":{"retry_on":[]}}}"#, "route.retry.classes.timeout.retry_on: unknown key"),
        (#""timeouts":{"idle_ms":-1}"#, "route.timeouts.idle_ms: "),
        (#""timeouts":{"idle":1}"#, "route.timeouts.idle: unknown key"),
        (#""timeouts":[]"#, "route.timeouts: expected an object"),
    ])
    func invalidInRequest(route: String, prefix: String) throws {
        let e = try #require(requestError(#"{"messages":[{"role":"user","content":"hi"}],"route":{"# + route + "}}"))
        #expect(e.status == .invalidRequest, "\(e)")
        #expect(e.message.hasPrefix(prefix), "\(e.message)")
    }

    @Test("an invalid overlay in a config is PMX_ERR_CONFIG naming the field")
    func invalidInConfig() throws {
        #expect(throws: PMXError.self) { try ProviderConfig.parse(JSONParser.parse(#"{"name":"m","type":"mock","retry":{"classes":{"timeout":{"jitter":2}}}}"#), path: "providers[0]") }
        do {
            _ = try ProviderConfig.parse(JSONParser.parse(#"{"name":"m","type":"mock","retry":{"classes":{"timeout":{"jitter":2}}}}"#), path: "providers[0]")
        } catch let e as PMXError {
            #expect(e.status == .config && e.message.hasPrefix("providers[0].retry.classes.timeout.jitter: "), "\(e)")
        }
    }
}
