// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Options of the in-process `mock` provider: deterministic replies, latency and scripted faults.
public struct MockOptions: Sendable {
    public enum Fault: Sendable, Equatable {
        case ok
        case status(Int, retryAfterMs: Int?, message: String?)
        case dropAfterDeltas(Int)
        case timeout
        case connection
    }
    public struct ScriptEntry: Sendable, Equatable {
        public var fault: Fault
        public var times: Int
    }

    public var reply: String?
    public var latencyMs = 0
    public var tokenDelayMs = 0
    public var embeddingDimensions = 8
    public var script: [ScriptEntry] = []
    public init() {}

    /// Reads the mock keys from a provider object reader.
    package static func parse(_ r: inout FieldReader) throws -> MockOptions {
        var m = MockOptions()
        m.reply = try r.string("reply", nonEmpty: false)
        m.latencyMs = try r.int("latency_ms", min: 0, max: 3_600_000) ?? 0
        m.tokenDelayMs = try r.int("token_delay_ms", min: 0, max: 3_600_000) ?? 0
        m.embeddingDimensions = try r.int("embedding_dimensions", min: 1, max: 65_536) ?? 8
        for (i, entry) in (try r.array("script") ?? []).enumerated() {
            var e = try FieldReader(entry, path: r.fieldPath("script") + "[\(i)]")
            let times = try e.int("times", min: 1, max: 1_000_000) ?? 1
            var fault: Fault?
            func set(_ f: Fault, _ key: String) throws {
                if fault != nil { throw e.fail(key, "only one of status, drop_after_deltas, error, ok per entry") }
                fault = f
            }
            if let status = try e.int("status", min: 100, max: 599) {
                try set(.status(status, retryAfterMs: try e.int("retry_after_ms", min: 0, max: 86_400_000),
                                message: try e.string("message")), "status")
            }
            if let n = try e.int("drop_after_deltas", min: 0, max: 1_000_000) { try set(.dropAfterDeltas(n), "drop_after_deltas") }
            if let kind = try e.string("error") {
                switch kind {
                case "timeout": try set(.timeout, "error")
                case "connection": try set(.connection, "error")
                default: throw e.fail("error", "expected \"timeout\" or \"connection\", got \"\(kind)\"")
                }
            }
            if try e.bool("ok") == true { try set(.ok, "ok") }
            try e.finish()
            guard let fault else {
                throw PMXError(.config, "\(e.path): needs one of status, drop_after_deltas, error, ok")
            }
            m.script.append(ScriptEntry(fault: fault, times: times))
        }
        return m
    }
}
