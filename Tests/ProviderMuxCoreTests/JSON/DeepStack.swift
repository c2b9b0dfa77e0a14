// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Runs a body on a thread of its own with a 64 MiB stack and waits for it. The JSON rules
/// nest values 2,048 deep (jansson's limit, which the oracle still reads and converts):
/// building, comparing and releasing such a `JSONValue` recurses once per level (Swift
/// releases nested enums recursively), and a debug build under TSan needs more than a
/// test-pool thread's stack for that. The library itself stops at 256 levels
/// (`JSONParser.maxDepth`); this only keeps the test's own oracle trees off small stacks.
enum DeepStack {
    private final class Job {
        let body: () throws -> Void
        var error: Error?
        init(_ body: @escaping () throws -> Void) { self.body = body }
    }

    static func run(_ body: @escaping () throws -> Void) throws {
        let job = Job(body)
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, 64 << 20)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let rc = pthread_create(&thread, &attr, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            do { try job.body() } catch { job.error = error }
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            try body()  // no thread: run here rather than skip the check
            return
        }
        pthread_join(thread, nil)
        if let e = job.error { throw e }
    }
}
