/// A tape subtree as a `JSONValue`. Recursion is bounded by the parser's depth limit (2,048).
enum JSONConversion {
    static func value(_ text: UnsafePointer<UInt8>, _ nodes: UnsafePointer<JSONNode>, _ i: Int) -> JSONValue {
        let node = nodes[i]
        switch node.kind {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int: return .int(Int64(bitPattern: node.body))
        case .real: return .double(Double(bitPattern: node.body))
        case .string: return .string(JSONKeys.string(text, node))
        case .array:
            var a: [JSONValue] = []
            a.reserveCapacity(node.members)
            var j = i &+ 1
            for _ in 0..<node.members {
                a.append(value(text, nodes, j))
                j = next(nodes, j)
            }
            return .array(a)
        case .object:
            let members = node.members
            var o = JSONObject()
            o.reserveCapacity(members)
            if let positions = JSONKeys.firstPositions(text, nodes, object: i, members: members) {
                // A repeated key keeps its first position and takes the last value.
                var slots: [Int] = []  // member position → index in `o`
                slots.reserveCapacity(members)
                var j = i &+ 1
                for p in positions {
                    let v = value(text, nodes, j &+ 1)
                    if p == slots.count {
                        slots.append(o.count)
                        o.appendUnchecked(JSONKeys.string(text, nodes[j]), v)
                    } else {
                        slots.append(slots[p])
                        o.replaceValue(at: slots[p], v)
                    }
                    j = next(nodes, j &+ 1)
                }
                return .object(o)
            }
            var j = i &+ 1
            for _ in 0..<members {
                o.appendUnchecked(JSONKeys.string(text, nodes[j]), value(text, nodes, j &+ 1))
                j = next(nodes, j &+ 1)
            }
            return .object(o)
        }
    }

    @inline(__always)
    static func next(_ nodes: UnsafePointer<JSONNode>, _ i: Int) -> Int {
        let n = nodes[i]
        return n.kindBits >= JSONNode.Kind.array.rawValue ? n.end : i &+ 1
    }
}
