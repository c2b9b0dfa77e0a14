// SPDX-License-Identifier: Apache-2.0
@testable import MuxRouting
import Testing

// "Did you mean": the closest known names by edit distance, only when close.

@Suite("ModelSuggestions")
struct ModelSuggestionsTests {
    @Test("closest first, at most three, only within the threshold")
    func closest() {
        let names = ["gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o4-mini", "claude-sonnet-4-5", "llama3.2"]
        #expect(ModelSuggestions.closest(to: "gpt-4-mini", among: names) == ["gpt-4o-mini", "gpt-4.1-mini"])
        #expect(ModelSuggestions.closest(to: "gpt-4o-mni", among: names) == ["gpt-4o-mini"])
        #expect(ModelSuggestions.closest(to: "m-0", among: ["m-1", "m-2", "m-3", "m-4"]) == ["m-1", "m-2", "m-3"])
        #expect(ModelSuggestions.closest(to: "claude-sonet-4-5", among: names) == ["claude-sonnet-4-5"])
        #expect(ModelSuggestions.closest(to: "llama3", among: names) == ["llama3.2"])
        #expect(ModelSuggestions.closest(to: "mistral-large", among: names) == [])
        #expect(ModelSuggestions.closest(to: "x", among: names) == [])
    }

    @Test("case is ignored; the query itself and duplicates are not offered")
    func caseAndDuplicates() {
        #expect(ModelSuggestions.closest(to: "GPT-4o", among: ["gpt-4o", "gpt-4o", "GPT-4o"]) == ["gpt-4o"])
    }

    @Test("distance is Levenshtein, nil beyond the bound")
    func distance() {
        func d(_ a: String, _ b: String, _ bound: Int = 10) -> Int? { ModelSuggestions.distance(Array(a.utf8), Array(b.utf8), bound: bound) }
        #expect(d("kitten", "sitting") == 3)
        #expect(d("", "abc") == 3)
        #expect(d("abc", "") == 3)
        #expect(d("same", "same") == 0)
        #expect(d("kitten", "sitting", 2) == nil)
    }

    @Test("the hint text")
    func hint() {
        #expect(ModelSuggestions.hint([]) == "")
        #expect(ModelSuggestions.hint(["a", "b"]) == #" (did you mean "a", "b"?)"#)
    }

    @Test("bounded work: very long names and huge lists are cut, not compared")
    func bounded() {
        let long = String(repeating: "m", count: ModelSuggestions.maxLength + 1)
        #expect(ModelSuggestions.closest(to: long, among: [long + "x"]) == [])
        let many = (0..<(ModelSuggestions.maxCandidates + 10)).map { "model-\($0)" } + ["gpt-4o-mini"]
        #expect(ModelSuggestions.closest(to: "gpt-4o-mni", among: many) == [])
    }
}
