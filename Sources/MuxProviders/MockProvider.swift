// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols

/// The in-process `mock` provider: no network, deterministic answers derived from the prompt,
/// token-by-token streaming on loop timers, latency and scripted faults. A product feature for
/// offline use, demos and fault drills.
public enum MockReply {
    /// "mock: " + the last user message, or the configured `reply`.
    public static func text(for request: ChatRequest, options: MockOptions) -> String {
        options.reply ?? ("mock: " + request.lastUserText)
    }

    /// Tokens as streamed: words, each with the whitespace after it, so they join back exactly.
    public static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            let space = ch == " " || ch == "\n" || ch == "\t"
            if !space && inSpace { tokens.append(current); current = "" }
            inSpace = space
            current.append(ch)
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    package static func wordCount(_ s: String) -> Int {
        s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    }

    /// A text completion: the configured `reply`, else "mock: " + the prompt (and, for FIM,
    /// " … " + the suffix), so a test can see which fields reached the provider.
    public static func completion(for request: OperationRequest, options: MockOptions) -> String {
        if let reply = options.reply { return reply }
        let prompt: String = switch request.body["prompt"] {
        case .string(let s): s
        case .array(let a): a.compactMap(\.stringValue).joined(separator: " ")
        default: ""
        }
        guard let suffix = request.body["suffix"]?.stringValue else { return "mock: " + prompt }
        return "mock: " + prompt + " … " + suffix
    }

    public static func usage(for request: ChatRequest, reply: String) -> Usage {
        let messages = request.body["messages"]?.arrayValue ?? []
        let prompt = messages.reduce(0) { $0 + wordCount(ChatRequest.text(of: $1["content"])) }
        return Usage(promptTokens: prompt, completionTokens: wordCount(reply))
    }

    /// A deterministic unit-range vector from the text (FNV-1a seeded xorshift).
    public static func embedding(_ text: String, dimensions: Int) -> [JSONValue] {
        var h: UInt64 = 0xcbf29ce484222325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return (0..<dimensions).map { _ in
            h ^= h << 13; h ^= h >> 7; h ^= h << 17
            let v = Double(h % 2_000_001) / 1_000_000 - 1
            return .double((v * 1_000_000).rounded() / 1_000_000)
        }
    }
}

public struct MockDriver: AttemptDriver {
    package let scheduler: Scheduler

    package init(scheduler: Scheduler) { self.scheduler = scheduler }

    public func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
                      callbacks: AttemptCallbacks) -> AttemptHandle {
        let attempt = MockAttempt(scheduler: scheduler, provider: provider, callbacks: callbacks)
        attempt.run(op, model: model ?? provider.config.defaultModel ?? "mock")
        return attempt
    }
}

package final class MockAttempt: AttemptHandle {
    private let scheduler: Scheduler
    private let provider: ProviderRuntime
    private var callbacks: AttemptCallbacks?
    private var timer: UInt64?
    /// The stream step held back by `shouldPause`, run again by `resume`.
    private var pausedStep: (() -> Void)?

    package init(scheduler: Scheduler, provider: ProviderRuntime, callbacks: AttemptCallbacks) {
        self.scheduler = scheduler
        self.provider = provider
        self.callbacks = callbacks
    }

    package func cancel() {
        callbacks = nil
        pausedStep = nil
        if let t = timer { scheduler.cancelTimer(t); timer = nil }
    }

    /// Continues a stream held back for a slow consumer, from the loop (never inside the
    /// consumer's hand-off).
    package func resume() {
        guard let step = pausedStep else { return }
        pausedStep = nil
        after(0, step)
    }

    private var options: MockOptions { provider.config.mock ?? MockOptions() }

    private func after(_ ms: Int, _ action: @escaping () -> Void) {
        timer = scheduler.schedule(afterMs: Double(ms)) { [weak self] in
            guard let self, self.callbacks != nil else { return }
            self.timer = nil
            action()
        }
    }

    package func run(_ op: AttemptOperation, model: String) {
        let fault = provider.nextMockFault()
        after(options.latencyMs) { [self] in
            switch fault {
            case .status(let code, let retryAfterMs, let message):
                // The message goes through the same error mapping as a real body, so a scripted
                // "maximum context length" 400 is context_length_exceeded, as from a provider.
                let body: [UInt8] = message.map { JSONWriter.bytes(["error": ["message": .string($0)]]) } ?? []
                var e = HTTPErrorMapping.error(status: code, body: body, provider: provider.name)
                e.message = "HTTP \(code): \(message ?? "mock scripted failure")"
                finishFailure(e, retryAfterMs: retryAfterMs)
            case .timeout:
                finishFailure(PMXError(.timeout, "mock scripted timeout", provider: provider.name), retryAfterMs: nil)
            case .connection:
                finishFailure(PMXError(.connection, "mock scripted connection failure", provider: provider.name), retryAfterMs: nil)
            case .ok, .dropAfterDeltas:
                var dropAfter: Int? = nil
                if case .dropAfterDeltas(let n) = fault { dropAfter = n }
                switch op {
                case .chat(let request, let stream):
                    if stream { streamChat(request, model: model, dropAfter: dropAfter) }
                    else if dropAfter != nil {
                        finishFailure(PMXError(.connection, "mock scripted disconnect", provider: provider.name), retryAfterMs: nil)
                    } else { answerChat(request, model: model) }
                case .embed(let request):
                    answerEmbed(request, model: model)
                case .call(let request, let stream):
                    answerOperation(request, stream: stream, model: model, dropAfter: dropAfter)
                }
            }
        }
    }

    private func finishFailure(_ e: PMXError, retryAfterMs: Int?) {
        guard let cb = callbacks else { return }
        callbacks = nil
        cb.onFailure(e, retryAfterMs)
    }

    private func finishSuccess(_ response: JSONObject?) {
        guard let cb = callbacks else { return }
        callbacks = nil
        cb.onSuccess(response)
    }

    private func answerChat(_ request: ChatRequest, model: String) {
        let reply = MockReply.text(for: request, options: options)
        var acc = StreamAccumulator()
        acc.apply(.meta(id: "chatcmpl-mock", model: model))
        acc.apply(.delta(content: reply, toolCalls: nil))
        acc.apply(.finish(reason: "stop"))
        acc.apply(.usage(MockReply.usage(for: request, reply: reply)))
        finishSuccess(acc.response(fallbackModel: model))
    }

    private func streamChat(_ request: ChatRequest, model: String, dropAfter: Int?) {
        let reply = MockReply.text(for: request, options: options)
        streamText(reply, usage: MockReply.usage(for: request, reply: reply), id: "chatcmpl-mock", model: model, dropAfter: dropAfter)
    }

    /// `reply` token by token on the loop's timers (`token_delay_ms`), then finish and usage.
    /// `builder`: the events go out as a Responses stream (responses.create), closed before
    /// the success.
    private func streamText(_ reply: String, usage: Usage, id: String, model: String, dropAfter: Int?,
                            through builder: ResponsesStreamBuilder? = nil) {
        let tokens = MockReply.tokens(reply)
        func send(_ e: ProviderEvent, _ cb: AttemptCallbacks) {
            if let builder { builder.apply(e, cb.onEvent) } else { cb.onEvent(e) }
        }
        if let cb = callbacks { send(.meta(id: id, model: model), cb) }
        var index = 0
        func next() {
            while true {
                guard let cb = callbacks else { return }
                if let dropAfter, index >= dropAfter {
                    finishFailure(PMXError(.connection, "mock scripted disconnect after \(index) deltas", provider: provider.name), retryAfterMs: nil)
                    return
                }
                guard index < tokens.count else { break }
                // A slow consumer holds the token stream back like a paused HTTP transfer.
                if let gate = cb.shouldPause, gate() { pausedStep = next; return }
                send(.delta(content: tokens[index], toolCalls: nil), cb)
                index += 1
                // Pause between tokens only: the answer ends right after the last one.
                if options.tokenDelayMs > 0 && index < tokens.count { after(options.tokenDelayMs, next); return }
            }
            guard let cb = callbacks else { return }
            send(.finish(reason: "stop"), cb)
            send(.usage(usage), cb)
            builder?.close(cb.onEvent)
            finishSuccess(nil)
        }
        next()
    }

    /// The operations of pmx_router_call the mock answers (deterministically, from the
    /// request); the others are refused with PMX_ERR_UNSUPPORTED, so a request fails over.
    private func answerOperation(_ request: OperationRequest, stream: Bool, model: String, dropAfter: Int?) {
        switch request.operation {
        case .completions:
            let reply = MockReply.completion(for: request, options: options)
            let usage = Usage(promptTokens: MockReply.wordCount(request.promptText), completionTokens: MockReply.wordCount(reply))
            if stream {
                streamText(reply, usage: usage, id: "cmpl-mock", model: model, dropAfter: dropAfter)
            } else if dropAfter != nil {
                finishFailure(PMXError(.connection, "mock scripted disconnect", provider: provider.name), retryAfterMs: nil)
            } else {
                finishSuccess(TextCompletion.object(id: "cmpl-mock", model: model, text: reply, finishReason: "stop", usage: usage))
            }
        case .responses:
            answerResponses(request, stream: stream, model: model, dropAfter: dropAfter)
        default:
            do {
                if let result = try MockOperations.answer(request, model: model) { return finishSuccess(result) }
            } catch let e as PMXError {
                return finishFailure(e, retryAfterMs: nil)
            } catch {
                return finishFailure(PMXError(.invalidRequest, "\(error)", provider: provider.name), retryAfterMs: nil)
            }
            let e = PMXError(.unsupported, "provider type \"mock\" has no \(request.operation.rawValue)", provider: provider.name)
            finishFailure(e, retryAfterMs: nil)
        }
    }

    /// `responses.create` as the translated protocols do it: the chat reply to the request
    /// translated to chat, made a Response.
    private func answerResponses(_ request: OperationRequest, stream: Bool, model: String, dropAfter: Int?) {
        let chat: ChatRequest
        do { chat = try ResponsesToChat.chatRequest(request, provider: provider.config) } catch let e as PMXError {
            return finishFailure(e, retryAfterMs: nil)
        } catch {
            return finishFailure(PMXError(.invalidRequest, "\(error)", provider: provider.name), retryAfterMs: nil)
        }
        let reply = MockReply.text(for: chat, options: options)
        let usage = MockReply.usage(for: chat, reply: reply)
        if stream {
            let builder = ResponsesStreamBuilder(request: request.body, model: model)
            return streamText(reply, usage: usage, id: "chatcmpl-mock", model: model, dropAfter: dropAfter, through: builder)
        }
        if dropAfter != nil {
            return finishFailure(PMXError(.connection, "mock scripted disconnect", provider: provider.name), retryAfterMs: nil)
        }
        var acc = StreamAccumulator()
        acc.apply(.meta(id: "chatcmpl-mock", model: model))
        acc.apply(.delta(content: reply, toolCalls: nil))
        acc.apply(.finish(reason: "stop"))
        acc.apply(.usage(usage))
        finishSuccess(ResponseObject.fromChat(acc.response(fallbackModel: model), request: request.body))
    }

    private func answerEmbed(_ request: EmbedRequest, model: String) {
        var o = JSONObject()
        o["object"] = "list"
        o["data"] = .array(request.inputs.enumerated().map { i, text in
            ["object": "embedding", "index": .int(Int64(i)),
             "embedding": .array(MockReply.embedding(text, dimensions: options.embeddingDimensions))]
        })
        o["model"] = .string(model)
        let tokens = request.inputs.reduce(0) { $0 + MockReply.wordCount($1) }
        o["usage"] = ["prompt_tokens": .int(Int64(tokens)), "total_tokens": .int(Int64(tokens))]
        finishSuccess(o)
    }
}
