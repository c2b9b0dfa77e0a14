// SPDX-License-Identifier: Apache-2.0
/// The member names a decoder reads from one kind of object, chunk after chunk, fixed once
/// (a `static let`), for `JSONRef.fields(_:)`: ONE walk over an object's members fills the
/// slot of every name, where `JSONRef[key]` walks the members once per name (a streamed
/// OpenAI chunk asked for eight, a Gemini chunk for about twenty).
///
/// A member is matched by its length first (for each length, a mask of the names that have
/// it: most members of a chunk match no name at all), then by one 8-byte word per 8 bytes of
/// name, loaded from the text (a document's text is followed by 16 zero bytes, JSONTape, so
/// the last word of a name never reads past its buffer). Names compare by their bytes after
/// unescaping, as `JSONRef[key]` does; when a name repeats in an object, its last value wins.
///
/// The tables are allocated once and never freed: a set lives as long as the program.
public struct JSONKeySet: @unchecked Sendable {
    /// The most names one set holds (the slots of `JSONFields` are inline: a decoder reads
    /// at most 6 members of any one object).
    public static let capacity = 8
    /// Names of at least this many bytes share one length bucket (and compare lengths).
    @usableFromInline static let longBucket = 32

    @usableFromInline let count: Int
    /// Name `i`'s bytes as little-endian words, zero padded, from `words[firstWord[i]]`.
    @usableFromInline let words: UnsafeMutablePointer<UInt64>
    @usableFromInline let firstWord: UnsafeMutablePointer<Int>
    @usableFromInline let lengths: UnsafeMutablePointer<Int>
    /// For each length below `longBucket`, a bit per name of that length; the last entry
    /// holds the longer names.
    @usableFromInline let byLength: UnsafeMutablePointer<UInt16>
    /// `names`: distinct, at most `capacity` (a decoder's fixed list: a programming error
    /// otherwise, never input). Slot `i` of the fields is `names[i]`.
    public init(_ names: [String]) {
        precondition(names.count <= Self.capacity && Set(names).count == names.count, "JSONKeySet: at most 8 distinct names")
        let bytes = names.map { Array($0.utf8) }
        count = bytes.count
        let totalWords = bytes.reduce(0) { $0 + ($1.count + 7) / 8 }
        words = .allocate(capacity: Swift.max(totalWords, 1))
        firstWord = .allocate(capacity: Swift.max(count, 1))
        lengths = .allocate(capacity: Swift.max(count, 1))
        byLength = .allocate(capacity: Self.longBucket + 1)
        byLength.initialize(repeating: 0, count: Self.longBucket + 1)
        var w = 0
        for (i, name) in bytes.enumerated() {
            firstWord[i] = w
            lengths[i] = name.count
            byLength[Swift.min(name.count, Self.longBucket)] |= (1 as UInt16) << i
            var k = 0
            while k < name.count {
                var word: UInt64 = 0
                for b in 0..<Swift.min(8, name.count - k) { word |= UInt64(truncatingIfNeeded: name[k + b]) << (8 * b) }
                words[w] = word
                w += 1
                k += 8
            }
        }
    }

    /// Which name (slot) the unescaped member name at `s` (`length` bytes, readable up to
    /// the next multiple of 8) is, or -1.
    @inlinable @inline(__always)
    func slot(_ s: UnsafePointer<UInt8>, _ length: Int) -> Int {
        var mask = byLength[length < Self.longBucket ? length : Self.longBucket]
        while mask != 0 {
            let i = mask.trailingZeroBitCount
            mask &= mask &- 1
            if lengths[i] == length && equal(s, length, words + firstWord[i]) { return i }
        }
        return -1
    }

    @inlinable @inline(__always)
    func equal(_ s: UnsafePointer<UInt8>, _ length: Int, _ name: UnsafePointer<UInt64>) -> Bool {
        let raw = UnsafeRawPointer(s)
        var k = 0, w = 0
        while k &+ 8 <= length {
            if raw.loadUnaligned(fromByteOffset: k, as: UInt64.self).littleEndian != name[w] { return false }
            k &+= 8
            w &+= 1
        }
        let rest = length &- k
        guard rest > 0 else { return true }
        let keep: UInt64 = (1 << UInt64(truncatingIfNeeded: rest &* 8)) &- 1
        return raw.loadUnaligned(fromByteOffset: k, as: UInt64.self).littleEndian & keep == name[w]
    }

    /// The slot of a member name with escapes (unescaped first, into a buffer padded for
    /// the word loads; rare in practice).
    func slot(unescaped bytes: [UInt8]) -> Int {
        let padded = bytes + [UInt8](repeating: 0, count: 8)
        return padded.withUnsafeBufferPointer { slot($0.baseAddress!, bytes.count) }
    }
}

/// The members of one object named by a `JSONKeySet`, found in one walk: `fields[i]` is the
/// value of the set's name `i`, nil when absent (all nil when the value read is not an object).
/// Borrowed like `JSONRef`: valid while its document is, until the next `load`.
public struct JSONFields {
    @usableFromInline let text: UnsafePointer<UInt8>
    @usableFromInline let nodes: UnsafePointer<JSONNode>
    /// The node index of each name's value; 0 (the root, never a member's value) when absent.
    @usableFromInline var slots: InlineArray<8, Int>

    @inlinable init(text: UnsafePointer<UInt8>, nodes: UnsafePointer<JSONNode>) {
        self.text = text
        self.nodes = nodes
        slots = InlineArray(repeating: 0)
    }

    @inlinable public subscript(_ i: Int) -> JSONRef? {
        let n = slots[i]
        return n == 0 ? nil : JSONRef(text: text, nodes: nodes, index: n)
    }

    /// The same with a decoder's own names for the slots (an enum whose raw values are them).
    @inlinable public subscript<Name: RawRepresentable>(_ name: Name) -> JSONRef? where Name.RawValue == Int {
        self[name.rawValue]
    }
}

extension JSONRef {
    /// The members of this object named by `keys`, in one walk over its members (all nil
    /// when this is not an object). See `JSONKeySet`.
    @inlinable @inline(__always) public func fields(_ keys: JSONKeySet) -> JSONFields {
        var f = JSONFields(text: text, nodes: nodes)
        let n = node
        guard n.kind == .object else { return f }
        var i = index &+ 1
        for _ in 0..<n.members {
            let k = nodes[i]
            let slot = k.hasEscapes ? Self.escapedSlot(text, k, keys) : keys.slot(text + k.offset, k.length)
            if slot >= 0 { f.slots[slot] = i &+ 1 }
            let v = nodes[i &+ 1]
            i = v.kindBits >= JSONNode.Kind.array.rawValue ? v.end : i &+ 2
        }
        return f
    }

    @usableFromInline static func escapedSlot(_ text: UnsafePointer<UInt8>, _ key: JSONNode, _ keys: JSONKeySet) -> Int {
        keys.slot(unescaped: JSONKeys.unescaped(text, key))
    }
}
