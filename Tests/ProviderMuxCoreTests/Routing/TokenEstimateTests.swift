// SPDX-License-Identifier: Apache-2.0
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// TokenEstimate: the token count a rate limiter charges before the answer says the real one.

@Suite("TokenEstimate")
struct TokenEstimateTests {
    @Test("bytes / 4 rounded up, + 4 per message, + expected output")
    func estimate() throws {
        let req = try ChatRequest.parse([
            "messages": [
                ["role": "system", "content": "12345"],                                  // 5 bytes
                ["role": "user", "content": [["type": "text", "text": "héllo"],          // 6 bytes
                                             ["type": "text", "text": "ab"]]],           // + " " + 2 = 9
            ],
        ])
        // 14 bytes → 4 tokens, + 2 × 4
        #expect(TokenEstimate.prompt(req) == 12)
        #expect(TokenEstimate.expectedOutput(req) == 256)
        #expect(TokenEstimate.total(req) == 268)

        let capped = try ChatRequest.parse(["messages": [["role": "user", "content": "abcd"]], "max_tokens": 100])
        #expect(TokenEstimate.prompt(capped) == 5)
        #expect(TokenEstimate.expectedOutput(capped) == 100)
        #expect(TokenEstimate.total(capped) == 105)

        let completion = try ChatRequest.parse(["messages": [["role": "user", "content": nil]],
                                                "max_completion_tokens": 40])
        #expect(TokenEstimate.prompt(completion) == 4)
        #expect(TokenEstimate.total(completion) == 44)
    }
}
