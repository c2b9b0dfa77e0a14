// SPDX-License-Identifier: Apache-2.0
import MuxBase
import CCurl

/// A libcurl header list ("Name: value" lines and "Expect:"), freed when the last transfer
/// using it ends. curl only reads a list it is given, so transfers sending the same headers
/// can share one.
public final class CurlHeaderList: @unchecked Sendable {
    let headers: [(String, String)]
    let list: UnsafeMutablePointer<curl_slist>?

    init(_ headers: [(String, String)]) {
        self.headers = headers
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // Each "Name: value" line built as bytes in one reused buffer (curl copies it): string
        // interpolation cost ~700 instructions per header.
        var line: [UInt8] = []
        line.reserveCapacity(256)
        for (name, value) in headers {
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: name.utf8)
            line.append(UInt8(ascii: ":"))
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: value.utf8)
            line.append(0)
            list = line.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { curl_slist_append(list, $0.baseAddress) }
            }
        }
        self.list = curl_slist_append(list, "Expect:")  // no 100-continue round trip on large bodies
    }

    deinit { if let list { curl_slist_free_all(list) } }

    func sends(_ other: [(String, String)]) -> Bool {
        guard headers.count == other.count else { return false }
        for i in headers.indices where headers[i].0 != other[i].0 || headers[i].1 != other[i].1 { return false }
        return true
    }
}

/// The header lists a provider's transfers sent last (a few: streamed and plain calls differ
/// in `Accept`), reused while a request sends the same headers: building the list (a node and a
/// copy per line) and freeing it cost ~2,500 instructions per request. Any thread.
public final class CurlHeaderCache: @unchecked Sendable {
    private let recent = Locked<[CurlHeaderList]>([])
    /// Lists kept: the calls of one provider send a handful of distinct header sets.
    static let capacity = 4

    public init() {}

    /// The list for `headers`: a kept one that sends exactly these, else a new one (kept).
    func list(for headers: [(String, String)]) -> CurlHeaderList {
        if let found = recent.withLock({ $0.first { $0.sends(headers) } }) { return found }
        let made = CurlHeaderList(headers)
        recent.withLock { kept in
            kept.insert(made, at: 0)
            if kept.count > Self.capacity { kept.removeLast() }
        }
        return made
    }
}
