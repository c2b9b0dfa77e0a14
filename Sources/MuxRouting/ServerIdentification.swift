// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Which server answers on a port: pure functions over probe answers (path → status, body),
/// so they are tested on recorded bytes without a network.
///
/// A port answering HTTP proves nothing (many servers say 200 to anything, and several local
/// servers share OpenAI's `/v1/models`): each kind is recognised only by an answer that only
/// that server gives, so a look-alike is never registered as a provider of the wrong type.
public enum ServerIdentification {
    public typealias Answers = [String: (status: Int, body: [UInt8])]

    /// The GET paths (relative to the server root) probed for a kind, in order.
    public static func probePaths(for kind: LocalServerKind) -> [String] {
        identityPaths(for: kind) + listPaths(for: kind)
    }

    /// The paths that prove the kind: probed every round, in order, stopping at the first that
    /// does not answer 200.
    package static func identityPaths(for kind: LocalServerKind) -> [String] {
        switch kind {
        case .ollama: ["/api/version"]
        case .lmstudio: ["/api/v0/models"]
        case .llamacpp: ["/props"]
        }
    }

    /// The paths that list the models: probed once the identity answered, and reused for
    /// `models_ttl_ms`. (LM Studio's identity answer is its model list.)
    package static func listPaths(for kind: LocalServerKind) -> [String] {
        switch kind {
        case .ollama: ["/api/tags"]
        case .lmstudio: []
        case .llamacpp: ["/v1/models"]
        }
    }

    /// Does this set of answers prove the server is `kind`?
    /// - Ollama: /api/version 200 with a JSON object holding a string "version" AND /api/tags
    ///   200 with {"models": [...]}.
    /// - LM Studio: /api/v0/models 200 {"data": [...]} whose entries all carry string "type" and
    ///   "state" (or an empty data list with "object": "list").
    /// - llama.cpp: /props 200 with an object "default_generation_settings".
    public static func identify(_ kind: LocalServerKind, answers: Answers) -> Bool {
        switch kind {
        case .ollama:
            return identityHolds(.ollama, answers: answers) && object(answers["/api/tags"])?["models"]?.arrayValue != nil
        case .lmstudio:
            guard let o = object(answers["/api/v0/models"]), let data = o["data"]?.arrayValue else { return false }
            if data.isEmpty { return o["object"]?.stringValue == "list" }
            return data.allSatisfy { e in
                e.objectValue != nil && e["id"]?.stringValue != nil
                    && e["type"]?.stringValue != nil && e["state"]?.stringValue != nil
            }
        case .llamacpp:
            return object(answers["/props"])?["default_generation_settings"]?.objectValue != nil
        }
    }

    /// Do the identity paths' answers alone say "maybe `kind`"? Only then are its list paths
    /// probed, so a server of another kind gets one request per kind, not the whole sequence.
    package static func identityHolds(_ kind: LocalServerKind, answers: Answers) -> Bool {
        switch kind {
        case .ollama: object(answers["/api/version"])?["version"]?.stringValue != nil
        case .lmstudio, .llamacpp: identify(kind, answers: answers)
        }
    }

    /// Model ids from the answers, in the server's order, without duplicates.
    /// Ollama: /api/tags models[].name (or .model); LM Studio: data[].id; llama.cpp:
    /// /v1/models data[].id, else the basename of /props model_path.
    public static func models(_ kind: LocalServerKind, answers: Answers) -> [String] {
        var ids: [String] = []
        switch kind {
        case .ollama:
            for m in object(answers["/api/tags"])?["models"]?.arrayValue ?? [] {
                if let n = nonEmpty(m["name"]) ?? nonEmpty(m["model"]) { ids.append(n) }
            }
        case .lmstudio:
            ids = listIDs(object(answers["/api/v0/models"]))
        case .llamacpp:
            ids = listIDs(object(answers["/v1/models"]))
            if ids.isEmpty, let path = nonEmpty(object(answers["/props"])?["model_path"]) {
                let base = path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
                if !base.isEmpty { ids = [base] }
            }
        }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The server's version where it reports one (Ollama's /api/version).
    public static func version(_ kind: LocalServerKind, answers: Answers) -> String? {
        guard kind == .ollama else { return nil }
        return nonEmpty(object(answers["/api/version"])?["version"])
    }

    // MARK: helpers

    /// The answer's body as a JSON object, if it was a 200 carrying one (garbage → nil).
    private static func object(_ answer: (status: Int, body: [UInt8])?) -> JSONValue? {
        guard let answer, answer.status == 200, let v = try? JSONParser.parse(answer.body), v.objectValue != nil else { return nil }
        return v
    }

    private static func nonEmpty(_ v: JSONValue?) -> String? {
        guard let s = v?.stringValue, !s.isEmpty else { return nil }
        return s
    }

    private static func listIDs(_ list: JSONValue?) -> [String] {
        (list?["data"]?.arrayValue ?? []).compactMap { nonEmpty($0["id"]) }
    }
}
