// SPDX-License-Identifier: Apache-2.0
/// Strings and object keys read from a tape. Keys compare by their bytes after unescaping
/// (jansson's rule: "é" and "e\u0301" are different keys, "a" and "\u0061" the same). A key
/// that appears twice in one object counts once, at its first position, with its last
/// value: what jansson 2.14 builds, and so what every reader here sees.
enum JSONKeys {
    /// The string of a string node.
    static func string(_ text: UnsafePointer<UInt8>, _ node: JSONNode) -> String {
        let start = text + node.offset, length = node.length
        guard node.hasEscapes else {
            return String(decoding: UnsafeBufferPointer(start: start, count: length), as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: length) { buffer in
            guard let out = buffer.baseAddress else { return 0 }
            return JSONEscapes.unescape(start, count: length, into: out)
        }
    }

    /// The unescaped bytes of a string node with escapes.
    static func unescaped(_ text: UnsafePointer<UInt8>, _ node: JSONNode) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: node.length) { buffer, n in
            guard let out = buffer.baseAddress else { n = 0; return }
            n = JSONEscapes.unescape(text + node.offset, count: node.length, into: out)
        }
    }

    /// Is the key node `node` equal to `key`'s bytes?
    @inline(__always)
    static func equals(_ text: UnsafePointer<UInt8>, _ node: JSONNode, _ key: UnsafeRawBufferPointer) -> Bool {
        let length = node.length
        guard !node.hasEscapes else {
            return key.count <= length && unescaped(text, node).withUnsafeBytes { $0.elementsEqual(key) }
        }
        guard length == key.count else { return false }
        guard let k = key.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        let s = text + node.offset
        for j in 0..<length where s[j] != k[j] { return false }
        return true
    }

    /// Are two key nodes equal?
    static func equals(_ text: UnsafePointer<UInt8>, _ a: JSONNode, _ b: JSONNode) -> Bool {
        if !a.hasEscapes {
            return equals(text, b, UnsafeRawBufferPointer(start: text + a.offset, count: a.length))
        }
        return unescaped(text, a).withUnsafeBytes { equals(text, b, $0) }
    }

    /// Index of the value of `key` in the object at `object` (the last occurrence), or nil.
    /// Lengths first: most keys differ there, and a key without escapes is its text.
    @inline(__always)
    static func find(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, object: Int, members: Int,
                     key: UnsafeRawBufferPointer) -> Int? {
        var found: Int?
        var i = object &+ 1
        let count = UInt64(truncatingIfNeeded: key.count)
        for _ in 0..<members {
            let k = nodes[i]
            if k.body == count || k.hasEscapes, equals(text, k, key) { found = i &+ 1 }
            let v = nodes[i &+ 1]
            i = v.kindBits >= JSONNode.Kind.array.rawValue ? v.end : i &+ 2
        }
        return found
    }

    /// The key nodes of an object, in order.
    static func keyIndexes(_ nodes: UnsafePointer<JSONNode>, object: Int, members: Int) -> [Int] {
        var keys: [Int] = []
        keys.reserveCapacity(members)
        var i = object &+ 1
        for _ in 0..<members {
            keys.append(i)
            let v = nodes[i &+ 1]
            i = v.kindBits >= JSONNode.Kind.array.rawValue ? v.end : i &+ 2
        }
        return keys
    }

    /// For each member, the position of the first member with the same key (itself when the
    /// key is new); nil when no key repeats (the common case, found without allocating for
    /// small objects).
    static func firstPositions(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, object: Int, members: Int) -> [Int]? {
        guard members > 1 else { return nil }
        if members <= 16 {
            // Pairwise on the tape, without gathering the key indexes into an array first
            // (an allocation per object converted).
            var any = false
            var b = object &+ 1
            search: for _ in 1..<members {
                b = JSONConversion.next(nodes, b &+ 1)
                var a = object &+ 1
                while a < b {
                    if equals(text, nodes[a], nodes[b]) { any = true; break search }
                    a = JSONConversion.next(nodes, a &+ 1)
                }
            }
            guard any else { return nil }
        }
        let keys = keyIndexes(nodes, object: object, members: members)
        // Hash the unescaped key bytes: large objects stay linear.
        var first: [KeyBytes: Int] = [:]
        first.reserveCapacity(members)
        var positions: [Int] = []
        positions.reserveCapacity(members)
        var repeated = false
        for (position, k) in keys.enumerated() {
            let node = nodes[k]
            let bytes = node.hasEscapes ? unescaped(text, node) : Array(UnsafeBufferPointer(start: text + node.offset, count: node.length))
            if let p = first[KeyBytes(bytes)] {
                positions.append(p)
                repeated = true
            } else {
                first[KeyBytes(bytes)] = position
                positions.append(position)
            }
        }
        return repeated ? positions : nil
    }

    /// Distinct keys of an object.
    static func distinctCount(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, object: Int, members: Int) -> Int {
        guard let positions = firstPositions(text, nodes, object: object, members: members) else { return members }
        return positions.enumerated().reduce(0) { $0 &+ ($1.offset == $1.element ? 1 : 0) }
    }

    /// Key bytes hashed and compared as bytes (a String would compare canonically).
    struct KeyBytes: Hashable {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }
}
