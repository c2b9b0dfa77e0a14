// SPDX-License-Identifier: Apache-2.0
@testable import MuxTransport
import CCurl
import Testing

@Suite("CurlHeaderCache")
struct CurlHeaderCacheTests {
    /// The lines of a curl header list, in order.
    private func lines(_ list: CurlHeaderList) -> [String] {
        var out: [String] = []
        var node = list.list
        while let n = node {
            out.append(String(cString: n.pointee.data))
            node = n.pointee.next
        }
        return out
    }

    @Test("a list holds each header as one \"Name: value\" line, then Expect:")
    func lines() {
        let list = CurlHeaderList([("Content-Type", "application/json"), ("Authorization", "Bearer k")])
        #expect(lines(list) == ["Content-Type: application/json", "Authorization: Bearer k", "Expect:"])
    }

    @Test("the same headers get the same list; a different name, value, order or count a new one")
    func reuse() {
        let cache = CurlHeaderCache()
        let headers = [("Accept", "application/json"), ("Authorization", "Bearer a")]
        let first = cache.list(for: headers)
        #expect(cache.list(for: headers) === first)
        for other in [[("Accept", "text/event-stream"), ("Authorization", "Bearer a")],
                      [("accept", "application/json"), ("Authorization", "Bearer a")],
                      [("Authorization", "Bearer a"), ("Accept", "application/json")],
                      [("Accept", "application/json")]] {
            let list = cache.list(for: other)
            #expect(list !== first)
            #expect(lines(list) == other.map { "\($0.0): \($0.1)" } + ["Expect:"])
        }
    }

    @Test("at most four lists are kept: the least recent is made again")
    func bounded() {
        let cache = CurlHeaderCache()
        let sets = (0..<5).map { [("X-N", "\($0)")] }
        let first = cache.list(for: sets[0])
        for s in sets.dropFirst() { _ = cache.list(for: s) }
        #expect(cache.list(for: sets[4]) !== first)
        #expect(cache.list(for: sets[0]) !== first)  // dropped when the fifth came in
    }
}
