// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The error object providers put in a body or a stream event, whatever the status:
/// `{"error": {"message": ...}}` (OpenAI, Anthropic, Gemini), `{"error": "..."}` (Ollama,
/// llama.cpp), `{"message": "..."}` (Cohere).
public enum ProviderErrorBody {
    /// The `error` member when present and not null.
    @inline(__always)
    public static func inBand(_ json: JSONValue) -> JSONValue? {
        guard let err = json["error"], !err.isNull else { return nil }
        return err
    }

    /// What an error value says: its `message`, or the value itself when it is a string, else
    /// its JSON text (a shape nobody documented still reaches the caller).
    public static func message(_ err: JSONValue) -> String {
        err["message"]?.stringValue ?? err.stringValue ?? JSONWriter.string(err)
    }

    /// The HTTP status an in-band error object names in its `code` (400...599), else nil.
    public static func httpCode(_ err: JSONValue) -> Int? {
        guard let code = err["code"]?.intValue, code >= 400, code < 600 else { return nil }
        return Int(code)
    }
}
