// SPDX-License-Identifier: Apache-2.0

/// Timers of one event loop: a binary min-heap of deadlines. Loop thread only.
/// Cancelling removes the action; its heap slot is skipped when it comes up.
package struct TimerQueue {
    package typealias ID = UInt64
    private struct Slot { var deadlineNs: UInt64; var id: ID }
    private var heap: [Slot] = []
    private var actions: [ID: () -> Void] = [:]
    private var nextID: ID = 1

    package var isEmpty: Bool { actions.isEmpty }
    package var count: Int { actions.count }

    package mutating func schedule(at deadlineNs: UInt64, _ action: @escaping () -> Void) -> ID {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append(Slot(deadlineNs: deadlineNs, id: id))
        siftUp(heap.count - 1)
        return id
    }

    package mutating func cancel(_ id: ID) { actions[id] = nil }

    /// Deadline of the earliest live timer.
    package mutating func nextDeadline() -> UInt64? {
        while let top = heap.first {
            if actions[top.id] != nil { return top.deadlineNs }
            popTop()
        }
        return nil
    }

    /// Removes and returns the actions due at `now`, earliest first.
    package mutating func popDue(now: UInt64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = heap.first, top.deadlineNs <= now {
            popTop()
            if let a = actions.removeValue(forKey: top.id) { due.append(a) }
        }
        return due
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private func less(_ a: Slot, _ b: Slot) -> Bool {
        a.deadlineNs < b.deadlineNs || (a.deadlineNs == b.deadlineNs && a.id < b.id)
    }

    private mutating func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let p = (i - 1) / 2
            guard less(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    private mutating func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
