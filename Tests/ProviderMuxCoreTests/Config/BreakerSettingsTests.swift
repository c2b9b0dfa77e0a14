// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// BreakerOverlay (Config/BreakerSettings.swift): a provider's `circuit_breaker` section parsed
// once with the config, applied over the router's settings by a pure function.

@Suite("Breaker settings and overlay")
struct BreakerSettingsTests {
    @Test("a provider's circuit_breaker is a typed overlay: its keys over the router's, the rest kept")
    func providerOverlay() throws {
        let p = try ProviderConfig.parse(JSONParser.parse(
            #"{"name":"a","type":"mock","circuit_breaker":{"cooldown_ms":7,"enabled":false}}"#), path: "providers[0]")
        var expected = BreakerOverlay()
        expected.cooldownMs = 7
        expected.enabled = false
        #expect(p.breakerOverride == expected)

        var router = BreakerSettings()
        router.consecutiveFailures = 2
        router.cooldownMs = 1_000
        let s = router.applying(p.breakerOverride)
        #expect(s.cooldownMs == 7)
        #expect(s.enabled == false)
        #expect(s.consecutiveFailures == 2)
        #expect(router.applying(nil) == router)
    }

    @Test("overlaid(with:) is parse then apply; an invalid section names the field at config time")
    func parseErrors() throws {
        var r = try FieldReader(JSONParser.parse(#"{"failure_rate":0.25}"#), path: "circuit_breaker", status: .config)
        #expect(try BreakerSettings().overlaid(with: &r).failureRate == 0.25)

        do {
            _ = try ProviderConfig.parse(JSONParser.parse(
                #"{"name":"a","type":"mock","circuit_breaker":{"window_ms":0}}"#), path: "providers[0]")
            Issue.record("window_ms 0 was accepted")
        } catch let e as PMXError {
            #expect(e.status == .config)
            #expect(e.message.contains("providers[0].circuit_breaker.window_ms"))
        }
    }
}
