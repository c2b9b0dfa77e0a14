// SPDX-License-Identifier: Apache-2.0
import Glibc

/// The buffers of one parsed document: a copy of the text, followed by 16 zero bytes (the
/// scanner reads ahead without bounds checks: a zero ends every run, as a control character
/// would), and the node tape. Both are kept by `load` for the next document, so a decoder
/// that keeps one `JSONDocument` parses chunk after chunk without allocating.
/// Manual memory: `deallocate()` is called by the owner (`JSONDocument.deinit`).
@usableFromInline
package struct JSONTape {
    /// Bytes of zero padding after the text (the scanner's look-ahead is at most 12 bytes).
    package static let padding = 16

    @usableFromInline package var text: UnsafeMutablePointer<UInt8>?
    package var textCapacity = 0
    @usableFromInline package var textCount = 0
    @usableFromInline package var nodes: UnsafeMutablePointer<JSONNode>?
    package var nodeCapacity = 0
    @usableFromInline package var count = 0

    package init() {}

    /// Parses `bytes` into this tape (refs into the previous document become invalid). On
    /// error the tape is empty.
    package mutating func load(_ bytes: UnsafeRawBufferPointer) throws {
        try JSONBudget.check(bytes)
        count = 0
        let n = bytes.count
        reserveText(n &+ Self.padding)
        // Valid documents need at most (n + 1) / 2 nodes; a chunk needs far fewer (the
        // scanner grows the tape when it must).
        reserveNodes(n / 6 &+ 16)
        guard let text, let nodes else { throw PMXError(.internal, "out of memory parsing \(n) bytes of JSON") }
        if let base = bytes.baseAddress, n > 0 { memcpy(text, base, n) }
        memset(text + n, 0, Self.padding)
        textCount = n
        var scanner = JSONScanner(text: text, count: n, nodes: nodes, capacity: nodeCapacity)
        defer {
            self.nodes = scanner.nodes
            nodeCapacity = scanner.capacity
        }
        try scanner.run()
        count = scanner.used
    }

    /// Text capacity of at least `n` bytes; a buffer far larger than needed (a huge document
    /// went through before) is given back rather than kept for small ones.
    private mutating func reserveText(_ n: Int) {
        if textCapacity >= n && !(textCapacity > 1 << 20 && n < textCapacity / 4) { return }
        free(text)
        text = malloc(n)?.assumingMemoryBound(to: UInt8.self)
        textCapacity = text == nil ? 0 : n
    }

    private mutating func reserveNodes(_ n: Int) {
        if nodeCapacity >= n && !(nodeCapacity > 1 << 16 && n < nodeCapacity / 4) { return }
        free(nodes)
        let bytes = n.multipliedReportingOverflow(by: MemoryLayout<JSONNode>.stride)
        nodes = bytes.overflow ? nil : malloc(bytes.partialValue)?.assumingMemoryBound(to: JSONNode.self)
        nodeCapacity = nodes == nil ? 0 : n
    }

    /// Takes over buffers (JSONTapeCache's spare ones).
    mutating func adopt(text: UnsafeMutablePointer<UInt8>?, textCapacity: Int, nodes: UnsafeMutablePointer<JSONNode>?, nodeCapacity: Int) {
        deallocate()
        self.text = text
        self.textCapacity = text == nil ? 0 : textCapacity
        self.nodes = nodes
        self.nodeCapacity = nodes == nil ? 0 : nodeCapacity
    }

    /// Forgets the buffers without freeing them (they were handed over).
    mutating func disown() {
        text = nil
        nodes = nil
        textCapacity = 0
        nodeCapacity = 0
        count = 0
        textCount = 0
    }

    package mutating func deallocate() {
        free(text)
        free(nodes)
        text = nil
        nodes = nil
        textCapacity = 0
        nodeCapacity = 0
        count = 0
    }
}
