// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// The operation codecs of images, moderations, audio, rerank, token counts and OpenRouter's
// account endpoints without a network: the HTTP call each builds from a request, and the
// result each makes of answers recorded from the vendors' documented shapes.

private let key = "sk-ops-SECRET-0123456789"

private func provider(_ type: String, _ extra: String = "") -> ProviderConfig {
    let json = #"{"name":"p","type":"\#(type)","base_url":"http://127.0.0.1:9/s/v1","api_key":"\#(key)"\#(extra)}"#
    return try! ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
}

private func root(_ type: String) -> ProviderConfig {
    let json = #"{"name":"p","type":"\#(type)","base_url":"http://127.0.0.1:9/s","api_key":"\#(key)"}"#
    return try! ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
}

private func request(_ op: OperationName, _ json: String) throws -> OperationRequest {
    let r = try OperationRequest.parse(op, try JSONParser.parse(json))
    try OperationFields.check(op, r.body)
    return r
}

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }
private func header(_ call: ProviderHTTPCall, _ name: String) -> String? {
    call.headers.first { $0.0.lowercased() == name.lowercased() }?.1
}
private let okHead = HTTPResponseHead(status: 200, headers: [("content-type", "application/json")])
private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct ImagesAndModerationsTests {
    @Test func imagesCallSendsTheBodyWithTheProviderModel() throws {
        let r = try request(.imagesGenerate, #"{"model":"openai/gpt-image-1","prompt":"a cat","n":2,"size":"1024x1024","route":{"providers":["p"]}}"#)
        let call = try OpenAIImages(preset: OpenAICodec()).call(r, model: "gpt-image-1", stream: false, provider: provider("openai"))
        #expect(call.method == "POST" && call.url == "http://127.0.0.1:9/s/v1/images/generations")
        #expect(try body(call) == ["model": "gpt-image-1", "prompt": "a cat", "n": 2, "size": "1024x1024"])
        #expect(header(call, "Authorization") == "Bearer \(key)")
    }

    @Test func imagesWithoutModelNameDallE2() throws {
        let r = try request(.imagesGenerate, #"{"prompt":"a cat"}"#)
        let call = try OpenAIImages(preset: OpenAICodec()).call(r, model: nil, stream: false, provider: provider("openai"))
        #expect(try body(call)["model"] == "dall-e-2")
    }

    @Test func azureImagesUseTheDeploymentURLAndApiKey() throws {
        let p = provider("azure", #","api_version":"2024-10-21","deployment":"img""#)
        let call = try OpenAIImages(preset: AzureCodec()).call(try request(.imagesGenerate, #"{"prompt":"x"}"#), model: "dall-e-3", stream: false, provider: p)
        #expect(call.url == "http://127.0.0.1:9/s/v1/openai/deployments/img/images/generations?api-version=2024-10-21")
        #expect(header(call, "api-key") == key && header(call, "Authorization") == nil)
    }

    @Test func imagesDecodeKeepsDataAndUsageAndRefusesEmptyItems() throws {
        let r = try request(.imagesGenerate, #"{"prompt":"x"}"#)
        let answer = #"{"created":1713833628,"data":[{"b64_json":"iVBORw0KGgo=","revised_prompt":"y"}],"usage":{"input_tokens":3,"output_tokens":272,"total_tokens":275}}"#
        let out = try OpenAIImages(preset: OpenAICodec()).decode(bytes(answer), head: okHead, request: r, model: nil, provider: provider("openai"))
        // The vendor's usage keys stay; prompt/completion_tokens are added for accounting.
        #expect(try out["data"] == JSONParser.parse(answer)["data"] && out["created"] == 1713833628)
        #expect(out["usage"] == ["input_tokens": 3, "output_tokens": 272, "total_tokens": 275, "prompt_tokens": 3, "completion_tokens": 272])
        #expect(throws: PMXError.self) {
            _ = try OpenAIImages(preset: OpenAICodec()).decode(bytes(#"{"created":1,"data":[{}]}"#), head: okHead, request: r, model: nil, provider: provider("openai"))
        }
    }

    @Test func imagesRequestNeedsAPrompt() {
        #expect { try request(.imagesGenerate, #"{"n":1}"#) } throws: { ($0 as? PMXError)?.message == "prompt: is required" }
        #expect { try request(.imagesGenerate, #"{"prompt":"x","n":0}"#) } throws: { ($0 as? PMXError)?.message.hasPrefix("n:") == true }
    }

    @Test func moderationsPassTheInputAndCheckResults() throws {
        let r = try request(.moderations, #"{"model":"omni-moderation-latest","input":["a","b"]}"#)
        let call = try OpenAIModerations(preset: OpenAICodec()).call(r, model: "omni-moderation-latest", stream: false, provider: provider("openai"))
        #expect(try call.url.hasSuffix("/v1/moderations") && body(call)["input"] == ["a", "b"])
        let answer = #"{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":true,"categories":{"self-harm/intent":true},"category_scores":{"self-harm/intent":0.9},"category_applied_input_types":{"self-harm/intent":["text"]}}]}"#
        let out = try OpenAIModerations(preset: OpenAICodec()).decode(bytes(answer), head: okHead, request: r, model: nil, provider: provider("openai"))
        #expect(out["results"]?.arrayValue?.first?["categories"]?["self-harm/intent"] == true)
        #expect(throws: PMXError.self) {
            _ = try OpenAIModerations(preset: OpenAICodec()).decode(bytes(#"{"results":[{"flagged":"no"}]}"#), head: okHead, request: r, model: nil, provider: provider("openai"))
        }
        #expect { try request(.moderations, #"{"input":[1]}"#) } throws: { ($0 as? PMXError)?.message.hasPrefix("input:") == true }
    }
}

@Suite struct AudioOperationTests {
    @Test func base64IsStrict() {
        #expect(Base64.decode("aGVsbG8=") == Array("hello".utf8))
        #expect(Base64.decode("") == [])
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
        for n in 0..<40 {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(data)) == data)
        }
        for bad in ["aGVsbG8", "aGVs bG8=", "aGVsbG8-", "a===", "aGVsbG9=", "=aGV", "aG=s"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func transcriptionGoesMultipartWithTheDecodedFile() throws {
        let audio: [UInt8] = Array(0...255) + Array("--pmx-boundary-".utf8)
        let json = #"{"model":"whisper-1","file":{"data":"\#(Base64.encode(audio))","filename":"a.wav","content_type":"audio/wav"},"language":"en","temperature":0.2,"timestamp_granularities":["word","segment"]}"#
        let r = try request(.audioTranscriptions, json)
        let call = try OpenAITranscriptions(preset: OpenAICodec()).call(r, model: "whisper-1", stream: false, provider: provider("groq"))
        #expect(call.url == "http://127.0.0.1:9/s/v1/audio/transcriptions")
        let ctype = try #require(header(call, "Content-Type"))
        #expect(ctype.hasPrefix("multipart/form-data; boundary="))
        let boundary = String(ctype.dropFirst("multipart/form-data; boundary=".count))
        let text = String(decoding: call.body ?? [], as: UTF8.self)
        #expect(text.contains("name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"))
        #expect(text.contains("name=\"model\"\r\n\r\nwhisper-1\r\n"))
        #expect(text.contains("name=\"temperature\"\r\n\r\n0.2\r\n"))
        #expect(text.components(separatedBy: "name=\"timestamp_granularities[]\"").count == 3)
        #expect(!text.contains("name=\"file\"\r\n"))
        #expect(call.body?.count ?? 0 > audio.count)
        // The file's bytes arrive whole, between its part header and the next boundary.
        let body = call.body ?? []
        let marker = Array("Content-Type: audio/wav\r\n\r\n".utf8)
        let start = try #require(firstRange(of: marker, in: body)).upperBound
        #expect(Array(body[start..<(start + audio.count)]) == audio)
        #expect(Array(body[(start + audio.count)..<(start + audio.count + 4 + boundary.count)]) == Array("\r\n--\(boundary)".utf8))
    }

    @Test func badBase64NamesFileData() {
        #expect { try request(.audioTranscriptions, #"{"model":"whisper-1","file":{"data":"not base64!","filename":"a.wav"}}"#) }
            throws: { ($0 as? PMXError)?.status == .invalidRequest && ($0 as? PMXError)?.message.hasPrefix("file.data: is not base64") == true }
        #expect { try request(.audioTranscriptions, #"{"model":"whisper-1"}"#) } throws: { ($0 as? PMXError)?.message == "file: is required" }
        #expect { try request(.audioTranscriptions, #"{"file":{"data":"AA==","filename":"a\nb.wav"}}"#) }
            throws: { ($0 as? PMXError)?.message.hasPrefix("file.filename:") == true }
    }

    @Test func transcriptionDecodesJSONAndPlainText() throws {
        let codec = OpenAITranscriptions(preset: OpenAICodec())
        let r = try request(.audioTranscriptions, #"{"file":{"data":"AA==","filename":"a.wav"}}"#)
        let out = try codec.decode(bytes(#"{"text":"hi there","usage":{"type":"duration","seconds":3}}"#), head: okHead, request: r, model: nil, provider: provider("openai"))
        #expect(out["text"] == "hi there" && out["usage"]?["seconds"] == 3)
        let rt = try request(.audioTranscriptions, #"{"file":{"data":"AA==","filename":"a.wav"},"response_format":"srt"}"#)
        let plain = try codec.decode(bytes("1\n00:00:00,000 --> 00:00:01,000\nhi\n"), head: okHead, request: rt, model: nil, provider: provider("openai"))
        #expect(plain["text"] == "1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    }

    @Test func speechReturnsBase64AudioWithTheHeaderContentType() throws {
        let r = try request(.audioSpeech, #"{"model":"tts-1","input":"hello","voice":"alloy","response_format":"wav"}"#)
        let codec = OpenAISpeech(preset: OpenAICodec())
        let call = try codec.call(r, model: "tts-1", stream: false, provider: provider("openai"))
        #expect(try call.url.hasSuffix("/v1/audio/speech") && body(call)["voice"] == "alloy")
        let audio: [UInt8] = [0x52, 0x49, 0x46, 0x46, 0, 255, 10, 13]
        let out = try codec.decode(audio, head: HTTPResponseHead(status: 200, headers: [("content-type", "audio/wav")]), request: r, model: nil, provider: provider("openai"))
        #expect(out["audio"]?.stringValue.flatMap(Base64.decode) == audio && out["content_type"] == "audio/wav")
        let guessed = try codec.decode(audio, head: HTTPResponseHead(status: 200, headers: []), request: r, model: nil, provider: provider("openai"))
        #expect(guessed["content_type"] == "audio/wav")
        #expect { try request(.audioSpeech, #"{"model":"tts-1","input":"x"}"#) } throws: { ($0 as? PMXError)?.message == "voice: is required" }
    }
}

private func firstRange(of needle: [UInt8], in hay: [UInt8]) -> Range<Int>? {
    guard needle.count <= hay.count else { return nil }
    for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
    return nil
}

@Suite struct RerankOperationTests {
    let docs = #""documents":["hi","the giant panda",{"text":"a panda"}]"#

    @Test func jinaShapeIsSortedAndCutWhateverTheServerDid() throws {
        let r = try request(.rerank, #"{"model":"bge","query":"giant panda","top_n":2,"return_documents":true,\#(docs)}"#)
        let codec = OpenAIRerank(preset: LlamaCppCodec())
        let call = try codec.call(r, model: "bge", stream: false, provider: provider("llamacpp"))
        #expect(try call.url == "http://127.0.0.1:9/s/v1/rerank" && body(call)["top_n"] == 2)
        let answer = #"{"model":"bge","results":[{"index":0,"relevance_score":0.0},{"index":1,"relevance_score":1.0},{"index":2,"relevance_score":0.5}],"usage":{"prompt_tokens":8,"total_tokens":8}}"#
        let out = try codec.decode(bytes(answer), head: okHead, request: r, model: nil, provider: provider("llamacpp"))
        #expect(JSONValue.object(out)["results"] == [["index": 1, "relevance_score": 1.0, "document": ["text": "the giant panda"]],
                                                     ["index": 2, "relevance_score": 0.5, "document": ["text": "a panda"]]])
        #expect(out["usage"] == ["prompt_tokens": 8, "total_tokens": 8])
        let bare = try codec.decode(bytes(#"[{"index":2,"score":0.7},{"index":0,"score":0.9}]"#), head: okHead, request: r, model: nil, provider: provider("llamacpp"))
        #expect(bare["results"]?.arrayValue?.map { $0["index"] } == [0, 2])
    }

    @Test func badResultsBreakTheProtocol() throws {
        let r = try request(.rerank, #"{"query":"q",\#(docs)}"#)
        for bad in [#"{"results":[{"index":3,"relevance_score":1}]}"#, #"{"results":[{"index":0}]}"#, #"{"data":[]}"#] {
            #expect { try OpenAIRerank(preset: OpenAICodec()).decode(bytes(bad), head: okHead, request: r, model: nil, provider: provider("openai-compatible")) }
                throws: { ($0 as? PMXError)?.status == .upstreamProtocol }
        }
        #expect { try request(.rerank, #"{"query":"q","documents":[]}"#) } throws: { ($0 as? PMXError)?.message.hasPrefix("documents:") == true }
        #expect { try request(.rerank, #"{"query":"q","documents":[1]}"#) } throws: { ($0 as? PMXError)?.message.hasPrefix("documents[0]:") == true }
    }

    @Test func cohereSendsStringsAndAddsDocumentsItself() throws {
        let r = try request(.rerank, #"{"model":"rerank-v3.5","query":"giant panda","top_n":1,"return_documents":true,\#(docs)}"#)
        let call = try CohereRerank().call(r, model: "rerank-v3.5", stream: false, provider: root("cohere"))
        #expect(call.url == "http://127.0.0.1:9/s/v2/rerank")
        #expect(try body(call) == ["model": "rerank-v3.5", "query": "giant panda", "documents": ["hi", "the giant panda", "a panda"], "top_n": 1])
        let answer = #"{"id":"r1","results":[{"index":1,"relevance_score":0.98}],"meta":{"api_version":{"version":"2"},"billed_units":{"search_units":1}}}"#
        let out = try CohereRerank().decode(bytes(answer), head: okHead, request: r, model: nil, provider: root("cohere"))
        #expect(out["results"] == [["index": 1, "relevance_score": 0.98, "document": ["text": "the giant panda"]]])
        #expect(out["usage"] == ["search_units": 1])
    }
}

@Suite struct TokenCountOperationTests {
    let chat = #""messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}],"max_tokens":50,"temperature":0.3"#

    @Test func anthropicSendsTheMessagesBodyWithoutMaxTokens() throws {
        let r = try request(.tokensCount, #"{"model":"claude-x",\#(chat)}"#)
        let call = try AnthropicTokenCount().call(r, model: "claude-x", stream: false, provider: root("anthropic"))
        #expect(call.url == "http://127.0.0.1:9/s/v1/messages/count_tokens")
        let b = try body(call)
        #expect(b["model"] == "claude-x" && b["system"] == "be brief" && b["messages"]?.arrayValue?.count == 1)
        #expect(Set(b.objectValue?.keys ?? []) == ["model", "system", "messages"])
        #expect(try body(call)["max_tokens"] == nil && body(call)["temperature"] == nil && body(call)["stream"] == nil)
        #expect(header(call, "x-api-key") == key && header(call, "anthropic-version") == "2023-06-01")
        let out = try AnthropicTokenCount().decode(bytes(#"{"input_tokens":7}"#), head: okHead, request: r, model: nil, provider: root("anthropic"))
        #expect(out["input_tokens"] == 7 && out["estimated"] == false)
        #expect(throws: PMXError.self) { _ = try AnthropicTokenCount().decode(bytes(#"{"input_tokens":-1}"#), head: okHead, request: r, model: nil, provider: root("anthropic")) }
    }

    @Test func geminiUsesGenerateContentRequestAndReadsTotalTokens() throws {
        let r = try request(.tokensCount, #"{"model":"gemini-2.0-flash",\#(chat)}"#)
        let call = try GeminiTokenCount().call(r, model: "gemini-2.0-flash", stream: false, provider: root("gemini"))
        #expect(call.url == "http://127.0.0.1:9/s/v1beta/models/gemini-2.0-flash:countTokens")
        let b = try body(call)
        #expect(b["generateContentRequest"]?["model"] == "models/gemini-2.0-flash")
        #expect(b["generateContentRequest"]?["systemInstruction"] != nil && b["generateContentRequest"]?["generationConfig"] == nil)
        #expect(b["contents"] == nil && header(call, "x-goog-api-key") == key)
        let out = try GeminiTokenCount().decode(bytes(#"{"totalTokens":5,"promptTokensDetails":[{"modality":"TEXT","tokenCount":5}]}"#), head: okHead, request: r, model: nil, provider: root("gemini"))
        #expect(out["input_tokens"] == 5 && out["estimated"] == false)
        #expect(throws: PMXError.self) { _ = try GeminiTokenCount().decode(bytes(#"{"totalTokenCount":5}"#), head: okHead, request: r, model: nil, provider: root("gemini")) }
    }

    @Test func llamaCppTokenizesAtTheServerRoot() throws {
        let r = try request(.tokensCount, #"{"input":"hello there world"}"#)
        let call = try LlamaCppTokenize().call(r, model: nil, stream: false, provider: provider("llamacpp"))
        #expect(try call.url == "http://127.0.0.1:9/s/tokenize" && body(call)["content"] == "hello there world")
        let out = try LlamaCppTokenize().decode(bytes(#"{"tokens":[1,2,3]}"#), head: okHead, request: r, model: nil, provider: provider("llamacpp"))
        #expect(out["input_tokens"] == 3)
        #expect { try request(.tokensCount, #"{"model":"m"}"#) } throws: { ($0 as? PMXError)?.message.hasPrefix("messages:") == true }
    }
}

@Suite struct OpenRouterAccountTests {
    @Test func creditsAndGenerationAreGETsReturningTheDataObject() throws {
        let p = provider("openrouter")
        let c = try OpenRouterAccount(.credits).call(try request(.openrouterCredits, "{}"), model: nil, stream: false, provider: p)
        #expect(c.method == "GET" && c.url == "http://127.0.0.1:9/s/v1/credits" && c.body == nil && header(c, "Content-Type") == nil)
        let g = try OpenRouterAccount(.generation).call(try request(.openrouterGeneration, #"{"id":"gen-1&x=2"}"#), model: nil, stream: false, provider: p)
        #expect(g.url == "http://127.0.0.1:9/s/v1/generation?id=gen-1%26x%3D2")
        let out = try OpenRouterAccount(.credits).decode(bytes(#"{"data":{"total_credits":100.5,"total_usage":25.75}}"#), head: okHead,
                                                          request: try request(.openrouterCredits, "{}"), model: nil, provider: p)
        #expect(JSONValue.object(out) == ["total_credits": 100.5, "total_usage": 25.75, "object": "openrouter.credits"])
        #expect { try request(.openrouterGeneration, "{}") } throws: { ($0 as? PMXError)?.message == "id: is required" }
    }
}
