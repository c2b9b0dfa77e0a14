// SPDX-License-Identifier: Apache-2.0
import CHiredis

/// One Redis reply as a Swift value, copied out of hiredis's reply (which is freed at once).
package enum RedisValue: Sendable, Equatable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisValue])
    case null
    case status(String)
    case error(String)

    /// Copies `reply` (nested arrays at most `depth` deep; deeper ones become an error value).
    package init(_ reply: UnsafeMutablePointer<redisReply>, depth: Int = 4) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
            let bytes = r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len).bindMemory(to: UInt8.self)) } ?? []
            if r.type == REDIS_REPLY_STRING { self = .string(bytes) }
            else if r.type == REDIS_REPLY_STATUS { self = .status(String(decoding: bytes, as: UTF8.self)) }
            else { self = .error(String(decoding: bytes, as: UTF8.self)) }
        case REDIS_REPLY_INTEGER:
            self = .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            guard depth > 0 else { self = .error("reply nested too deeply"); return }
            var items: [RedisValue] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let e = r.element[i] { items.append(RedisValue(e, depth: depth - 1)) } else { items.append(.null) }
            }
            self = .array(items)
        default:
            self = .null
        }
    }

    package var text: String? {
        switch self {
        case .string(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// A number sent as a string or an integer (scripts send their figures as strings).
    package var double: Double? {
        if case .integer(let i) = self { return Double(i) }
        return text.flatMap(Double.init)
    }

    package var array: [RedisValue]? { if case .array(let a) = self { return a } else { return nil } }

    package var isNoScript: Bool { if case .error(let e) = self { return e.hasPrefix("NOSCRIPT") } else { return false } }
}
