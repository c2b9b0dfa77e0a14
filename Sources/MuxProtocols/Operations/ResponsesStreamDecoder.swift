// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// OpenAI's (and Azure's) Responses stream, passed through: SSE events named `response.…`,
/// each a JSON object with its `type` and `sequence_number`, at any byte split. Every event
/// goes to the caller as it is (`.operation`); `response.completed` / `.incomplete` carry the
/// whole Response, which becomes the result (`.operationResult`) and ends the stream (the API
/// sends no `[DONE]`; one is accepted). `response.failed` and the `error` event (sent nested
/// under `error` though documented flat: both read) end it with the provider's error.
package final class ResponsesStreamDecoder: SSEJSONStreamDecoder {
    package init(provider: String) { super.init(provider: provider, what: "responses stream event") }

    override func handle(_ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
        guard let event = json.objectValue, let type = event["type"]?.stringValue else {
            throw PMXError(.upstreamProtocol, "responses stream event has no type", provider: provider)
        }
        switch type {
        case "response.completed", "response.incomplete":
            guard var response = event["response"]?.objectValue else {
                throw PMXError(.upstreamProtocol, "\(type) event has no response object", provider: provider)
            }
            try OpenAIResponses.check(&response, provider: provider)
            emit(.operation(event))
            if let usage = Usage(openAI: response["usage"]) { emit(.usage(usage)) }
            emit(.operationResult(response))
            emit(.finish(reason: response["status"]?.stringValue ?? "completed"))
            emit(.end)
        case "response.failed":
            let err = event["response"]?["error"] ?? .null
            emit(.error(PMXError(.upstreamServer, "response failed: \(err.isNull ? "no reason given" : ProviderErrorBody.message(err))",
                                 provider: provider)))
        case "error":
            let code = event["code"]?.stringValue.map { " (\($0.prefix(60)))" } ?? ""
            emit(.error(PMXError(.upstreamServer, "error event in stream\(code): \(ProviderErrorBody.message(.object(event)))", provider: provider)))
        default:
            emit(.operation(event))
        }
    }
}
