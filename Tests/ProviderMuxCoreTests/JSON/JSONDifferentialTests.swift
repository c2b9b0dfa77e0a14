// SPDX-License-Identifier: Apache-2.0
import Foundation
@testable import MuxBase
import Testing

// The scanner against jansson over every JSON document and SSE `data:` payload in the
// repository's tests and fuzz corpus: the same acceptance, the same error class and place,
// the same JSONValue, and the same answer from every JSONRef read. jansson is asked as if its
// nesting limit were ours (256, not 2,048: JanssonOracle.reference).

enum JSONSamples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Candidate documents: raw string literals and `data:` lines of the test sources, and the
    /// fuzz corpus (files, and their `data:` lines). Invalid ones are kept: they test refusal.
    static let all: [[UInt8]] = {
        var out = Set<[UInt8]>()
        let fm = FileManager.default
        for dir in ["Tests", "fuzz/corpus"] {
            guard let e = fm.enumerator(at: root.appendingPathComponent(dir), includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in e {
                guard let data = fm.contents(atPath: url.path), data.count < 1 << 20 else { continue }
                let bytes = [UInt8](data)
                if dir == "fuzz/corpus" { out.insert(bytes) }
                let text = String(decoding: bytes, as: UTF8.self)
                for line in text.split(separator: "\n") {
                    if let r = line.range(of: "data:") {
                        out.insert(Array(line[r.upperBound...].drop(while: { $0 == " " }).utf8))
                    }
                }
                guard url.pathExtension == "swift" || url.pathExtension == "py" else { continue }
                // #"…"# literals that hold an object or an array.
                var rest = Substring(text)
                while let open = rest.range(of: "#\"") {
                    rest = rest[open.upperBound...]
                    guard let close = rest.range(of: "\"#") else { break }
                    let body = rest[..<close.lowerBound]
                    if body.first == "{" || body.first == "[" { out.insert(Array(body.utf8)) }
                    rest = rest[close.upperBound...]
                }
            }
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }()
}

@Suite("JSON scanner against jansson")
struct JSONDifferentialTests {
    @Test("every sample: the same outcome as jansson, and the same JSONRef reads")
    func samples() throws {
        let samples = JSONSamples.all
        #expect(samples.count > 1000, "samples found: \(samples.count)")
        var accepted = 0
        for bytes in samples {
            let ours = JanssonOracle.ours(bytes)
            let theirs = JanssonOracle.reference(bytes)
            let label = String(decoding: bytes.prefix(120), as: UTF8.self)
            if bytes.contains(0) {  // jansson 2.14 may drop a raw NUL (JSONScannerEdgeTests); we refuse it
                #expect(ours.status != nil, "\(label): a raw NUL byte was accepted")
                continue
            }
            switch (ours, theirs) {
            case (.value(let a), .value(let b)):
                accepted += 1
                #expect(JanssonOracle.same(a, b), "\(label)")
                let doc = try JSONDocument(bytes)
                if let m = JanssonOracle.refMismatch(doc.ref, b) { Issue.record("\(label): \(m)") }
            case (.failure(let s1, let l1, let c1, let b1, _), .failure(let s2, let l2, let c2, let b2, _)):
                #expect(s1 == s2, "\(label): ours \(ours), jansson \(theirs)")
                #expect(l1 == l2 && c1 == c2 && b1 == b2, "\(label): ours \(ours), jansson \(theirs)")
            default:
                Issue.record("\(label): ours \(ours), jansson \(theirs)")
            }
        }
        #expect(accepted > 500, "accepted: \(accepted)")
    }
}
