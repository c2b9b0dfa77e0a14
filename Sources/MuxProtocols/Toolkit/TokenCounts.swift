// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Token counts read from an answer's usage fields.
public enum TokenCounts {
    /// Absent or null is nil; a number is clamped into 0...`Usage.maxTokens` (`Usage.count`);
    /// anything else breaks the protocol, with the error the caller words (only built then).
    @inline(__always)
    public static func count(_ value: JSONValue?, orThrow error: @autoclosure () -> PMXError) throws -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let n = Usage.count(value) else { throw error() }
        return n
    }

    /// The same read in place (a stream's usage fields, chunk after chunk: no `JSONValue`).
    @inline(__always)
    package static func count(ref: JSONRef?, orThrow error: @autoclosure () -> PMXError) throws -> Int? {
        guard let ref, !ref.isNull else { return nil }
        guard let v = ref.numberValue, let n = Usage.count(v) else { throw error() }
        return n
    }
}
