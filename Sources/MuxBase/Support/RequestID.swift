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
    private static let prefix = UInt32.random(in: 0...UInt32.max)

    /// A new id (never the same twice in this process).
    public static func next() -> String {
        format(prefix: prefix, counter: counter.add(1, ordering: .relaxed).newValue)
    }

    /// "<prefix as 8 hex digits>-<counter in hex>", written into the string's own storage: up to
    /// 15 bytes (counters below 16^6) it is a small string, so an id costs no allocation
    /// (`String(_:radix:)` and two concatenations cost ~2,000 instructions per request).
    package static func format(prefix: UInt32, counter: UInt64) -> String {
        var digits = 1
        var rest = counter >> 4
        while rest != 0 { digits += 1; rest >>= 4 }
        let count = 9 + digits
        return String(unsafeUninitializedCapacity: count) { buf in
            var p = UInt64(truncatingIfNeeded: prefix)  // widening: never traps
            for i in stride(from: 7, through: 0, by: -1) { buf[i] = hexDigit(p); p >>= 4 }
            buf[8] = UInt8(ascii: "-")
            var c = counter
            for i in stride(from: count - 1, through: 9, by: -1) { buf[i] = hexDigit(c); c >>= 4 }
            return count
        }
    }

    @inline(__always) private static func hexDigit(_ v: UInt64) -> UInt8 {
        let d = UInt8(truncatingIfNeeded: v & 15)
        return d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") - 10 + d
    }

    /// The caller's `metadata.request_id` when it is a usable string, else a new id.
    public static func forRequest(metadata: JSONValue?) -> String {
        if case .string(let s)? = metadata?["request_id"], !s.isEmpty, s.utf8.count <= maxCallerLength { return s }
        return next()
    }
}
