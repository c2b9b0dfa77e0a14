// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// pmx_provider_new's input: one provider object on its own, `${VAR}` expanded with the field
// named "provider.<field>" (ProviderConfig.parseDefinition; the ABI only converts the string).

@Suite("Standalone provider definition (pmx_provider_new)")
struct ProviderDefinitionTests {
    private func definition(_ json: String, env: [String: String]) throws -> ProviderConfig {
        try ProviderConfig.parseDefinition(JSONParser.parse(json), lookup: { env[$0] })
    }

    private func definitionError(_ json: String, env: [String: String]) -> PMXError? {
        do { _ = try definition(json, env: env); return nil } catch let e as PMXError { return e } catch { return nil }
    }

    @Test("${VAR} expands in every string value, from the injected lookup")
    func expands() throws {
        let p = try definition(#"{"name":"o","type":"openai-compatible","base_url":"http://${HOST}/v1","api_key":"${KEY}","headers":{"X-Team":"t-${TEAM}"}}"#,
                               env: ["HOST": "127.0.0.1:9", "KEY": "sk-def-0123456789", "TEAM": "blue"])
        #expect(p.baseURL == "http://127.0.0.1:9/v1")
        #expect(p.apiKey == "sk-def-0123456789")
        #expect(p.headers.first?.1 == "t-blue")
    }

    @Test("a missing variable names it and the field as provider.<field>, never a value")
    func missing() throws {
        let e = try #require(definitionError(#"{"name":"o","type":"openai-compatible","base_url":"http://${HOST}/v1","api_key":"${NOPE}"}"#,
                                             env: ["HOST": "host-value-77"]))
        #expect(e.status == .envVarMissing)
        #expect(e.message.contains("provider.api_key"), "\(e.message)")
        #expect(e.message.contains("NOPE"))
        #expect(!e.message.contains("host-value-77"))
    }

    @Test("validation errors name the field under provider.")
    func fieldPath() throws {
        let e = try #require(definitionError(#"{"name":"o","type":"openai-compatible","base_url":"${URL}"}"#, env: ["URL": "ftp://nope"]))
        #expect(e.status == .config)
        #expect(e.message.contains("provider.base_url"), "\(e.message)")
    }

    @Test("$${ stays a literal ${")
    func literal() throws {
        let p = try definition(#"{"name":"m","type":"mock","reply":"$${X} ${A}"}"#, env: ["A": "a"])
        #expect(p.mock?.reply == "${X} a")
    }

    @Test("a catalogue type's default key variable is read through the same lookup")
    func defaultKeyVariable() throws {
        let p = try definition(#"{"name":"o","type":"openai"}"#, env: ["OPENAI_API_KEY": "sk-from-lookup-42"])
        #expect(p.apiKey == "sk-from-lookup-42")
        // Unset: refused naming the variable (issue 15), unless the key is intentionally empty.
        let e = try #require(definitionError(#"{"name":"o","type":"openai"}"#, env: [:]))
        #expect(e.status == .config && e.message.contains("provider.api_key") && e.message.contains("OPENAI_API_KEY"), "\(e.message)")
        #expect(try definition(#"{"name":"o","type":"openai","api_key":""}"#, env: [:]).apiKey == nil)
    }
}

@Suite("Library version constants")
struct LibraryVersionTests {
    @Test("the number encodes major, minor and patch as MAJOR*10000 + MINOR*100 + PATCH")
    func number() {
        #expect(LibraryVersion.number == LibraryVersion.major * 10000 + LibraryVersion.minor * 100 + LibraryVersion.patch)
    }

    @Test("the string is MAJOR.MINOR.PATCH of the same numbers, and the C string is it, NUL-terminated")
    func string() {
        let s = "\(LibraryVersion.string)"
        #expect(s == "\(LibraryVersion.major).\(LibraryVersion.minor).\(LibraryVersion.patch)")
        #expect(String(cString: LibraryVersion.cString) == s)
    }
}
