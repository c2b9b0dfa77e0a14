// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// DiscoverySettings.parse: the discovery block of a router config, errors naming the field.

@Suite("Discovery: settings")
struct DiscoverySettingsTests {
    private func parse(_ text: String) throws -> DiscoverySettings {
        var r = try FieldReader(JSONParser.parse(text), path: "discovery")
        return try DiscoverySettings.parse(&r)
    }

    private func failure(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch let e as PMXError {
            #expect(e.status == .config)
            return e.message
        } catch { return "\(error)" }
    }

    @Test("defaults: off, the three kinds on 127.0.0.1 at their default ports")
    func defaults() throws {
        let s = try parse("{}")
        #expect(s == DiscoverySettings())
        #expect(!s.enabled && s.intervalMs == 60_000 && s.timeoutMs == 1_000 && s.modelsTTLMs == 300_000)
        #expect(s.targets.map(\.baseURL) == ["http://127.0.0.1:11434", "http://127.0.0.1:1234", "http://127.0.0.1:8080"])
        #expect(s.targets.map(\.kind) == [.ollama, .lmstudio, .llamacpp])
        #expect(LocalServerKind.allCases.map(\.providerType) == [.ollama, .lmstudio, .llamacpp])
    }

    @Test("every key; targets by port, by base_url (trailing / and /v1 dropped), by type alone")
    func full() throws {
        let s = try parse(#"""
            {"enabled":true,"interval_ms":0,"timeout_ms":250,"models_ttl_ms":5000,
             "targets":[{"type":"ollama","port":11500},{"type":"lmstudio","base_url":"http://localhost:1234/v1/"},
                        {"type":"llamacpp","base_url":"http://[::1]:8081/llama/"},{"type":"llamacpp"},
                        {"type":"ollama","base_url":"http://127.3.4.5:9"},{"type":"ollama","base_url":"http://[0:0:0:0:0:0:0:1]:7"}]}
            """#)
        #expect(s.enabled && s.intervalMs == 0 && s.timeoutMs == 250 && s.modelsTTLMs == 5000)
        #expect(s.targets == [
            DiscoveryTarget(kind: .ollama, baseURL: "http://127.0.0.1:11500"),
            DiscoveryTarget(kind: .lmstudio, baseURL: "http://localhost:1234"),
            DiscoveryTarget(kind: .llamacpp, baseURL: "http://[::1]:8081/llama"),
            DiscoveryTarget(kind: .llamacpp, baseURL: "http://127.0.0.1:8080"),
            DiscoveryTarget(kind: .ollama, baseURL: "http://127.3.4.5:9"),
            DiscoveryTarget(kind: .ollama, baseURL: "http://[0:0:0:0:0:0:0:1]:7"),
        ])
    }

    @Test("a non-loopback host is refused, naming the field, unless allow_remote")
    func loopbackOnly() throws {
        let text = #"{"targets":[{"type":"ollama"},{"type":"lmstudio","base_url":"http://10.0.0.5:1234"}]}"#
        #expect(failure(text) == "discovery.targets[1].base_url: host 10.0.0.5 is not loopback; set discovery.allow_remote to probe it")
        for host in ["example.com", "128.0.0.1", "[::2]", "127.0.0.256", "localhost.example.com", "[::ffff:10.0.0.1]"] {
            let m = failure(#"{"targets":[{"type":"llamacpp","base_url":"http://\#(host):8080"}]}"#)
            #expect(m?.hasPrefix("discovery.targets[0].base_url: host ") == true, "\(host): \(m ?? "accepted")")
        }
        let remote = try parse(#"{"allow_remote":true,"targets":[{"type":"lmstudio","base_url":"http://10.0.0.5:1234"}]}"#)
        #expect(remote.targets == [DiscoveryTarget(kind: .lmstudio, baseURL: "http://10.0.0.5:1234")])
    }

    @Test("bad values name the field")
    func errors() {
        #expect(failure(#"{"enabeld":true}"#) == "discovery.enabeld: unknown key")
        #expect(failure(#"{"interval_ms":50}"#) == "discovery.interval_ms: must be 0 (probe only at start) or at least 100, got 50")
        #expect(failure(#"{"timeout_ms":0}"#)?.hasPrefix("discovery.timeout_ms: must be between 1 and 60000") == true)
        #expect(failure(#"{"targets":[]}"#)?.hasPrefix("discovery.targets: must list at least one target") == true)
        #expect(failure(#"{"targets":[{"type":"vllm"}]}"#) == "discovery.targets[0].type: unknown local server type \"vllm\" (expected one of: ollama, lmstudio, llamacpp)")
        #expect(failure(#"{"targets":[{"port":1}]}"#) == "discovery.targets[0].type: is required")
        #expect(failure(#"{"targets":[{"type":"ollama","port":70000}]}"#)?.hasPrefix("discovery.targets[0].port: must be between 1 and 65535") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","port":1,"base_url":"http://127.0.0.1:1"}]}"#) == "discovery.targets[0].base_url: give either port or base_url, not both")
        #expect(failure(#"{"targets":[{"type":"ollama","host":"127.0.0.1"}]}"#) == "discovery.targets[0].host: unknown key")
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"ftp://127.0.0.1"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"http://u:p@127.0.0.1:1"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"http://127.0.0.1:99999"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama"},{"type":"ollama","port":11434}]}"#) == "discovery.targets[1]: the same server as targets[0]")
        #expect(failure(#"{"targets":{"type":"ollama"}}"#) == "discovery.targets: expected an array, got object")
    }
}
