// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxRouting
import Testing

// The models list's filter: search (ASCII case ignored, id or display name) and provider.

@Suite("ModelQuery")
struct ModelQueryTests {
    @Test("search matches anywhere in the id or the display name, ignoring ASCII case")
    func matches() {
        let q = ModelQuery(search: "Claude")
        #expect(q.matches(id: "or/anthropic/claude-sonnet-4", name: nil))
        #expect(q.matches(id: "or/x", name: "Anthropic: CLAUDE 3"))
        #expect(!q.matches(id: "or/openai/gpt-4o", name: "OpenAI: GPT-4o"))
        #expect(!q.matches(id: "cla", name: nil), "a shorter id never contains it")
        #expect(ModelQuery().matches(id: "anything", name: nil))
        #expect(ModelQuery(search: "").matches(id: "anything", name: nil))
    }

    @Test("parse: both keys optional; wrong types and unknown keys are PMX_ERR_INVALID_REQUEST naming the field")
    func parse() throws {
        #expect(try ModelQuery.parse(JSONParser.parse(#"{"search":"c","provider":"or"}"#)) == ModelQuery(search: "c", provider: "or"))
        #expect(try ModelQuery.parse(JSONParser.parse("{}")) == ModelQuery())
        for (doc, fragment) in [(#"{"search":5}"#, "query.search"), (#"{"serach":"x"}"#, "query.serach"), ("[]", "query")] {
            do {
                _ = try ModelQuery.parse(JSONParser.parse(doc))
                Issue.record("accepted \(doc)")
            } catch let e as PMXError {
                #expect(e.status == .invalidRequest)
                #expect(e.message.contains(fragment), "\(e.message)")
            } catch { Issue.record("\(error)") }
        }
    }
}
