// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// `responses.create` for a protocol without `/responses`: the Responses request becomes the
/// Chat Completions request that protocol's chat path sends (so retries, failover, pricing and
/// the chat translation of each vendor apply unchanged). What chat cannot carry (stored
/// responses, built-in tools, file inputs) is refused with PMX_ERR_UNSUPPORTED naming the
/// field: the request fails over to a candidate that has `/responses` (openai, azure).
public enum ResponsesToChat {
    /// Fields a stateless chat call has no use for; dropped (`store` defaults to true on
    /// OpenAI: refusing it would refuse every request).
    static let ignored: Set<String> = ["store", "metadata", "include", "truncation", "service_tier", "user",
                                       "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "stream", "stream_options",
                                       "background", "model", "input", "instructions", "tools", "tool_choice", "text",
                                       "reasoning", "max_output_tokens", "temperature", "top_p", "parallel_tool_calls"]

    /// The chat request (validated by `ChatRequest.parse`, as a chat caller's would be).
    public static func chatRequest(_ request: OperationRequest, provider: ProviderConfig) throws -> ChatRequest {
        try ChatRequest.parse(.object(chatBody(request.body, provider: provider)))
    }

    static func chatBody(_ body: JSONObject, provider: ProviderConfig) throws -> JSONObject {
        for m in body.members where !ignored.contains(m.key) && !m.value.isNull {
            throw refusal(m.key, provider, m.key == "previous_response_id" || m.key == "conversation"
                          ? "stored responses live on openai and azure" : "no chat equivalent")
        }
        if body["background"]?.boolValue == true { throw refusal("background", provider, "no chat equivalent") }
        var chat = JSONObject()
        if let model = body["model"] { chat["model"] = model }
        var messages: [JSONValue] = []
        if let instructions = body["instructions"]?.stringValue, !instructions.isEmpty {
            messages.append(["role": "system", "content": .string(instructions)])
        }
        switch body["input"] {
        case .string(let s): messages.append(["role": "user", "content": .string(s)])
        case .array(let items): try appendItems(items, to: &messages, provider: provider)
        default: break
        }
        chat["messages"] = .array(messages)
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty {
            chat["tools"] = .array(try tools.enumerated().map { try tool($1, at: $0, provider: provider) })
        }
        if let choice = body["tool_choice"], !choice.isNull { chat["tool_choice"] = try toolChoice(choice, provider: provider) }
        if let format = body["text"]?["format"], let rf = try responseFormat(format, provider: provider) { chat["response_format"] = rf }
        if let effort = body["reasoning"]?["effort"], !effort.isNull { chat["reasoning_effort"] = effort }
        if let max = body["max_output_tokens"], !max.isNull { chat["max_tokens"] = max }
        for key in ["temperature", "top_p", "parallel_tool_calls"] {
            if let v = body[key], !v.isNull { chat[key] = v }
        }
        return chat
    }

    static func refusal(_ field: String, _ provider: ProviderConfig, _ why: String) -> PMXError {
        PMXError(.unsupported, "provider type \"\(provider.type.rawValue)\" cannot take responses.create field \(field) "
                 + "(\(why); it is translated to chat)", provider: provider.name)
    }

    /// Input items in order: messages, `function_call` (an assistant message's tool calls;
    /// consecutive calls share one message), `function_call_output` (a tool message).
    /// `reasoning` items go on the assistant turn that follows them (ResponsesReasoning), so
    /// Anthropic gets its signed thinking blocks back and DeepSeek its `reasoning_content`.
    private static func appendItems(_ items: [JSONValue], to messages: inout [JSONValue], provider: ProviderConfig) throws {
        var reasoning = ResponsesReasoning.Pending()
        for (i, item) in items.enumerated() {
            let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : "")
            switch type {
            case "message":
                let role = item["role"]?.stringValue ?? "user"
                var m = JSONObject()
                m["role"] = .string(role == "developer" ? "system" : role)
                m["content"] = try content(item["content"], at: "input[\(i)].content", provider: provider)
                if role == "assistant" { reasoning.attach(to: &m) } else { reasoning = ResponsesReasoning.Pending() }
                messages.append(.object(m))
            case "function_call":
                guard let callID = item["call_id"]?.stringValue, let name = item["name"]?.stringValue else {
                    throw PMXError(.invalidRequest, "input[\(i)]: a function_call needs call_id and name (strings)")
                }
                let call: JSONValue = ["id": .string(callID), "type": "function",
                                       "function": ["name": .string(name), "arguments": item["arguments"] ?? "{}"]]
                if case .object(var last)? = messages.last, last["role"]?.stringValue == "assistant",
                   var calls = last["tool_calls"]?.arrayValue {
                    calls.append(call)
                    last["tool_calls"] = .array(calls)
                    if !reasoning.isEmpty { reasoning.attach(to: &last) }
                    messages[messages.count - 1] = .object(last)
                } else {
                    var m = JSONObject([("role", "assistant"), ("content", .null), ("tool_calls", [call])])
                    reasoning.attach(to: &m)
                    messages.append(.object(m))
                }
            case "function_call_output":
                guard let callID = item["call_id"]?.stringValue else {
                    throw PMXError(.invalidRequest, "input[\(i)].call_id: is required (a string)")
                }
                let output: JSONValue = item["output"]?.stringValue.map { .string($0) }
                    ?? .string(text(of: item["output"]?.arrayValue ?? []))
                messages.append(["role": "tool", "tool_call_id": .string(callID), "content": output])
                reasoning = ResponsesReasoning.Pending()
            case "reasoning":
                try reasoning.add(item, at: "input[\(i)]")
            default:
                throw refusal("input[\(i)].type \"\(type.prefix(60))\"", provider, "only messages and function calls translate to chat")
            }
        }
    }

    /// A message's content: a string, or parts (`input_text` / `output_text` → text,
    /// `input_image` → image_url).
    private static func content(_ value: JSONValue?, at path: String, provider: ProviderConfig) throws -> JSONValue {
        guard let value else { return "" }
        if value.stringValue != nil { return value }
        guard let parts = value.arrayValue else {
            throw PMXError(.invalidRequest, "\(path): expected a string or an array of parts, got \(value.typeName)")
        }
        // Text only (assistant turns, most user turns): one string, which every protocol takes.
        if parts.allSatisfy({ ["input_text", "output_text"].contains($0["type"]?.stringValue ?? "") }) {
            return .string(text(of: parts))
        }
        return .array(try parts.enumerated().map { n, part in
            switch part["type"]?.stringValue {
            case "input_text", "output_text":
                return ["type": "text", "text": part["text"] ?? ""]
            case "input_image":
                guard let url = part["image_url"]?.stringValue else {
                    throw refusal("\(path)[\(n)].file_id", provider, "images by file id live on openai")
                }
                var image = JSONObject([("url", .string(url))])
                if let detail = part["detail"], !detail.isNull { image["detail"] = detail }
                return ["type": "image_url", "image_url": .object(image)]
            default:
                throw refusal("\(path)[\(n)].type \"\((part["type"]?.stringValue ?? "").prefix(60))\"", provider,
                              "only input_text and input_image translate to chat")
            }
        })
    }

    private static func text(of parts: [JSONValue]) -> String {
        parts.compactMap { $0["text"]?.stringValue }.joined()
    }

    /// A flat function tool → chat's nested one; built-in tools (web_search, file_search, …)
    /// run on OpenAI's side only.
    private static func tool(_ tool: JSONValue, at i: Int, provider: ProviderConfig) throws -> JSONValue {
        let type = tool["type"]?.stringValue ?? ""
        guard type == "function" else { throw refusal("tools[\(i)] (built-in tool \"\(type.prefix(60))\")", provider, "it runs on openai's side") }
        guard let name = tool["name"]?.stringValue else { throw PMXError(.invalidRequest, "tools[\(i)].name: is required (a string)") }
        var fn = JSONObject([("name", .string(name))])
        for key in ["description", "parameters", "strict"] {
            if let v = tool[key], !v.isNull { fn[key] = v }
        }
        return ["type": "function", "function": .object(fn)]
    }

    private static func toolChoice(_ choice: JSONValue, provider: ProviderConfig) throws -> JSONValue {
        if choice.stringValue != nil { return choice }
        if choice["type"]?.stringValue == "function", let name = choice["name"]?.stringValue {
            return ["type": "function", "function": ["name": .string(name)]]
        }
        throw refusal("tool_choice", provider, "only auto, none, required and a function translate to chat")
    }

    /// `text.format` → `response_format`: json_schema's flat fields nest under `json_schema`.
    private static func responseFormat(_ format: JSONValue, provider: ProviderConfig) throws -> JSONValue? {
        switch format["type"]?.stringValue {
        case "text", nil: return nil
        case "json_object": return ["type": "json_object"]
        case "json_schema":
            var schema = JSONObject()
            for key in ["name", "schema", "strict", "description"] {
                if let v = format[key], !v.isNull { schema[key] = v }
            }
            return ["type": "json_schema", "json_schema": .object(schema)]
        case let other?:
            throw refusal("text.format.type \"\(other.prefix(60))\"", provider, "no chat equivalent")
        }
    }
}
