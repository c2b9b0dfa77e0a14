// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A borrowed node of a `JSONDocument` (its text and tape, by address). Never outlives its
/// document, nor the document's next `load`.
public struct JSONRef {
    @usableFromInline package let text: UnsafePointer<UInt8>
    @usableFromInline package let nodes: UnsafePointer<JSONNode>
    @usableFromInline package let index: Int

    @inlinable package init(text: UnsafePointer<UInt8>, nodes: UnsafePointer<JSONNode>, index: Int) {
        self.text = text
        self.nodes = nodes
        self.index = index
    }

    /// A null value for an empty document (static storage: a zero node and a zero byte).
    @usableFromInline nonisolated(unsafe) package static let null: JSONRef = {
        let node = UnsafeMutablePointer<JSONNode>.allocate(capacity: 1)
        node.initialize(to: JSONNode(head: 0, body: 0))
        let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return JSONRef(text: byte, nodes: node, index: 0)
    }()

    @inlinable package var node: JSONNode { nodes[index] }
    @inlinable package var kind: JSONNode.Kind { node.kind }

    /// Index of the node after the subtree at `i`.
    @inlinable package func next(_ i: Int) -> Int {
        let n = nodes[i]
        return n.kindBits >= JSONNode.Kind.array.rawValue ? n.end : i &+ 1
    }

    /// The member `key` of an object (the last one when a key repeats, as jansson keeps it).
    public subscript(key: String) -> JSONRef? {
        let n = node
        guard n.kind == .object else { return nil }
        let found = key.utf8.withContiguousStorageIfAvailable {
            JSONKeys.find(text, nodes, object: index, members: n.members, key: UnsafeRawBufferPointer($0))
        } ?? Array(key.utf8).withUnsafeBytes { JSONKeys.find(text, nodes, object: index, members: n.members, key: $0) }
        return found.map { JSONRef(text: text, nodes: nodes, index: $0) }
    }

    public subscript(index: Int) -> JSONRef? {
        let n = node
        guard n.kind == .array, index >= 0, index < n.members else { return nil }
        var i = self.index &+ 1
        for _ in 0..<index { i = next(i) }
        return JSONRef(text: text, nodes: nodes, index: i)
    }

    @inlinable public var isNull: Bool { kind == .null }
    @inlinable public var isArray: Bool { kind == .array }
    @inlinable public var isObject: Bool { kind == .object }

    /// Elements of an array, distinct keys of an object, else 0.
    public var count: Int {
        switch kind {
        case .array: node.members
        case .object: JSONKeys.distinctCount(text, nodes, object: index, members: node.members)
        default: 0
        }
    }

    public var stringValue: String? {
        guard kind == .string else { return nil }
        return JSONKeys.string(text, node)
    }

    /// Is this a string of zero length (checked without making a Swift string)?
    @inlinable public var isEmptyString: Bool { kind == .string && node.length == 0 }

    public var intValue: Int64? {
        switch kind {
        case .int: Int64(bitPattern: node.body)
        case .real: JSONValue.double(Double(bitPattern: node.body)).intValue  // the same rule as JSONValue
        default: nil
        }
    }

    @inlinable public var doubleValue: Double? {
        switch kind {
        case .int: Double(Int64(bitPattern: node.body))
        case .real: Double(bitPattern: node.body)
        default: nil
        }
    }

    /// This subtree as a `JSONValue` (converted now).
    public var value: JSONValue { JSONConversion.value(text, nodes, index) }
}
