// SPDX-License-Identifier: Apache-2.0
import Glibc

/// One spare pair of tape buffers per thread, so that a one-shot parse (`JSONParser.parse`, a
/// `JSONDocument` made per chunk) reuses the buffers of the previous one instead of two
/// mallocs and frees. Only small buffers are kept (a chunk, a request or an answer of up to
/// 64 KiB): a thread holds at most ~240 KiB, freed when the thread ends.
enum JSONTapeCache {
    private struct Spare {
        var text: UnsafeMutablePointer<UInt8>?
        var textCapacity: Int
        var nodes: UnsafeMutablePointer<JSONNode>?
        var nodeCapacity: Int
    }

    private static let keepTextUpTo = 64 << 10
    private static let keepNodesUpTo = (64 << 10) / 6 + 16

    private static let key: pthread_key_t? = {
        var k = pthread_key_t()
        let created = pthread_key_create(&k) { raw in
            guard let spare = raw?.assumingMemoryBound(to: Spare.self) else { return }
            free(spare.pointee.text)
            free(spare.pointee.nodes)
            free(spare)
        }
        return created == 0 ? k : nil
    }()

    /// A tape holding this thread's spare buffers (or none).
    static func take() -> JSONTape {
        var tape = JSONTape()
        guard let key, let spare = pthread_getspecific(key)?.assumingMemoryBound(to: Spare.self) else { return tape }
        tape.adopt(text: spare.pointee.text, textCapacity: spare.pointee.textCapacity,
                   nodes: spare.pointee.nodes, nodeCapacity: spare.pointee.nodeCapacity)
        spare.pointee = Spare(text: nil, textCapacity: 0, nodes: nil, nodeCapacity: 0)
        return tape
    }

    /// Keeps `tape`'s buffers as this thread's spare when they are small and the slot is
    /// free; frees them otherwise. `tape` is empty afterwards.
    static func give(_ tape: inout JSONTape) {
        defer { tape.deallocate() }
        guard let key, tape.textCapacity <= keepTextUpTo, tape.nodeCapacity <= keepNodesUpTo else { return }
        var slot = pthread_getspecific(key)?.assumingMemoryBound(to: Spare.self)
        if slot == nil {
            guard let fresh = malloc(MemoryLayout<Spare>.stride)?.assumingMemoryBound(to: Spare.self) else { return }
            fresh.initialize(to: Spare(text: nil, textCapacity: 0, nodes: nil, nodeCapacity: 0))
            guard pthread_setspecific(key, fresh) == 0 else { free(fresh); return }
            slot = fresh
        }
        guard let slot, slot.pointee.text == nil, slot.pointee.nodes == nil else { return }
        slot.pointee = Spare(text: tape.text, textCapacity: tape.textCapacity, nodes: tape.nodes, nodeCapacity: tape.nodeCapacity)
        tape.disown()
    }
}
