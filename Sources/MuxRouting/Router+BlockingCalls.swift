// SPDX-License-Identifier: Apache-2.0
import MuxProviders

/// Blocking calls on an I/O thread. `complete`, `embed`, `stream`, `models`, `health` and
/// `manageModel` hand work to an I/O thread and wait for it. Made on an I/O thread — from
/// inside a callback the loop runs: an async stream's events, a log line delivered there —
/// they would wait for the thread that is running them, and never return. They refuse at once
/// with `wouldDeadlock` instead, before anything starts.
///
/// Refused on ANY router's I/O thread, not only this router's: a blocking call on router B
/// from A's loop holds A's loop until B answers, and if a callback of B makes a blocking call
/// on A at the same time the two loops wait for each other forever. Telling the safe cases
/// apart would need a graph of who waits for whom; refusing everywhere is simple, cheap (one
/// thread-specific read) and the same answer every time. Non-blocking calls (stream_async,
/// cancel, free, stats, add/remove_provider, update_routing) work from callbacks.
extension Router {
    /// Throws `wouldDeadlock` when the calling thread is a library I/O thread. `name` is the C
    /// function the caller called (the message names it).
    package func refuseOnIOThread(_ name: String) throws {
        try ProviderExchange.refuseOnIOThread(name, loop: loop)
    }
}
