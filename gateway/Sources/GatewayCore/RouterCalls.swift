// SPDX-License-Identifier: Apache-2.0
import Dispatch
import MuxBase
import MuxAccounting
import MuxProviders
import MuxConfig
import MuxProtocols
import MuxRouting
import Synchronization

/// The router's calls as `async` functions for the HTTP handlers. Nothing here blocks a
/// Swift-concurrency thread (there are as many as cores): chat and embeddings start on the
/// router's loop and resume the handler from its terminal event; the calls that only exist
/// as blocking ones (models) run on a Dispatch worker thread.
package struct RouterCalls: Sendable {
    package let router: Router

    package init(router: Router) { self.router = router }

    /// One non-streamed request (chat or embeddings): its response or its terminal error.
    /// A cancelled handler task (the client went away) cancels the request.
    package func run(_ operation: AttemptOperation) async -> Result<JSONObject, PMXError> {
        let handle = router.makeHandle()
        let once = Once()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (k: CheckedContinuation<Result<JSONObject, PMXError>, Never>) in
                do {
                    try router.start(operation, handle: handle) { event in
                        switch event {
                        case .done(let r): if once.claim() { k.resume(returning: .success(r)) }
                        case .error(let e): if once.claim() { k.resume(returning: .failure(e)) }
                        default: break
                        }
                    }
                } catch {
                    if once.claim() { k.resume(returning: .failure(Self.pmxError(error))) }
                }
            }
        } onCancel: {
            handle.cancel()
        }
    }

    /// A blocking router call on a Dispatch worker thread.
    package func blocking<T: Sendable>(_ body: @escaping @Sendable (Router) throws -> T) async -> Result<T, PMXError> {
        await withCheckedContinuation { k in
            DispatchQueue.global().async { [router] in
                do { k.resume(returning: .success(try body(router))) } catch { k.resume(returning: .failure(Self.pmxError(error))) }
            }
        }
    }

    /// The wait the router knows of for a 429 / 503 (ms): the soonest next slot of the rate
    /// limiters, or the soonest half-open circuit, of the providers the request tried.
    package func retryAfterMs(for e: PMXError) -> Int? {
        let tried = Set(e.attempts.map(\.provider))
        guard !tried.isEmpty else { return nil }
        let now = router.loop.nowNs
        switch e.status {
        case .rateLimited:
            return router.providerSnapshot.filter { tried.contains($0.name) }
                .map { $0.limiter.waitMs(estimatedTokens: 0, nowNs: now) }.filter { $0 > 0 }.min()
        case .circuitOpen:
            return router.breakerStates().filter { tried.contains($0.key.provider) }
                .compactMap { $0.value.halfOpensInMs(nowNs: now) }.filter { $0 > 0 }.min()
        default:
            return nil
        }
    }

    /// The OpenAI error for a router failure, with the router's wait for 429 / 503.
    package func openAIError(_ e: PMXError) -> OpenAIError { OpenAIError(e, retryAfterMs: retryAfterMs(for: e)) }

    package static func pmxError(_ error: any Error) -> PMXError { error as? PMXError ?? PMXError(.internal, "\(error)") }
}

/// True for the first caller only: a continuation is resumed exactly once.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)
    func claim() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
}
