// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols

/// What one attempt on one provider does.
public enum AttemptOperation {
    case chat(ChatRequest, stream: Bool)
    case embed(EmbedRequest)
    /// An operation of pmx_router_call other than chat and embeddings; `stream` asks for its
    /// streamed form where the protocol has one.
    case call(OperationRequest, stream: Bool)
}

/// How a driver reports back, on the loop thread. After `onSuccess` or `onFailure` nothing
/// more is called.
public struct AttemptCallbacks {
    public var onEvent: (ProviderEvent) -> Void
    /// Non-streamed answers carry the decoded response; streams pass nil (the events were the answer).
    /// The response is handed over (consumed): the state machine adds its members to it
    /// without copying the decoded object first.
    public var onSuccess: (consuming JSONObject?) -> Void
    public var onFailure: (PMXError, _ retryAfterMs: Int?) -> Void
    /// Back-pressure: asked before producing more stream events; true = hold on until the
    /// handle's `resume()` (an HTTP stream pauses its transfer, the mock its token timer).
    /// nil (the default, every consumer but the blocking stream): never pause, at no cost per chunk.
    public var shouldPause: (() -> Bool)? = nil

    public init(onEvent: @escaping (ProviderEvent) -> Void, onSuccess: @escaping (consuming JSONObject?) -> Void,
                onFailure: @escaping (PMXError, _ retryAfterMs: Int?) -> Void, shouldPause: (() -> Bool)? = nil) {
        self.onEvent = onEvent
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.shouldPause = shouldPause
    }
}

/// A running attempt; `cancel` stops it without further callbacks. Loop thread only.
public protocol AttemptHandle: AnyObject {
    func cancel()
    /// Continues after `shouldPause` held the attempt back; no-op when it is not paused.
    func resume()
}

extension AttemptHandle {
    public func resume() {}
}

/// Starts attempts on one kind of provider (HTTP protocol, in-process mock, a test fake).
public protocol AttemptDriver {
    func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
               callbacks: AttemptCallbacks) -> AttemptHandle
}
