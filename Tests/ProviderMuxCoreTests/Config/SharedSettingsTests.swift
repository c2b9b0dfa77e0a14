// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// SharedSettings.parse: the `shared` block (Redis URL, prefix, timeouts), errors naming the field
// and never the password.

@Suite("Shared: settings")
struct SharedSettingsTests {
    private func parse(_ text: String) throws -> SharedSettings {
        var r = try FieldReader(JSONParser.parse(text), path: "shared")
        return try SharedSettings.parse(&r)
    }

    private func failure(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch { return (error as? PMXError)?.message ?? "\(error)" }
    }

    @Test("the URL's parts, the defaults and every key")
    func parsing() throws {
        let d = try parse(#"{"redis":"redis://cache.internal"}"#)
        #expect(d.host == "cache.internal" && d.port == 6379 && d.db == 0 && d.password == nil)
        #expect(d.keyPrefix == "pmx:" && d.timeoutMs == 20 && d.reconnectMs == 1000)
        let s = try parse(#"{"redis":"redis://app:p%40ss@10.0.0.5:6380/3","key_prefix":"svc:","timeout_ms":50,"reconnect_ms":200}"#)
        #expect(s.host == "10.0.0.5" && s.port == 6380 && s.db == 3)
        #expect(s.username == "app" && s.password == "p@ss")
        #expect(s.keyPrefix == "svc:" && s.timeoutMs == 50 && s.reconnectMs == 200)
        let v6 = try parse(#"{"redis":"redis://[::1]:7000/"}"#)
        #expect(v6.host == "::1" && v6.port == 7000 && v6.displayURL == "redis://[::1]:7000/0")
        #expect(try parse(#"{"redis":"redis://:secret@h"}"#).password == "secret")
        #expect(try parse(#"{"redis":"redis://secret@h"}"#).password == "secret")
    }

    @Test("the password is masked in the shown URL and registered as a secret")
    func masking() throws {
        let s = try parse(#"{"redis":"redis://app:Sup3r-Secret-Redis-Pass@h:1/2"}"#)
        #expect(s.displayURL == "redis://app:****@h:1/2")
        #expect(Secrets.isRegistered("Sup3r-Secret-Redis-Pass"))
        #expect(Secrets.mask("x Sup3r-Secret-Redis-Pass y").contains("Sup3r") == false)
    }

    @Test("errors name the field and never contain the password")
    func errors() {
        #expect(failure("{}") == #"shared.redis: is required ("redis://HOST:PORT/DB")"#)
        #expect(failure(#"{"redis":"rediss://h"}"#) == "shared.redis: TLS (rediss://) is not supported; use redis://")
        #expect(failure(#"{"redis":"h:6379"}"#)?.hasPrefix("shared.redis: expected a URL") == true)
        let port = failure(#"{"redis":"redis://:hunter2-password@h:70000"}"#)
        #expect(port == #"shared.redis: the port must be a number 1…65535, got "70000""#)
        #expect(failure(#"{"redis":"redis://h/db1"}"#) == #"shared.redis: the database after the host must be a number 0…10000, got "db1""#)
        #expect(failure(#"{"redis":"redis://:1"}"#) == "shared.redis: the URL names no host")
        #expect(failure(#"{"redis":"redis://:p%zz@h"}"#) == "shared.redis: a bad %-escape in the user or password part")
        #expect(failure(#"{"redis":"redis://h","timeout_ms":0}"#)?.hasPrefix("shared.timeout_ms:") == true)
        #expect(failure(#"{"redis":"redis://h","prefix":"x"}"#) == "shared.prefix: unknown key")
    }

    @Test("a router config reads the section, ${ENV} expanded")
    func inRouterConfig() throws {
        let doc = try JSONParser.parse(#"{"providers":[],"shared":{"redis":"${REDIS_URL}"}}"#)
        let c = try RouterConfig.parse(doc, lookup: { $0 == "REDIS_URL" ? "redis://r:6390/1" : nil })
        #expect(c.shared?.host == "r" && c.shared?.port == 6390 && c.shared?.db == 1)
        #expect(try RouterConfig.parse(#"{"providers":[]}"#).shared == nil)
    }
}
