// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Request ids: every routed request gets one, carried by its log lines ("[req 3f9a61c2-1b] …"),
/// its response / `error` event (`request_id`) and its observer record.
///
/// Generated: "<8 hex digits>-<hex counter>" — a random prefix drawn once per process and a
/// process-wide counter, so ids are unique within a process (the counter) and unlikely to
/// collide between processes (the prefix), while staying short enough to read in a log line.
/// A caller that has its own id (a trace id, an upstream request's id) passes it as
/// `metadata.request_id` (a string of 1…128 bytes); that one is used instead.
public enum RequestID {
    /// The longest caller-given id taken as it is; a longer one is replaced by a generated id.
    public static let maxCallerLength = 128

    private static let counter = Atomic<UInt64>(0)

    /// Drawn once from the system generator (getrandom): ids must differ between processes.
    private static let prefix: String = {
        let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: 8 - hex.utf8.count) + hex
    }()

    /// A new id (never the same twice in this process).
    public static func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(n, radix: 16)
    }

    /// The caller's `metadata.request_id` when it is a usable string, else a new id.
    public static func forRequest(metadata: JSONValue?) -> String {
        if case .string(let s)? = metadata?["request_id"], !s.isEmpty, s.utf8.count <= maxCallerLength { return s }
        return next()
    }
}
