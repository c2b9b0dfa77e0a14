// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting
import Foundation
import Testing

// The key registry is reference-counted by the lifetime of the provider definitions that hold
// a key (a router's providers, a pmx_provider handle, a config being parsed). Other tests
// register keys concurrently: every check here is about this test's own unique keys.

private func uniqueKey(_ tag: String) -> String { "sk-\(tag)-" + UUID().uuidString }

private func providerJSON(_ key: String, name: String = "p") -> String {
    #"{"name":"\#(name)","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","api_key":"\#(key)"}"#
}

@Suite("Secrets: masking registry")
struct SecretsTests {
    @Test("a registration masks its key while it lives; two registrations of one key count")
    func refcount() {
        let key = uniqueKey("rc")
        var a = Secrets.register(key)
        #expect(Secrets.isRegistered(key))
        #expect(Secrets.mask("x \(key) y") == "x \(Secrets.masked(key)) y")
        var b = Secrets.register(key)
        a = nil
        #expect(Secrets.isRegistered(key), "still held by the second registration")
        b = nil
        #expect(!Secrets.isRegistered(key))
        #expect(Secrets.mask("x \(key) y") == "x \(key) y")
        _ = (a, b)
    }

    @Test("a reader's matcher cache sees a key registered after it was warmed, and drops a released one")
    func matcherCache() {
        let early = uniqueKey("early"), late = uniqueKey("late")
        let first = Secrets.register(early)
        var cache = Secrets.MatcherCache()
        var text = Array("x \(early) \(late) y".utf8)
        Secrets.mask(&text, cache: &cache, surface: .text)  // warms the cache with the early key only
        #expect(String(decoding: text, as: UTF8.self) == "x \(Secrets.masked(early)) \(late) y")
        var second = Secrets.register(late)
        text = Array("x \(late) y".utf8)
        Secrets.mask(&text, cache: &cache, surface: .text)
        #expect(String(decoding: text, as: UTF8.self) == "x \(Secrets.masked(late)) y", "registered after the cache was warm")
        second = nil
        text = Array("x \(late) y".utf8)
        Secrets.mask(&text, cache: &cache, surface: .text)
        #expect(String(decoding: text, as: UTF8.self) == "x \(late) y", "released: no longer masked")
        _ = (first, second)
    }

    @Test("nil and empty are not registered; a short key is")
    func tooShort() {
        #expect(Secrets.register(nil) == nil)
        #expect(Secrets.register("") == nil)
        let r = Secrets.register("q7z")
        #expect(Secrets.isRegistered("q7z"))
        withExtendedLifetime(r) {}
    }

    @Test("a key containing another is masked whole")
    func longestFirst() {
        let long = uniqueKey("outer")
        let inner = String(long.prefix(12))
        let r1 = Secrets.register(inner), r2 = Secrets.register(long)
        defer { withExtendedLifetime((r1, r2)) {} }
        let text = Secrets.mask("k=\(long)")
        #expect(!text.contains(long) && !text.contains(inner))
        #expect(text == "k=" + Secrets.masked(long))
    }

    @Test("parsing a config registers its key only while the parsed value lives")
    func parsedConfig() throws {
        let key = uniqueKey("parse")
        do {
            let config = try ProviderConfig.parse(JSONParser.parse(providerJSON(key)), path: "p")
            #expect(Secrets.isRegistered(key))
            var copy = config
            copy.apiKey = nil  // the copy's registration follows its own key
            withExtendedLifetime(config) { #expect(Secrets.isRegistered(key)) }
            _ = copy
        }
        #expect(!Secrets.isRegistered(key), "a parsed and dropped config must not leave its key behind")
    }

    @Test("parsing many configs does not grow the registry (fuzzers, hosts re-reading configs)")
    func noGrowth() throws {
        let keys = (0..<500).map { uniqueKey("many\($0)") }
        for k in keys {
            _ = try RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(providerJSON(k))]}"#))
        }
        #expect(keys.allSatisfy { !Secrets.isRegistered($0) })
    }

    @Test("a router masks its keys until it is freed, a provider added later included")
    func routerLifetime() throws {
        let key = uniqueKey("router"), added = uniqueKey("added")
        weak var weakRouter: Router?
        do {
            let router = try Router(config: RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(providerJSON(key))]}"#)))
            weakRouter = router
            try router.addProvider(ProviderConfig.parse(JSONParser.parse(providerJSON(added, name: "q")), path: "p"))
            // The parsed configs are gone; the router's providers hold the keys.
            #expect(Secrets.isRegistered(key) && Secrets.isRegistered(added))
            #expect(!Secrets.mask("Bearer \(key)").contains(key))
            try router.removeProvider(named: "q")
            #expect(!Secrets.isRegistered(added), "a removed provider with no request in flight lets its key go")
            router.close()
        }
        #expect(weakRouter == nil, "the router was not deallocated")
        #expect(!Secrets.isRegistered(key), "a freed router must release its keys")
    }

    @Test("two routers sharing a key: freeing one keeps it masked for the other")
    func sharedKey() throws {
        let key = uniqueKey("shared")
        let json = #"{"providers":[\#(providerJSON(key))]}"#
        var first: Router? = try Router(config: RouterConfig.parse(JSONParser.parse(json)))
        let second = try Router(config: RouterConfig.parse(JSONParser.parse(json)))
        first?.close()
        first = nil
        #expect(Secrets.isRegistered(key))
        second.close()
        withExtendedLifetime(second) {}
        _ = first
    }

    @Test("an error built while parsing a config that holds a key never shows it")
    func parseErrorMasked() throws {
        let key = uniqueKey("err")
        // The key, repeated in a later field whose error quotes the value it got.
        let text = #"{"providers":[{"name":"p","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","api_key":"\#(key)","capabilities":["\#(key)"]}]}"#
        #expect(throws: PMXError.self) { try RouterConfig.parse(JSONParser.parse(text)) }
        do { _ = try RouterConfig.parse(JSONParser.parse(text)) } catch let e as PMXError {
            #expect(!e.message.contains(key), "\(e.message)")
            #expect(e.message.contains(Secrets.masked(key)), "the error quotes the (masked) value: \(e.message)")
        }
        #expect(!Secrets.isRegistered(key))
    }
}

@Suite("Transcript writer")
struct TranscriptWriterTests {
    private func tempDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pmx-transcript-\(UUID().uuidString)").path
        return dir
    }

    @Test("one line per item: kind, UTC time, payload with line breaks escaped; file 0600 in a created 0700 directory")
    func lines() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try TranscriptWriter(directory: dir)
        #expect(w.path == dir + "/pmx-\(getpid()).log")
        #expect(w.append(.log, "INFO hello") == nil)
        #expect(w.append(.stats, "# HELP a\na 1\r\n") == nil)
        #expect(w.append(.error, #"{"message":"x"}"#) == nil)
        let text = try String(contentsOfFile: w.path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[3].isEmpty)
        let fields = lines.map { $0.split(separator: " ", maxSplits: 2).map(String.init) }
        #expect(fields[0].first == "log" && fields[0].last == "INFO hello")
        #expect(fields[1].first == "stats" && fields[1].last == #"# HELP a\na 1\r\n"#)
        #expect(fields[2].first == "error" && fields[2].last == #"{"message":"x"}"#)
        let time = fields[0][1]
        #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(10).first == "T", "\(time)")
        let attrs = try FileManager.default.attributesOfItem(atPath: w.path)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let dirAttrs = try FileManager.default.attributesOfItem(atPath: dir)
        #expect((dirAttrs[.posixPermissions] as? Int) == 0o700)
    }

    @Test("appends to an existing file; lines from many threads stay whole")
    func concurrentAppend() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try TranscriptWriter(directory: dir)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<200 {
                lock.withLock { _ = w.append(.event, "thread \(t) line \(i) " + String(repeating: "x", count: 500)) }
            }
        }
        let again = try TranscriptWriter(directory: dir)
        again.append(.log, "INFO reopened")
        let lines = try String(contentsOfFile: w.path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1601)
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("event ") && $0.hasSuffix(String(repeating: "x", count: 500)) })
        #expect(lines.last?.hasSuffix("INFO reopened") == true)
    }

    @Test("a directory that cannot be created is an error naming it, not a crash")
    func unopenable() {
        #expect(throws: TranscriptWriter.OpenError.self) { try TranscriptWriter(directory: "/proc/no-such-dir/x") }
        do { _ = try TranscriptWriter(directory: "/proc/no-such-dir/x") } catch {
            #expect("\(error)".contains("/proc/no-such-dir"))
        }
    }
}
