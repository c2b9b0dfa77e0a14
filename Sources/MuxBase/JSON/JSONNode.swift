// SPDX-License-Identifier: Apache-2.0
/// One entry of a parsed document's tape: every value and every object key is one node, in
/// document order (an object's members are key, value, key, value…), 16 bytes each. Nothing
/// is copied out of the text: a string node points at its bytes and is unescaped only when
/// read; numbers are converted while parsing (a number that does not fit must be refused then).
@usableFromInline
package struct JSONNode {
    /// Low 4 bits: `Kind`; bit 4: the string holds escapes. Above bit 8: a string's byte
    /// offset in the text, or a container's member count (pairs for objects).
    @usableFromInline package var head: UInt64
    /// A string's byte length (escapes still in); an integer's or a real's bit pattern; for a
    /// container, the index of the first node after its subtree (while it is open: its
    /// parent's index, the parser's stack).
    @usableFromInline package var body: UInt64

    @usableFromInline
    package enum Kind: UInt8 {
        case null = 0, `false`, `true`, int, real, string, array, object
    }

    @usableFromInline package static let escapedFlag: UInt64 = 0x10

    @inlinable package init(head: UInt64, body: UInt64) {
        self.head = head
        self.body = body
    }

    @inlinable package var kindBits: UInt8 { UInt8(truncatingIfNeeded: head & 0xF) }
    /// Every 3-bit value is a case (0...7), so the bits are the kind as they are: the optional
    /// `Kind(rawValue:)` was an outlined call on the per-chunk path (~150 instructions a
    /// Gemini chunk).
    @inlinable package var kind: Kind { unsafeBitCast(kindBits & 0x7, to: Kind.self) }
    @inlinable package var hasEscapes: Bool { head & Self.escapedFlag != 0 }
    /// Byte offset of a string's content (after the opening quote).
    @inlinable package var offset: Int { Int(truncatingIfNeeded: head >> 8) }
    /// Members of a container (an object's count is of pairs, duplicates included).
    @inlinable package var members: Int { Int(truncatingIfNeeded: head >> 8) }
    @inlinable package var length: Int { Int(truncatingIfNeeded: body) }
    @inlinable package var end: Int { Int(truncatingIfNeeded: body) }
}
