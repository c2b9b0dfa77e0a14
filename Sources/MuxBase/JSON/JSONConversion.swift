/// A tape subtree as a `JSONValue`. Iterative, with its own stack of open containers: a
/// document may nest `JSONScanner.maxDepth` deep, and a recursive walk costs stack per level
/// on a host's thread (a debug build under TSan overflowed a test thread's stack at 2,048).
enum JSONConversion {
    /// One open container: what it holds so far and where its next member starts.
    private struct Open {
        let isObject: Bool
        /// Members still to convert.
        var remaining: Int
        /// Node of the next member (an object's: its key).
        var cursor: Int
        var array: [JSONValue] = []
        var object = JSONObject()
        /// Objects with a repeated key: each member's first position (JSONKeys.firstPositions).
        var positions: [Int]?
        /// Member position → index in `object` (only with `positions`).
        var slots: [Int] = []

        /// Where the next member's value starts.
        var valueIndex: Int { isObject ? cursor &+ 1 : cursor }

        /// Takes the value of the member at `cursor` and moves on to the next member.
        mutating func add(_ v: JSONValue, _ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>) {
            if !isObject {
                array.append(v)
                cursor = JSONConversion.next(nodes, cursor)
            } else {
                if let positions {
                    // A repeated key keeps its first position and takes the last value.
                    let p = positions[slots.count]
                    if p == slots.count {
                        slots.append(object.count)
                        object.appendUnchecked(JSONKeys.string(text, nodes[cursor]), v)
                    } else {
                        slots.append(slots[p])
                        object.replaceValue(at: slots[p], v)
                    }
                } else {
                    object.appendUnchecked(JSONKeys.string(text, nodes[cursor]), v)
                }
                cursor = JSONConversion.next(nodes, cursor &+ 1)
            }
            remaining &-= 1
        }

        var value: JSONValue { isObject ? .object(object) : .array(array) }
    }

    static func value(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, _ i: Int) -> JSONValue {
        var open: [Open] = []
        var at = i
        while true {
            var produced: JSONValue
            let node = nodes[at]
            switch node.kind {
            case .null: produced = .null
            case .false: produced = .bool(false)
            case .true: produced = .bool(true)
            case .int: produced = .int(Int64(bitPattern: node.body))
            case .real: produced = .double(Double(bitPattern: node.body))
            case .string: produced = .string(JSONKeys.string(text, node))
            case .array, .object:
                let isObject = node.kind == .object
                var c = Open(isObject: isObject, remaining: node.members, cursor: at &+ 1)
                if isObject {
                    c.object.reserveCapacity(node.members)
                    c.positions = JSONKeys.firstPositions(text, nodes, object: at, members: node.members)
                    if c.positions != nil { c.slots.reserveCapacity(node.members) }
                } else {
                    c.array.reserveCapacity(node.members)
                }
                guard c.remaining > 0 else { produced = c.value; break }
                at = c.valueIndex
                open.append(c)
                continue
            }
            // Hand the value to its container; a container that is complete is handed on.
            while true {
                guard !open.isEmpty else { return produced }
                let top = open.count &- 1
                open[top].add(produced, text, nodes)
                if open[top].remaining > 0 {
                    at = open[top].valueIndex
                    break
                }
                produced = open.removeLast().value
            }
        }
    }

    @inline(__always)
    static func next(_ nodes: UnsafePointer<JSONNode>, _ i: Int) -> Int {
        let n = nodes[i]
        return n.kindBits >= JSONNode.Kind.array.rawValue ? n.end : i &+ 1
    }
}
