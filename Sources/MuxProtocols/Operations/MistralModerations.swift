// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `moderations.create` on Mistral's raw-text endpoint `POST {base}/moderations`
/// (docs.mistral.ai/capabilities/guardrailing; mistralai client-python
/// `classificationrequest.py`, `classificationresponse.py`, `classificationobject.py`):
/// `{model, input: string | [string]}` → `{id, model, results: [{categories: {name: bool},
/// category_scores: {name: number}}]}` with Mistral's own category names (`sexual`,
/// `hate_and_discrimination`, `violence_and_threats`, `dangerous_and_criminal_content`,
/// `selfharm`, `health`, `financial`, `law`, `pii`) and no `flagged`.
///
/// The result is OpenAI's moderation shape. Each result keeps Mistral's categories and scores
/// as they came, and adds OpenAI's names where one means the same (`categoryMap`); OpenAI
/// categories Mistral does not judge (harassment, sexual/minors, ...) are `false` with score
/// 0, so the result is complete for an OpenAI client's types. `flagged` is what OpenAI
/// documents it to be: whether any category of the result is flagged, Mistral's own (e.g.
/// `pii`) included. Every category applies to `text`: the endpoint takes text only.
///
/// Mistral's conversational endpoint (`/chat/moderations`, which classifies the last turn of
/// a conversation) is not used: `moderations.create` carries texts, not a conversation.
/// Content parts are sent as one text (OpenAI gives one result for a parts array); an image
/// part cannot be judged here and is refused with PMX_ERR_UNSUPPORTED (the request fails over).
public struct MistralModerations: OperationCodec {
    let preset: any OpenAIPreset
    public init(preset: any OpenAIPreset) { self.preset = preset }

    /// Mistral's model when the request names none (its docs' example).
    static let defaultModel = "mistral-moderation-latest"

    /// Mistral category → OpenAI category of the same meaning.
    static let categoryMap: [(mistral: String, openai: String)] = [
        ("sexual", "sexual"), ("hate_and_discrimination", "hate"), ("violence_and_threats", "violence"),
        ("dangerous_and_criminal_content", "illicit"), ("selfharm", "self-harm"),
    ]

    /// OpenAI's categories (openai-python `types/moderation.py`), all present in every result.
    static let openAICategories = [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
    ]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let body = JSONObject([("model", .string(model ?? Self.defaultModel)), ("input", try Self.input(request.body["input"], provider: provider))])
        return try OperationBodies.post(preset, "/moderations", body, model: model, provider: provider)
    }

    /// A string or strings as they are; content parts as one text (image parts refused).
    static func input(_ value: JSONValue?, provider: ProviderConfig) throws -> JSONValue {
        guard case .array(let items)? = value, items.contains(where: { $0.objectValue != nil }) else { return value ?? "" }
        var texts: [String] = []
        for (i, part) in items.enumerated() {
            guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                throw OperationSupport.unsupported(.moderations, provider: provider,
                                                   why: "input[\(i)]: mistral moderates text only, not \(part["type"]?.stringValue ?? "this") parts")
            }
            texts.append(text)
        }
        return .string(texts.joined(separator: "\n"))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        var o = try OperationBodies.object(body, provider: provider, what: "mistral /moderations response")
        guard let results = o["results"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "mistral /moderations response has no results array")
        }
        o["results"] = .array(try results.enumerated().map { i, r in .object(try Self.result(r, at: i, provider: provider)) })
        if o["model"] == nil { o["model"] = .string(model ?? Self.defaultModel) }
        return o
    }

    /// One Mistral result in OpenAI's shape.
    static func result(_ r: JSONValue, at i: Int, provider: ProviderConfig) throws -> JSONObject {
        guard let categories = r["categories"]?.objectValue, let scores = r["category_scores"]?.objectValue else {
            throw CodecSupport.protocolError(provider, "mistral /moderations response: results[\(i)] has no categories and category_scores objects")
        }
        var flags = JSONObject(), values = JSONObject(), applied = JSONObject()
        for name in openAICategories {
            flags[name] = false
            values[name] = .double(0)
        }
        var flagged = false
        for member in categories.members {
            guard let on = member.value.boolValue else {
                throw CodecSupport.protocolError(provider, "mistral /moderations response: results[\(i)].categories.\(member.key) is not a boolean")
            }
            flags[member.key] = .bool(on)
            flagged = flagged || on
        }
        for member in scores.members {
            guard member.value.doubleValue != nil else {
                throw CodecSupport.protocolError(provider, "mistral /moderations response: results[\(i)].category_scores.\(member.key) is not a number")
            }
            values[member.key] = member.value
        }
        for (mistral, openai) in categoryMap {
            if let on = categories[mistral] { flags[openai] = on }
            if let score = scores[mistral] { values[openai] = score }
        }
        for member in flags.members { applied[member.key] = ["text"] }
        return JSONObject([("flagged", .bool(flagged)), ("categories", .object(flags)), ("category_scores", .object(values)),
                           ("category_applied_input_types", .object(applied))])
    }
}
