// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix

/// Keeps a request on its connection's NIO event loop thread (issue 17, CPU per request).
///
/// Without it, each request passed between three threads and back: the event loop (reading
/// the request, writing the response), Swift's global executor (the handler) and the router's
/// I/O thread (the upstream transfer) — ~9 context switches per request, 41 % of the gateway's
/// CPU in the kernel. Two steps remove the global executor from the path:
/// - `installAsGlobalExecutor()` (first thing in main) makes NIO's event loops Swift's global
///   executor, so the connection's task runs on an event loop thread (NIO keeps it on the
///   loop it is already on);
/// - `onCurrentLoop` pins a task to the loop it runs on: the router's completion, resumed on
///   the I/O thread, continues the handler on the connection's own loop, where the response
///   is written without another hop (otherwise the global executor may pick the other loop).
enum LoopExecutor {
    /// Call once, from main, before any task has been started. False when NIO could not install
    /// itself (the gateway then works as before, on Swift's own pool).
    @discardableResult
    static func installAsGlobalExecutor() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Runs `body` with the current event loop (if the caller runs on one) as its task
    /// executor: whatever thread resumes it, it continues on this loop.
    static func onCurrentLoop<T, Failure: Error>(_ body: () async throws(Failure) -> T) async throws(Failure) -> T {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return try await body() }
        return try await withTaskExecutorPreference(LoopTaskExecutor(loop), operation: body)
    }
}

/// One event loop as a task executor: each job runs on the loop's thread.
final class LoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
