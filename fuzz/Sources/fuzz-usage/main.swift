// SPDX-License-Identifier: Apache-2.0
// Usage decoding with numbers from the input, in every protocol. The first byte picks the
// protocol (low nibble) and whether the answer is a plain body or a stream (high bit); the
// rest is a comma-separated list of number literals (bytes outside [0-9eE+-.] dropped, so
// nearly every input is a well-formed JSON number: INT64_MAX, -1, 1e308, 40 digits...),
// written into every usage / count / duration / index field of that protocol's answer
// template in turn. The decoded usage goes through the accounting arithmetic (pricing, the
// stream accumulator). Beyond crashes: no decoded token count is negative, no cost is
// negative or not finite.
import MuxBase
import MuxConfig
import MuxProtocols
import MuxAccounting
import MuxProviders
import FuzzSupport

let templates: [(ProviderType, String, String)] = [
    (ProviderType.openai, #"{"id":"c","object":"chat.completion","created":#,"model":"m","choices":[{"index":#,"message":{"role":"assistant","content":"hi","tool_calls":[{"index":#,"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":#,"completion_tokens":#,"total_tokens":#,"prompt_tokens_details":{"cached_tokens":#},"completion_tokens_details":{"reasoning_tokens":#},"cost":#,"cost_usd":#}}"#,
     "data: {\"choices\":[{\"index\":#,\"delta\":{\"content\":\"hi\",\"tool_calls\":[{\"index\":#,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":#,\"completion_tokens\":#,\"total_tokens\":#,\"prompt_tokens_details\":{\"cached_tokens\":#},\"cost\":#}}\n\ndata: {\"error\":{\"message\":\"x\",\"code\":#}}\n\ndata: [DONE]\n\n"),
    (ProviderType.anthropic, #"{"id":"m","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":#,"output_tokens":#,"cache_creation_input_tokens":#,"cache_read_input_tokens":#}}"#,
     "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"m\",\"usage\":{\"input_tokens\":#,\"output_tokens\":#,\"cache_creation_input_tokens\":#,\"cache_read_input_tokens\":#}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":#,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":#,\"input_tokens\":#}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
    (ProviderType.gemini, #"{"candidates":[{"index":#,"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":#,"candidatesTokenCount":#,"totalTokenCount":#,"cachedContentTokenCount":#,"thoughtsTokenCount":#}}"#,
     "data: {\"candidates\":[{\"index\":#,\"content\":{\"parts\":[{\"text\":\"hi\"}]}}],\"usageMetadata\":{\"promptTokenCount\":#}}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":#,\"candidatesTokenCount\":#,\"totalTokenCount\":#,\"cachedContentTokenCount\":#,\"thoughtsTokenCount\":#}}\r\n\r\n"),
    (ProviderType.ollama, #"{"model":"m","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop","total_duration":#,"load_duration":#,"prompt_eval_count":#,"prompt_eval_duration":#,"eval_count":#,"eval_duration":#}"#,
     "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":#,\"load_duration\":#,\"prompt_eval_count\":#,\"prompt_eval_duration\":#,\"eval_count\":#,\"eval_duration\":#}\n"),
    (ProviderType.cohere, #"{"id":"c","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":#,"output_tokens":#},"tokens":{"input_tokens":#,"output_tokens":#}}}"#,
     "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":#,\"delta\":{\"message\":{\"content\":{\"text\":\"hi\"}}}}\n\nevent: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":{\"input_tokens\":#,\"output_tokens\":#},\"tokens\":{\"input_tokens\":#,\"output_tokens\":#}}}}\n\n"),
]
let protocols: [(ProviderConfig, any WireCodec, String, String)] = templates.compactMap { type, answer, stream in
    guard let provider = providerConfig(type), let codec = ProviderCatalogue.entry(for: type).codec else { return nil }
    return (provider, codec, answer, stream)
}
let price = ModelPrice(inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3)

/// The number literals of the input, each reduced to the characters a JSON number may hold.
func literals(_ u: [UInt8]) -> [String] {
    let allowed = Set("0123456789eE+-.".utf8)
    return u.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { piece in
        let kept = piece.filter { allowed.contains($0) }
        return kept.isEmpty ? "0" : String(decoding: kept, as: UTF8.self)
    }
}

/// The template with each "#" replaced by the next literal (cycling).
func fill(_ template: String, _ values: [String]) -> [UInt8] {
    var out: [UInt8] = []
    var n = 0
    for b in template.utf8 {
        if b == UInt8(ascii: "#") {
            out += values[n % values.count].utf8
            n += 1
        } else {
            out.append(b)
        }
    }
    return out
}

func check(_ usage: Usage) {
    for (name, v) in [("prompt", usage.promptTokens), ("completion", usage.completionTokens),
                      ("total", usage.totalTokens), ("cached", usage.cachedTokens ?? 0)] where v < 0 {
        fatalError("negative \(name) tokens: \(v)")
    }
    let cost = price.cost(usage)
    if !(cost >= 0 && cost.isFinite) { fatalError("cost \(cost) from \(usage)") }
    if let tps = usage.tokensPerSecond, !(tps >= 0 && tps.isFinite) { fatalError("tokens/s \(tps)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let (provider, codec, answer, stream) = protocols[Int(data[0] & 0x0F) % protocols.count]
    let values = literals(bytes(data + 1, size - 1))
    if data[0] & 0x80 == 0 {
        if let doc = try? codec.decodeChat(fill(answer, values), model: "m", provider: provider),
           let usage = Usage(openAI: doc["usage"]) {
            check(usage)
        }
        return 0
    }
    let decoder = codec.streamDecoder(model: "m", provider: provider)
    var acc = StreamAccumulator()
    let body = fill(stream, values)
    do {
        try body.withUnsafeBytes { raw in try decoder.feed(raw) { acc.apply($0) } }
        try decoder.finish { acc.apply($0) }
    } catch {}
    if let usage = acc.usage { check(usage) }
    return 0
}
