// SPDX-License-Identifier: Apache-2.0
/// Elements in one allocation that grows by doubling, moved (never copied) when it grows: the
/// JSON writer's byte sink and the conversion's value stack. Appending is a compare and a
/// store; a Swift array paid its uniqueness and capacity checks through the buffer at every
/// append. Freed (its elements destroyed) when it goes out of scope.
package struct GrowableBuffer<Element>: ~Copyable {
    package private(set) var base: UnsafeMutablePointer<Element>
    package private(set) var count = 0
    private var capacity: Int

    package init(capacity: Int) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Room for `more` elements beyond those held.
    @inline(__always)
    package mutating func reserve(_ more: Int) {
        if more > capacity &- count { grow(more) }
    }

    @inline(never)
    private mutating func grow(_ more: Int) {
        let grown = Swift.max(capacity &* 2, count &+ more)
        let fresh = UnsafeMutablePointer<Element>.allocate(capacity: grown)
        fresh.moveInitialize(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    @inline(__always)
    package mutating func append(_ element: consuming Element) {
        if count == capacity { grow(1) }
        (base + count).initialize(to: element)
        count &+= 1
    }

    @inline(__always)
    package mutating func append(_ elements: UnsafePointer<Element>, count n: Int) {
        reserve(n)
        (base + count).initialize(from: elements, count: n)
        count &+= n
    }

    /// Drops every element, keeping the storage (a buffer reused event after event).
    @inline(__always)
    package mutating func removeAll() {
        base.deinitialize(count: count)
        count = 0
    }

    /// Ends the buffer at `start`, the elements from there on already moved out by the caller.
    @inline(__always)
    package mutating func forgetMoved(from start: Int) { count = start }
}
