// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Where a prediction stands after an answer: finished (the OpenAI `chat.completion`), or still
/// running with the URLs to ask again (`poll`) or to read its events from (`stream`). A failed
/// prediction is thrown as the error it is.
public enum PredictionState: Sendable {
    case finished(JSONObject)
    case running(poll: String?, stream: String?)
}

/// A protocol whose chat call creates a job to follow (Replicate's predictions) instead of
/// answering it: the create call's answer says whether it is done, where to poll and where its
/// stream is. The providers layer drives the follow-up calls (`PredictionDriver`).
public protocol PredictionCodec: WireCodec {
    /// A create or poll answer (2xx) → where the prediction stands.
    func prediction(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> PredictionState
    /// A GET of a URL the prediction named (its `get` or `stream` URL).
    func followCall(_ url: String, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall
}
