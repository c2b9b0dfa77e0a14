// SPDX-License-Identifier: Apache-2.0
/// The memory bound on parsing (issue 12): a parsed document lives twice for a moment — as the
/// parser's representation and as the `JSONValue` built from it — and a node costs far more
/// than its text. With jansson (until issue 14) an empty object `{}` was 3 bytes of text and
/// ~200 bytes of tree; 8 MiB of `[{},{},…]` raised peak memory by ~690 MiB.
///
/// Before a large document is parsed, one tight pass over its bytes counts what it would
/// build — containers, values, object members — outside strings, and the document is refused
/// when the estimated cost passes `factor` × its size (+ `slack`). Legitimate documents are far
/// below that (text, embeddings and tool arguments are a few values per hundred bytes); a
/// document made mostly of tiny values is not. Documents shorter than `scanFromBytes` are not
/// scanned (a stream chunk costs nothing extra): their cost is bounded by their size anyway.
/// The per-node costs were measured with jansson's tree; the library's own scanner (a 16-byte
/// tape node per value) costs less, so the estimate is an upper bound and refuses exactly the
/// documents it refused before (docs/HARDENING.md has both measurements).
/// Depth: the parser refuses nesting deeper than `JSONScanner.maxDepth` (256), which bounds the
/// recursion of `JSONWriter`, the comparison and the release of a `JSONValue` (and the stack
/// they need on a host's thread).
public enum JSONBudget {
    /// Documents shorter than this are parsed without the scan (worst case ~64 KiB × 90).
    public static let scanFromBytes = 64 << 10
    /// Estimated parse cost (both trees) allowed per byte of text.
    public static let factor = 24
    /// Allowance on top of `factor` × size, so that mid-sized documents are never refused for
    /// rounding.
    public static let slack = 4 << 20

    /// Cost in bytes of one node of each kind — jansson's node, its slot in the parent and the
    /// Swift value built from it (an upper bound since issue 14) — measured with 8 MiB documents of each shape on x86-64 glibc
    /// (peak RSS growth / node count, docs/HARDENING.md): any value 66 (`0,`), a string 49 more
    /// (`"",` 115), an object 193 more (`{},` 259), an array 97 more (`[],` 163), an object
    /// member 123 more than its value (`"k1":{},` 382).
    package static let valueCost = 66
    package static let stringCost = 50
    package static let objectCost = 194
    package static let arrayCost = 98
    package static let memberCost = 124 - stringCost  // its key is also counted as a string

    /// Throws `.invalidJSON` naming the counts when `bytes` would cost too much to parse.
    public static func check(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= scanFromBytes else { return }
        let c = count(bytes)
        let cost = estimatedCost(c)
        let allowed = bytes.count.multipliedSaturated(by: factor).addingSaturated(slack)
        if cost > allowed {
            throw PMXError(.invalidJSON, "too many JSON values for its size: \(bytes.count) bytes hold \(c.values) values "
                + "(\(c.objects) objects, \(c.arrays) arrays, \(c.strings) strings), about \(cost >> 20) MiB to parse; "
                + "the bound is \(factor) bytes per byte of text + \(slack >> 20) MiB")
        }
    }

    package static func estimatedCost(_ c: Counts) -> Int {
        c.values.multipliedSaturated(by: valueCost)
            .addingSaturated(c.strings.multipliedSaturated(by: stringCost))
            .addingSaturated(c.objects.multipliedSaturated(by: objectCost))
            .addingSaturated(c.arrays.multipliedSaturated(by: arrayCost))
            .addingSaturated(c.members.multipliedSaturated(by: memberCost))
    }

    package struct Counts { package var objects = 0, arrays = 0, strings = 0, values = 0, members = 0 }

    /// One pass over the bytes: `{` and `[` outside strings open containers, `"` a string
    /// (keys included), `,` separates values (values ≤ commas + containers + 1), `:` marks an
    /// object member. A string's content is skipped, honouring backslash escapes. Malformed
    /// text gives some count and the parser refuses it afterwards.
    package static func count(_ bytes: UnsafeRawBufferPointer) -> Counts {
        var objects = 0, arrays = 0, strings = 0, commas = 0, colons = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            i &+= 1
            switch b {
            case UInt8(ascii: "\""):
                strings &+= 1
                // Skip the string: up to the next unescaped quote.
                while i < n {
                    let s = bytes[i]
                    i &+= 1
                    if s == UInt8(ascii: "\"") { break }
                    if s == UInt8(ascii: "\\") { i &+= 1 }
                }
            case UInt8(ascii: "{"): objects &+= 1
            case UInt8(ascii: "["): arrays &+= 1
            case UInt8(ascii: ","): commas &+= 1
            case UInt8(ascii: ":"): colons &+= 1
            default: break
            }
        }
        return Counts(objects: objects, arrays: arrays, strings: strings,
                      values: commas &+ objects &+ arrays &+ 1, members: colons)
    }
}
