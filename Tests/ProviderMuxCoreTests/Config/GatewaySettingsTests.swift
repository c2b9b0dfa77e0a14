// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// The router config's `gateway` section (pmx-gateway's bearer keys): accepted and validated by
// the library's config parser, keys masked like provider keys, never quoted in errors.

@Suite("Config: gateway section")
struct GatewaySettingsTests {
    private func config(_ gateway: String, env: [String: String] = [:]) throws -> RouterConfig {
        try RouterConfig.parse(JSONParser.parse(#"{"providers":[],"gateway":\#(gateway)}"#), lookup: { env[$0] })
    }

    private func failure(_ gateway: String) -> String? {
        do { _ = try config(gateway); return nil } catch { return (error as? PMXError)?.message ?? "\(error)" }
    }

    @Test("absent: nil; present: the keys, ${ENV} expanded")
    func parsing() throws {
        #expect(try RouterConfig.parse(#"{"providers":[]}"#).gateway == nil)
        let c = try config(#"{"keys":["${GW_KEY}","second-key-0123"]}"#, env: ["GW_KEY": "gw-test-key-4242"])
        #expect(c.gateway?.keys == ["gw-test-key-4242", "second-key-0123"])
    }

    @Test("a configured key is masked in messages while the config lives")
    func masked() throws {
        let key = "gw-secret-masked-7781"
        let c = try config(#"{"keys":["\#(key)"]}"#)
        #expect(Secrets.isRegistered(key))
        #expect(!Secrets.mask("upstream said: \(key)").contains(key))
        withExtendedLifetime(c) {}
    }

    @Test("errors name the field, never the key")
    func errors() {
        #expect(failure("{}") == "gateway.keys: is required (an array of bearer keys; leave the gateway section out to serve without auth)")
        #expect(failure(#"{"keys":[]}"#) == "gateway.keys: must not be empty (leave the gateway section out to serve without auth)")
        #expect(failure(#"{"keys":["short7"]}"#) == "gateway.keys[0]: a key must be at least 8 bytes, got 6")
        #expect(failure(#"{"keys":["has a space in it"]}"#) == "gateway.keys[0]: a key must not contain spaces or control characters")
        #expect(failure(#"{"keys":["long-enough-key"],"port":4000}"#) == "gateway.port: unknown key")
        #expect(failure(#"{"keys":"long-enough-key"}"#) == "gateway.keys: expected an array of strings, got string")
        #expect(failure(#"[]"#)?.hasPrefix("gateway: expected an object") == true)
    }
}
