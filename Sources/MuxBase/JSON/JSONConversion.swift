// SPDX-License-Identifier: Apache-2.0
/// A tape subtree as a `JSONValue`. Iterative, with its own stack of open containers: a
/// document may nest `JSONScanner.maxDepth` deep, and a recursive walk costs stack per level
/// on a host's thread (a debug build under TSan overflowed a test thread's stack at 2,048).
///
/// Finished values wait on one value stack (`JSONValueStack`) until their container closes;
/// the container then takes them by moving them out (no retain, no release, no append per
/// member). An open container is three integers. The first iterative version kept a frame per
/// container with its own array and object being built (appended to member by member): ~7,000
/// instructions more per `pmx_router_complete` than the recursion it replaced.
enum JSONConversion {
    /// One open container.
    private struct Open {
        /// Its node on the tape.
        let node: Int
        /// Where its first member's value sits on the value stack.
        let base: Int
        /// Members still to convert.
        var remaining: Int
    }

    static func value(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, _ i: Int) -> JSONValue {
        let first = nodes[i]
        guard first.kindBits >= JSONNode.Kind.array.rawValue, first.members > 0 else { return leaf(text, nodes, i) }
        var values = JSONValueStack()
        var open: [Open] = []
        open.reserveCapacity(8)
        var at = i
        while true {
            var produced: JSONValue
            /// The node after the produced value.
            var after: Int
            let node = nodes[at]
            if node.kindBits >= JSONNode.Kind.array.rawValue, node.members > 0 {
                values.reserve(node.members)
                open.append(Open(node: at, base: values.count, remaining: node.members))
                at = node.kind == .object ? at &+ 2 : at &+ 1  // an object's first value follows its key
                continue
            }
            produced = leaf(text, nodes, at)
            after = node.kindBits >= JSONNode.Kind.array.rawValue ? node.end : at &+ 1
            // Hand the value to its container; a container that is complete is handed on.
            while true {
                let top = open.count &- 1
                values.append(produced)
                open[top].remaining &-= 1
                let o = open[top]
                let isObject = nodes[o.node].kind == .object
                if o.remaining > 0 {
                    at = isObject ? after &+ 1 : after
                    break
                }
                open.removeLast()
                produced = isObject ? .object(object(text, nodes, o, &values)) : .array(values.take(from: o.base))
                after = nodes[o.node].end
                guard !open.isEmpty else { return produced }
            }
        }
    }

    /// A scalar, or an empty container.
    @inline(__always)
    private static func leaf(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, _ at: Int) -> JSONValue {
        let node = nodes[at]
        switch node.kind {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int: return .int(Int64(bitPattern: node.body))
        case .real: return .double(Double(bitPattern: node.body))
        case .string: return .string(JSONKeys.string(text, node))
        case .array: return .array([])
        case .object: return .object(JSONObject())
        }
    }

    /// The closed object `o`: its keys read from the tape, its values taken off the stack.
    /// A repeated key keeps its first position and takes the last value (JSONKeys).
    private static func object(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, _ o: Open,
                               _ values: inout JSONValueStack) -> JSONObject {
        let n = nodes[o.node].members
        guard let positions = JSONKeys.firstPositions(text, nodes, object: o.node, members: n) else {
            return JSONObject(members: values.takeMembers(from: o.base, text, nodes, object: o.node))
        }
        var result = JSONObject()
        result.reserveCapacity(n)
        var slots: [Int] = []  // member position → index in `result`
        slots.reserveCapacity(n)
        var key = o.node &+ 1
        let all = values.take(from: o.base)
        for p in 0..<n {
            if positions[p] == p {
                slots.append(result.count)
                result.appendUnchecked(JSONKeys.string(text, nodes[key]), all[p])
            } else {
                slots.append(slots[positions[p]])
                result.replaceValue(at: slots[positions[p]], all[p])
            }
            key = next(nodes, key &+ 1)
        }
        return result
    }

    @inline(__always)
    static func next(_ nodes: UnsafePointer<JSONNode>, _ i: Int) -> Int {
        let n = nodes[i]
        return n.kindBits >= JSONNode.Kind.array.rawValue ? n.end : i &+ 1
    }
}

/// The values of open containers, in document order, until their container closes and moves
/// them out (its size is bounded by the tape's node count).
typealias JSONValueStack = GrowableBuffer<JSONValue>

extension GrowableBuffer where Element == JSONValue {
    init() { self.init(capacity: 16) }

    /// The values from `start` on, moved into an array; the stack ends at `start`.
    /// Reserved and appended: `Array(unsafeUninitializedCapacity:)` is not specialized (it
    /// looked the array's type metadata up at run time, ~700 instructions per container).
    mutating func take(from start: Int) -> [JSONValue] {
        let n = count &- start
        let from = base + start
        forgetMoved(from: start)
        var out: [JSONValue] = []
        out.reserveCapacity(n)
        for k in 0..<n { out.append((from + k).move()) }
        return out
    }

    /// The values from `start` on, moved into the members of the object at node `object`
    /// (keys read from the tape, all distinct); the stack ends at `start`.
    mutating func takeMembers(from start: Int, _ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>,
                              object: Int) -> [JSONObject.Member] {
        let n = count &- start
        let from = base + start
        forgetMoved(from: start)
        var out: [JSONObject.Member] = []
        out.reserveCapacity(n)
        var key = object &+ 1
        for k in 0..<n {
            out.append(JSONObject.Member(key: JSONKeys.string(text, nodes[key]), value: (from + k).move()))
            key = JSONConversion.next(nodes, key &+ 1)
        }
        return out
    }
}
