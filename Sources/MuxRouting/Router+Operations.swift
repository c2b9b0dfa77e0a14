// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols
import MuxProviders

/// pmx_router_call / pmx_router_call_stream: every operation by name. Chat, embeddings and the
/// models list go to their own paths (the same results as pmx_router_complete / _embed /
/// _models); the others run as `.call` attempts through the same routing, retries, failover,
/// accounting and cache.
extension Router {
    /// Blocking: the operation's result, or its terminal error (input errors before anything
    /// starts). On a library I/O thread it throws `wouldDeadlock` at once.
    public func call(_ operation: OperationName, _ value: JSONValue) throws -> JSONValue {
        switch operation {
        case .chatCompletions: return .object(try complete(ChatRequest.parse(value)))
        case .embeddings: return .object(try embed(EmbedRequest.parse(value)))
        case .modelsList: return try models()
        case .tokensCount:
            // No candidate with a counter: the router's estimate, nothing sent (TokenCountFallback).
            try refuseOnIOThread("pmx_router_call")
            let request = try OperationRequest.parse(operation, value)
            do { return .object(try runToCompletion(.call(request, stream: false))) } catch let e as PMXError where e.status == .unsupported {
                return .object(TokenCountFallback.estimate(request))
            }
        default:
            try refuseOnIOThread("pmx_router_call")
            return .object(try runToCompletion(.call(try OperationRequest.parse(operation, value), stream: false)))
        }
    }

    /// Blocking stream: events go to `onEvent` on the CALLING thread under the stop rule of
    /// `Router.stream`; returns the result of `done`, or throws the terminal error. An operation
    /// (or a protocol) without a streamed form makes one plain call: `start`, then `done` with
    /// its result (the models list, which is no routed request, only `done`).
    public func callStream(_ operation: OperationName, _ value: JSONValue, queue: EventQueue = EventQueue(),
                           onEvent: (ExecutionEvent) -> Int32) throws -> JSONValue {
        switch operation {
        case .chatCompletions:
            return .object(try StreamSession.run(self, .chat(try ChatRequest.parse(value), stream: true), queue: queue, consumer: onEvent))
        case .embeddings:
            return .object(try StreamSession.run(self, .embed(try EmbedRequest.parse(value)), queue: queue, consumer: onEvent))
        case .modelsList:
            try refuseOnIOThread("pmx_router_call_stream")
            let list = try models()
            if let o = list.objectValue { _ = onEvent(.done(o)) }
            return list
        default:
            let request = try OperationRequest.parse(operation, value)
            try request.checkStreamable()
            return .object(try StreamSession.run(self, .call(request, stream: true), queue: queue, consumer: onEvent))
        }
    }
}
