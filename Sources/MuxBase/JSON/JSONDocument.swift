// SPDX-License-Identifier: Apache-2.0
/// A parsed document read in place: the text and a tape of nodes (`JSONNode`), no value tree.
/// Hot paths (a stream's chunk after chunk) look up the few fields they need through `ref`;
/// only what is asked for becomes a Swift value (`stringValue`, `value`).
///
/// Reuse: a decoder may keep one document and `load` each chunk into it; the buffers stay,
/// so a chunk costs no allocation at all. Not thread-safe (one owner at a time).
public final class JSONDocument {
    /// One owner at a time, and no access to it calls out (loading parses, `ref` reads two
    /// pointers): no runtime exclusivity checks (two per streamed chunk, ~180 instructions).
    @exclusivity(unchecked) @usableFromInline package var tape: JSONTape

    /// Parses UTF-8 bytes (copied); errors as `JSONParser.parse`. The buffers come from the
    /// thread's spare pair when there is one (JSONTapeCache) and go back to it at deinit.
    public init(_ bytes: UnsafeRawBufferPointer) throws {
        tape = try Self.loaded(bytes)
    }

    public init(_ bytes: [UInt8]) throws {
        tape = try bytes.withUnsafeBytes { try Self.loaded($0) }
    }

    /// A tape from the thread's spare buffers holding `bytes`; on an error the buffers go back.
    private static func loaded(_ bytes: UnsafeRawBufferPointer) throws -> JSONTape {
        var t = JSONTapeCache.take()
        do { try t.load(bytes) } catch {
            JSONTapeCache.give(&t)
            throw error
        }
        return t
    }

    /// An empty document (`ref` reads as null) to `load` into, again and again.
    public init() { tape = JSONTape() }

    /// Parses `bytes` in place of the current document, reusing its buffers. Every `JSONRef`
    /// taken before is invalid afterwards. After an error the document is empty (null).
    public func load(_ bytes: UnsafeRawBufferPointer) throws {
        try tape.load(bytes)
    }

    deinit { JSONTapeCache.give(&tape) }

    /// The root value; valid while this document lives and until the next `load` (keep the
    /// document in scope while reading).
    @inlinable public var ref: JSONRef {
        guard tape.count > 0, let text = tape.text, let nodes = tape.nodes else { return JSONRef.null }
        return JSONRef(text: UnsafePointer(text), nodes: UnsafePointer(nodes), index: 0)
    }
}
