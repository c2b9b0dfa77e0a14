// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
import Testing

// completions.create in every protocol that has it, without a network: the upstream request
// each codec builds, the non-streamed answer → text_completion, and each stream decoder on
// recorded-looking bytes (whole, split in two at every byte boundary, byte by byte).

private func provider(_ type: String, base: String = "http://127.0.0.1:9/v1") throws -> ProviderConfig {
    try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"\#(type)","base_url":"\#(base)","api_key":"sk-KEY-1234"}"#), path: "p")
}

private func request(_ json: String) throws -> OperationRequest { try OperationRequest.parse(.completions, JSONParser.parse(json)) }

private func codec(_ p: ProviderConfig) throws -> any OperationCodec {
    let c = try #require(ProviderCatalogue.codec(for: p.type)?.operationCodec(.completions, provider: p))
    return c
}

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }

private let head = HTTPResponseHead(status: 200, headers: [])

/// Events of `pieces` fed in order, or the error thrown.
private func decode(_ make: () -> ChatStreamDecoding, _ pieces: [ArraySlice<UInt8>]) -> [ProviderEvent] {
    decodeOperationStream(make, pieces)
}

private func expectSplitInvariant(_ bytes: [UInt8], _ expected: [ProviderEvent], _ make: () -> ChatStreamDecoding,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(decode(make, [bytes[...]]) == expected, sourceLocation: sourceLocation)
    var mismatches: [Int] = []
    for i in 0...bytes.count where decode(make, [bytes[..<i], bytes[i...]]) != expected { mismatches.append(i) }
    #expect(mismatches.isEmpty, "differs when split at \(mismatches.prefix(10))", sourceLocation: sourceLocation)
    #expect(decode(make, bytes.indices.map { bytes[$0...$0] }) == expected, "byte by byte", sourceLocation: sourceLocation)
}

private func sse(_ events: [String]) -> [UInt8] { Array(events.map { "data: \($0)\n\n" }.joined().utf8) }

@Suite("completions.create codecs")
struct CompletionsCodecTests {
    // MARK: request parsing

    @Test("the router checks prompt and the fields it bounds, naming the field")
    func validation() throws {
        #expect(throws: PMXError.self) { try request(#"{"model":"m"}"#) }
        for (json, field) in [(#"{"prompt":5}"#, "prompt"), (#"{"prompt":[]}"#, "prompt"), (#"{"prompt":"x","max_tokens":-1}"#, "max_tokens"),
                              (#"{"prompt":"x","temperature":3}"#, "temperature"), (#"{"prompt":"x","stop":4}"#, "stop"),
                              (#"{"prompt":"x","suffix":1}"#, "suffix"), (#"{"prompt":[1,"a"]}"#, "prompt")] {
            do { _ = try request(json); Issue.record("accepted \(json)") } catch let e as PMXError {
                #expect(e.status == .invalidRequest)
                #expect(e.message.hasPrefix(field), "\(e.message)")
            }
        }
        _ = try request(#"{"prompt":[[1,2],[3]]}"#)
        _ = try request(#"{"prompt":[1,2,3],"route":{"providers":["p"]}}"#)
        #expect(try request(#"{"prompt":"x","route":{"providers":["p"]}}"#).body["route"] == nil)
        #expect(throws: PMXError.self) { try request(#"{"prompt":["a","b"]}"#).checkStreamable() }
        try request(#"{"prompt":[1,2]}"#).checkStreamable()
    }

    @Test("an unknown operation names the known ones")
    func unknownOperation() {
        do { _ = try OperationName.parse("completion.create"); Issue.record("accepted") } catch let e as PMXError {
            #expect(e.status == .invalidArgument)
            #expect(e.message.contains("\"completions.create\"") && e.message.contains("\"rerank\""))
        } catch { Issue.record("\(error)") }
    }

    // MARK: OpenAI-shaped /completions

    @Test("OpenAI /completions: the caller's body with the provider's model, max_tokens 16 by default, usage asked in streams")
    func openAIRequest() throws {
        let p = try provider("openai")
        let r = try request(#"{"model":"openai/gpt-3.5-turbo-instruct","prompt":"Say","suffix":"end","stop":["\n"],"raw":true,"stream":false}"#)
        let call = try codec(p).call(r, model: "gpt-3.5-turbo-instruct", stream: false, provider: p)
        #expect(call.url == "http://127.0.0.1:9/v1/completions")
        #expect(call.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer sk-KEY-1234" })
        let b = try body(call)
        #expect(b["model"] == "gpt-3.5-turbo-instruct" && b["prompt"] == "Say" && b["suffix"] == "end" && b["max_tokens"] == 16)
        #expect(b["raw"] == nil && b["stream"] == nil)  // Ollama's `raw` never reaches an OpenAI-shaped server
        let s = try body(try codec(p).call(r, model: "m", stream: true, provider: p))
        #expect(s["stream"] == true && s["stream_options"]?["include_usage"] == true)
    }

    @Test("which presets have /completions: DeepSeek under /beta, Azure on its deployment, Groq and HF none")
    func presets() throws {
        let r = try request(#"{"prompt":"x"}"#)
        let deepseek = try provider("deepseek", base: "https://api.deepseek.com/v1")
        #expect(try codec(deepseek).call(r, model: "deepseek-chat", stream: false, provider: deepseek).url == "https://api.deepseek.com/beta/completions")
        let azure = try ProviderConfig.parse(JSONParser.parse(#"{"name":"a","type":"azure","base_url":"https://r.openai.azure.com","api_key":"k","api_version":"2024-10-21","deployment":"instruct"}"#), path: "a")
        #expect(try codec(azure).call(r, model: nil, stream: false, provider: azure).url
                == "https://r.openai.azure.com/openai/deployments/instruct/completions?api-version=2024-10-21")
        for type in ["openrouter", "together", "fireworks", "cerebras", "xai", "lmstudio", "openai-compatible"] {
            let p = try provider(type)
            #expect(try codec(p).call(r, model: "m", stream: false, provider: p).url.hasSuffix("/completions"), "\(type)")
        }
        for type in ["groq", "huggingface", "anthropic", "gemini", "cohere"] {
            let p = try provider(type)
            #expect(ProviderCatalogue.codec(for: p.type)?.operationCodec(.completions, provider: p) == nil, "\(type)")
        }
    }

    @Test("OpenAI /completions answer: kept as the text_completion it is, usage bounded, in-band error raised")
    func openAIDecode() throws {
        let p = try provider("openai")
        let r = try request(#"{"prompt":"x"}"#)
        let o = try codec(p).decode(Array(#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"text":" hi","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":16,"total_tokens":18}}"#.utf8),
                                    head: head, request: r, model: "m", provider: p)
        #expect(o["choices"]?.arrayValue?.first?["text"] == " hi" && o["choices"]?.arrayValue?.first?["finish_reason"] == "length" && o["usage"]?["total_tokens"] == 18)
        #expect(throws: PMXError.self) { try codec(p).decode(Array(#"{"error":{"message":"boom"}}"#.utf8), head: head, request: r, model: "m", provider: p) }
        #expect(throws: PMXError.self) { try codec(p).decode(Array(#"{"choices":[]}"#.utf8), head: head, request: r, model: "m", provider: p) }
    }

    @Test("OpenAI /completions stream: text deltas, finish, usage, [DONE] at any split")
    func openAIStream() throws {
        let p = try provider("openai")
        let r = try request(#"{"prompt":"x"}"#)
        let bytes = sse([#"{"id":"cmpl-9","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"text":"Hel","index":0,"logprobs":null,"finish_reason":null}],"usage":null}"#,
                         #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"text":"lo wörld 👋","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
                         #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}"#,
                         "[DONE]"])
        let expected: [ProviderEvent] = [.meta(id: "cmpl-9", model: "gpt-3.5-turbo-instruct"), .delta(content: "Hel", toolCalls: nil),
                                         .delta(content: "lo wörld 👋", toolCalls: nil), .finish(reason: "stop"),
                                         .usage(Usage(promptTokens: 1, completionTokens: 3)), .end]
        expectSplitInvariant(bytes, expected) { try! codec(p).streamDecoder(r, model: "m", provider: p)! }
    }

    // MARK: Ollama /api/generate

    @Test("Ollama /api/generate: prompt, suffix, raw, options (num_predict 16 by default), stream always sent")
    func ollamaRequest() throws {
        let p = try provider("ollama", base: "http://127.0.0.1:11434")
        let r = try request(#"{"prompt":"def f(","suffix":"return x","raw":true,"temperature":0.2,"stop":"\n\n","seed":7}"#)
        let call = try codec(p).call(r, model: "codellama:7b-code", stream: false, provider: p)
        #expect(call.url == "http://127.0.0.1:11434/api/generate")
        let b = try body(call)
        #expect(b["model"] == "codellama:7b-code" && b["prompt"] == "def f(" && b["suffix"] == "return x" && b["raw"] == true && b["stream"] == false)
        #expect(b["options"]?["num_predict"] == 16 && b["options"]?["temperature"] == 0.2 && b["options"]?["seed"] == 7 && b["options"]?["stop"] == ["\n\n"])
        #expect(throws: PMXError.self) { try codec(p).call(try request(#"{"prompt":["a","b"]}"#), model: "m", stream: false, provider: p) }
    }

    @Test("Ollama /api/generate answer and NDJSON stream → text_completion / events at any split")
    func ollamaDecode() throws {
        let p = try provider("ollama", base: "http://127.0.0.1:11434")
        let r = try request(#"{"prompt":"x"}"#)
        let o = try codec(p).decode(Array(#"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","response":"The sky","done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":2}"#.utf8),
                                    head: head, request: r, model: "llama3.2", provider: p)
        #expect(o["object"] == "text_completion" && o["choices"]?.arrayValue?.first?["text"] == "The sky" && o["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(o["usage"]?["prompt_tokens"] == 4 && o["usage"]?["completion_tokens"] == 2)
        let lines = [#"{"model":"llama3.2","response":"The","done":false}"#, #"{"model":"llama3.2","response":" sky 🌌","done":false}"#,
                     #"{"model":"llama3.2","response":"","done":true,"done_reason":"stop","prompt_eval_count":4,"eval_count":2}"#]
        let expected: [ProviderEvent] = [.meta(id: nil, model: "llama3.2"), .delta(content: "The", toolCalls: nil), .delta(content: " sky 🌌", toolCalls: nil),
                                         .finish(reason: "stop"), .usage(Usage(promptTokens: 4, completionTokens: 2)), .end]
        expectSplitInvariant(Array(lines.map { $0 + "\n" }.joined().utf8), expected) { try! codec(p).streamDecoder(r, model: "m", provider: p)! }
        let err = decode({ try! codec(p).streamDecoder(r, model: "m", provider: p)! }, [Array(#"{"error":"model does not support insert"}"#.utf8 + [10])[...]])
        guard case .error(let e) = err.last else { Issue.record("no error: \(err)"); return }
        #expect(e.message.contains("does not support insert"))
    }

    // MARK: llama.cpp /infill

    @Test("llama.cpp: a suffix goes to /infill (input_prefix/input_suffix, n_predict), without one to /v1/completions")
    func llamaCppRequest() throws {
        let p = try provider("llamacpp", base: "http://127.0.0.1:8080/v1")
        let fim = try request(#"{"prompt":"def add(a, b):\n","suffix":"\nprint(add(1, 2))","max_tokens":32,"input_extra":[{"filename":"u.py","text":"x=1"}]}"#)
        let call = try codec(p).call(fim, model: "qwen", stream: true, provider: p)
        #expect(call.url == "http://127.0.0.1:8080/infill")
        let b = try body(call)
        #expect(b["input_prefix"] == "def add(a, b):\n" && b["input_suffix"] == "\nprint(add(1, 2))" && b["n_predict"] == 32 && b["stream"] == true)
        #expect(b["prompt"] == nil && b["suffix"] == nil && b["max_tokens"] == nil && b["input_extra"]?.arrayValue?.first?["filename"] == "u.py")
        #expect(try codec(p).call(try request(#"{"prompt":"x"}"#), model: "q", stream: false, provider: p).url == "http://127.0.0.1:8080/v1/completions")
    }

    @Test("llama.cpp /infill answer and SSE stream (ends at stop: true) → text_completion / events at any split")
    func llamaCppDecode() throws {
        let p = try provider("llamacpp", base: "http://127.0.0.1:8080/v1")
        let r = try request(#"{"prompt":"a","suffix":"b"}"#)
        let o = try codec(p).decode(Array(#"{"content":"    return a + b","stop":true,"stop_type":"limit","model":"qwen","tokens_predicted":6,"tokens_evaluated":11}"#.utf8),
                                    head: head, request: r, model: "qwen", provider: p)
        #expect(o["object"] == "text_completion" && o["choices"]?.arrayValue?.first?["text"] == "    return a + b" && o["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(o["usage"]?["prompt_tokens"] == 11 && o["usage"]?["completion_tokens"] == 6)
        let bytes = sse([#"{"content":"    ret","stop":false}"#, #"{"content":"urn a + b","stop":false}"#,
                         #"{"content":"","stop":true,"stop_type":"eos","model":"qwen","tokens_predicted":6,"tokens_evaluated":11}"#])
        let expected: [ProviderEvent] = [.meta(id: nil, model: nil), .delta(content: "    ret", toolCalls: nil), .delta(content: "urn a + b", toolCalls: nil),
                                         .finish(reason: "stop"), .usage(Usage(promptTokens: 11, completionTokens: 6)), .end]
        expectSplitInvariant(bytes, expected) { try! codec(p).streamDecoder(r, model: "m", provider: p)! }
    }

    // MARK: Mistral FIM

    @Test("Mistral: /fim/completions with seed as random_seed; the chat-shaped answer becomes text_completion")
    func mistral() throws {
        let p = try provider("mistral", base: "https://api.mistral.ai/v1")
        let r = try request(#"{"prompt":"def f(","suffix":"return 1","seed":3,"max_tokens":8,"echo":false}"#)
        let call = try codec(p).call(r, model: "codestral-latest", stream: false, provider: p)
        #expect(call.url == "https://api.mistral.ai/v1/fim/completions")
        let b = try body(call)
        #expect(b["model"] == "codestral-latest" && b["prompt"] == "def f(" && b["suffix"] == "return 1" && b["random_seed"] == 3 && b["echo"] == nil)
        let o = try codec(p).decode(Array(#"{"id":"c1","object":"chat.completion","created":1,"model":"codestral-latest","choices":[{"index":0,"message":{"role":"assistant","content":"x):"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#.utf8),
                                    head: head, request: r, model: "codestral-latest", provider: p)
        #expect(o["object"] == "text_completion" && o["choices"]?.arrayValue?.first?["text"] == "x):" && o["usage"]?["total_tokens"] == 7)
        let bytes = sse([#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"codestral-latest","choices":[{"index":0,"delta":{"role":"assistant","content":"x"},"finish_reason":null}]}"#,
                         #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"codestral-latest","choices":[{"index":0,"delta":{"content":"):"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
                         "[DONE]"])
        let expected: [ProviderEvent] = [.meta(id: "c1", model: "codestral-latest"), .delta(content: "x", toolCalls: nil), .delta(content: "):", toolCalls: nil),
                                         .finish(reason: "stop"), .usage(Usage(promptTokens: 5, completionTokens: 2)), .end]
        expectSplitInvariant(bytes, expected) { try! codec(p).streamDecoder(r, model: "m", provider: p)! }
    }

    @Test("a streamed answer accumulated by the router becomes the text_completion of done")
    func streamedResult() throws {
        var acc = StreamAccumulator()
        acc.apply(.meta(id: "chatcmpl-abc", model: "m"))
        acc.apply(.delta(content: "hi", toolCalls: nil))
        acc.apply(.finish(reason: "length"))
        acc.apply(.usage(Usage(promptTokens: 1, completionTokens: 1)))
        let o = try request(#"{"prompt":"x"}"#).streamedResult(acc.response(fallbackModel: "m"))
        #expect(o["object"] == "text_completion" && o["id"] == "cmpl-abc" && o["choices"]?.arrayValue?.first?["text"] == "hi")
        #expect(o["choices"]?.arrayValue?.first?["finish_reason"] == "length" && o["choices"]?.arrayValue?.first?["message"] == nil && o["usage"]?["total_tokens"] == 2)
    }
}
