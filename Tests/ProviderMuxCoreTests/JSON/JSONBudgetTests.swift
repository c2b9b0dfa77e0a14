// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Foundation
import Testing

// Parsing costs at most a constant factor of the text (issue 12, item 3): large documents made
// of tiny values are refused before jansson builds a tree, legitimate large answers parse, and
// nesting is bounded by jansson's depth limit.

private func shape(_ unit: String, bytes: Int) -> [UInt8] {
    let n = bytes / unit.utf8.count
    var out: [UInt8] = [UInt8(ascii: "[")]
    out.reserveCapacity(bytes + 2)
    for i in 0..<n {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: unit.utf8.dropLast())  // the unit without its comma
    }
    out.append(UInt8(ascii: "]"))
    return out
}

private func members(bytes: Int) -> [UInt8] {
    var s = "{"
    var i = 0
    while s.utf8.count < bytes { s += (i > 0 ? "," : "") + "\"k\(i)\":{}"; i += 1 }
    return Array((s + "}").utf8)
}

@Suite("JSON parse budget")
struct JSONBudgetTests {
    static let adversarial: [(String, [UInt8])] = [
        ("objects", shape("{},", bytes: 2 << 20)),
        ("arrays", shape("[],", bytes: 2 << 20)),
        ("zeros", shape("0,", bytes: 2 << 20)),
        ("empty strings", shape("\"\",", bytes: 2 << 20)),
        ("members", members(bytes: 2 << 20)),
    ]

    @Test("2 MiB of tiny values of every shape: refused as invalid JSON naming the bound, before a tree is built")
    func adversarialShapesRefused() throws {
        for (name, bytes) in Self.adversarial {
            do {
                _ = try JSONParser.parse(bytes)
                Issue.record("\(name): parsed")
            } catch let e as PMXError {
                #expect(e.status == .invalidJSON, "\(name)")
                #expect(e.message.contains("too many JSON values for its size"), "\(name): \(e.message)")
            }
            #expect(throws: PMXError.self) { try JSONDocument(bytes) }
        }
    }

    @Test("an upstream body of tiny values is a protocol error of that attempt")
    func upstreamBodyIsProtocolError() throws {
        var body = Array(#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"x":"#.utf8)
        body += shape("{},", bytes: 1 << 20) + [UInt8(ascii: "}")]
        do {
            _ = try OpenAIProtocol.decodeChat(body, provider: "p")
            Issue.record("decoded")
        } catch let e as PMXError {
            #expect(e.status == .upstreamProtocol)
            #expect(e.message.contains("too many JSON values for its size"))
            #expect(e.provider == "p")
        }
    }

    @Test("legitimate large documents parse: 100 embeddings of 3,072 dimensions, an 8 MiB text, a 4 MiB tool-arguments string")
    func legitimateLargeDocumentsParse() throws {
        let row = (0..<3072).map { String(format: "%.9f", Double($0 % 97) / 97 - 0.5) }.joined(separator: ",")
        let data = (0..<100).map { #"{"object":"embedding","index":\#($0),"embedding":[\#(row)]}"# }.joined(separator: ",")
        let embeddings = #"{"object":"list","data":[\#(data)],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}"#
        let v = try JSONParser.parse(embeddings)
        #expect(v["data"]?.arrayValue?.count == 100)
        #expect(v["data"]?.arrayValue?[99]["embedding"]?.arrayValue?.count == 3072)

        let text = String(repeating: "lorem ipsum dolor sit amet, ", count: (8 << 20) / 28)
        let t = try JSONParser.parse(JSONWriter.bytes(["choices": [["message": ["content": .string(text)]]]]))
        #expect(t["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue?.utf8.count == text.utf8.count)

        let args = JSONWriter.string(["code": .string(String(repeating: "x = [1, 2, {\"a\": 3}]\n", count: (4 << 20) / 22))])
        let call = try JSONParser.parse(JSONWriter.bytes(["arguments": .string(args)]))
        #expect(call["arguments"]?.stringValue == args)

        // Token ids as a caller sends them for embeddings: 5-digit numbers.
        let tokens = "[[" + (0..<200_000).map { String(10_000 + $0 % 90_000) }.joined(separator: ",") + "]]"
        #expect(try JSONParser.parse(tokens).arrayValue?.first?.arrayValue?.count == 200_000)
    }

    @Test("below the scan threshold nothing is refused (a stream chunk pays nothing)")
    func smallDocumentsAreNotScanned() throws {
        let small = shape("{},", bytes: JSONBudget.scanFromBytes - 16)
        #expect(try JSONParser.parse(small).arrayValue?.count == (JSONBudget.scanFromBytes - 16) / 3)
    }

    @Test("the scan skips strings: brackets, commas and colons inside strings (and escaped quotes) are not counted")
    func scanSkipsStrings() {
        let text = Array(#"{"a":"[{,:}]\"[[,,","b":[1,2]}"#.utf8)
        let c = text.withUnsafeBytes { JSONBudget.count($0) }
        #expect(c.objects == 1 && c.arrays == 1)
        #expect(c.strings == 3)
        #expect(c.members == 2)
        #expect(c.values == 2 + 2 + 1)  // commas + containers + 1
    }

    @Test("deep nesting: 100,000 '[' is refused by the depth limit (no stack overflow); 256 levels parse, convert and write back")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: PMXError.self) { try JSONParser.parse(deep) }
        #expect(throws: PMXError.self) { try JSONDocument(Array(deep.utf8)) }
        let limit = JSONParser.maxDepth
        #expect(limit == 256)
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        let v = try JSONParser.parse(ok)
        #expect(JSONWriter.string(v) == ok)
        let tooDeep = "[" + ok + "]"
        #expect { try JSONParser.parse(tooDeep) } throws: { ($0 as? PMXError)?.message.contains("maximum parsing depth") == true }
        #expect(throws: PMXError.self) { try JSONDocument(Array(tooDeep.utf8)) }
        // Large and deep at once goes through the consuming conversion.
        let inner = String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1)
        let big = "[" + String(repeating: "\"" + String(repeating: "x", count: 100) + "\",", count: 1000) + inner + "]"
        #expect(try JSONParser.parse(big).arrayValue?.count == 1001)
    }
}
