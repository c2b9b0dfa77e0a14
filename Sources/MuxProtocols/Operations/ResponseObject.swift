// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The OpenAI `Response` object a translated `responses.create` answers with, built from the
/// chat answer of the protocol that served it (and, streamed, from the same pieces as they
/// arrive: ResponsesStreamBuilder). Shapes as openai's `types/responses` declare them.
public enum ResponseObject {
    /// A fresh id with OpenAI's prefix for its kind ("resp_", "msg_", "fc_", "rs_").
    public static func newID(_ prefix: String) -> String {
        prefix + "pmx" + StreamAccumulator.generatedID().dropFirst("chatcmpl-pmx-".count)
    }

    /// A chat completion (one choice) → a Response, echoing the request's settings.
    public static func fromChat(_ chat: JSONObject, request: JSONObject) -> JSONObject {
        let choice = chat["choices"]?.arrayValue?.first
        let message = choice?["message"]
        let finish = choice?["finish_reason"]?.stringValue
        let status = status(finishReason: finish)
        var output: [JSONValue] = []
        output.append(contentsOf: ResponsesReasoning.outputItems(of: message))
        let calls = message?["tool_calls"]?.arrayValue ?? []
        let text = message?["content"].map(ChatRequest.text(of:)) ?? ""
        let refusal = message?["refusal"]?.stringValue
        if !text.isEmpty || refusal != nil || calls.isEmpty {
            output.append(.object(messageItem(id: newID("msg_"), text: text, refusal: refusal, status: status.item)))
        }
        for call in calls {
            output.append(.object(functionCallItem(id: newID("fc_"), callID: call["id"]?.stringValue ?? newID("call_"),
                                                   name: call["function"]?["name"]?.stringValue ?? "",
                                                   arguments: call["function"]?["arguments"]?.stringValue ?? "", status: "completed")))
        }
        return envelope(id: newID("resp_"), createdAt: chat["created"]?.intValue ?? unixTimeSeconds(),
                        model: chat["model"]?.stringValue ?? request["model"]?.stringValue ?? "",
                        status: status, output: output, usage: usage(chat["usage"]), request: request)
    }

    /// "completed", or "incomplete" with its reason when the answer was cut (a length finish:
    /// `max_output_tokens`; a content filter). The item status goes with it.
    public static func status(finishReason: String?) -> (response: String, item: String, reason: String?) {
        switch finishReason {
        case "length": ("incomplete", "incomplete", "max_output_tokens")
        case "content_filter": ("incomplete", "incomplete", "content_filter")
        default: ("completed", "completed", nil)
        }
    }

    /// The Response around `output`: the request's settings echoed as OpenAI does, `store`
    /// false (a translated answer is kept nowhere).
    public static func envelope(id: String, createdAt: Int64, model: String, status: (response: String, item: String, reason: String?),
                                output: [JSONValue], usage: JSONValue?, request: JSONObject) -> JSONObject {
        var o = JSONObject()
        o.reserveCapacity(24)
        o["id"] = .string(id)
        o["object"] = "response"
        o["created_at"] = .int(createdAt)
        o["status"] = .string(status.response)
        o["error"] = .null
        o["incomplete_details"] = status.reason.map { ["reason": .string($0)] } ?? .null
        o["instructions"] = request["instructions"] ?? .null
        o["max_output_tokens"] = request["max_output_tokens"] ?? .null
        o["model"] = .string(model)
        o["output"] = .array(output)
        o["parallel_tool_calls"] = request["parallel_tool_calls"] ?? true
        o["previous_response_id"] = .null
        o["reasoning"] = request["reasoning"] ?? .null
        o["store"] = false
        o["temperature"] = request["temperature"] ?? .null
        o["text"] = ["format": request["text"]?["format"] ?? ["type": "text"]]
        o["tool_choice"] = request["tool_choice"] ?? "auto"
        o["tools"] = request["tools"] ?? []
        o["top_p"] = request["top_p"] ?? .null
        o["truncation"] = "disabled"
        o["metadata"] = request["metadata"] ?? [:]
        o["usage"] = usage ?? .null
        return o
    }

    public static func messageItem(id: String, text: String, refusal: String? = nil, status: String) -> JSONObject {
        var content: [JSONValue] = []
        if !text.isEmpty || refusal == nil { content.append(outputText(text)) }
        if let refusal { content.append(["type": "refusal", "refusal": .string(refusal)]) }
        return JSONObject([("type", "message"), ("id", .string(id)), ("status", .string(status)), ("role", "assistant"),
                           ("content", .array(content))])
    }

    public static func outputText(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": []]
    }

    public static func functionCallItem(id: String, callID: String, name: String, arguments: String, status: String) -> JSONObject {
        JSONObject([("type", "function_call"), ("id", .string(id)), ("call_id", .string(callID)), ("name", .string(name)),
                    ("arguments", .string(arguments)), ("status", .string(status))])
    }

    /// Reasoning as chat carries it (the model's reasoning text): a `reasoning` item with
    /// `reasoning_text` content and no summary (none was made).
    public static func reasoningItem(id: String, text: String) -> JSONObject {
        JSONObject([("type", "reasoning"), ("id", .string(id)), ("summary", []),
                    ("content", .array(text.isEmpty ? [] : [["type": "reasoning_text", "text": .string(text)]]))])
    }

    /// A chat `usage` object → Responses usage (`input_tokens`, `output_tokens`, their
    /// details, `total_tokens`); an upstream's own cost stays as `upstream_cost_usd`.
    public static func usage(_ chat: JSONValue?) -> JSONValue? {
        guard let u = Usage(openAI: chat) else { return nil }
        return usage(u)
    }

    public static func usage(_ u: Usage) -> JSONValue {
        var o = JSONObject()
        o["input_tokens"] = .int(Int64(clamping: u.promptTokens))
        o["input_tokens_details"] = ["cached_tokens": .int(Int64(clamping: u.cachedTokens ?? 0)),
                                     "cache_write_tokens": .int(Int64(clamping: u.cacheWriteTokens ?? 0))]
        o["output_tokens"] = .int(Int64(clamping: u.completionTokens))
        o["output_tokens_details"] = ["reasoning_tokens": .int(Int64(clamping: u.reasoningTokens ?? 0))]
        o["total_tokens"] = .int(Int64(clamping: u.totalTokens))
        if let cost = u.upstreamCostUSD { o["upstream_cost_usd"] = .double(cost) }
        return .object(o)
    }
}
