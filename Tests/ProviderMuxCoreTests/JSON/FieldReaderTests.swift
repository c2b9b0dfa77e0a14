// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// FieldReader: typed, bounded reads of config and request fields; errors name the field path.

@Suite("FieldReader")
struct FieldReaderTests {
    private func reader(_ text: String, path: String = "cfg", status: Status = .config) throws -> FieldReader {
        try FieldReader(JSONParser.parse(text), path: path, status: status)
    }

    @Test("a non-object names the path and the type it got")
    func notAnObject() throws {
        let e = try #require(pmxError { _ = try FieldReader(.array([]), path: "providers[2]") })
        #expect(e.status == .config)
        #expect(e.message == "providers[2]: expected an object, got array")
        let top = try #require(pmxError { _ = try FieldReader(.string("x"), path: "") })
        #expect(top.message == "document: expected an object, got string")
    }

    @Test("type errors name the full path of the field")
    func typeErrors() throws {
        var r = try reader(#"{"s":5,"i":"x","d":true,"b":"yes","a":{},"o":[]}"#)
        #expect(pmxError { _ = try r.string("s") }?.message == "cfg.s: expected a string, got number")
        #expect(pmxError { _ = try r.int("i", min: 0, max: 10) }?.message == "cfg.i: expected an integer, got string")
        #expect(pmxError { _ = try r.double("d", min: 0, max: 1) }?.message == "cfg.d: expected a number, got boolean")
        #expect(pmxError { _ = try r.bool("b") }?.message == "cfg.b: expected true or false, got string")
        #expect(pmxError { _ = try r.array("a") }?.message == "cfg.a: expected an array, got object")
        #expect(pmxError { _ = try r.object("o") }?.message == "cfg.o: expected an object, got array")
    }

    @Test("ranges, empty strings, fractional integers")
    func ranges() throws {
        var r = try reader(#"{"n":0,"m":7,"f":1.5,"e":"","x":2.0}"#)
        #expect(pmxError { _ = try r.int("n", min: 1, max: 10) }?.message == "cfg.n: must be between 1 and 10, got 0")
        #expect(pmxError { _ = try r.int("m", min: 10, max: Int64.max) }?.message == "cfg.m: must be at least 10, got 7")
        #expect(pmxError { _ = try r.int("f", min: 0, max: 10) }?.message == "cfg.f: expected an integer, got 1.5")
        #expect(try r.int("x", min: 0, max: 10) == 2)
        #expect(pmxError { _ = try r.double("f", min: 0, max: 1) }?.message.hasPrefix("cfg.f: must be between 0") == true)
        #expect(pmxError { _ = try r.string("e") }?.message == "cfg.e: must not be empty")
        #expect(try r.string("e", nonEmpty: false) == "")
    }

    @Test("missing and null fields read as absent; required ones say so")
    func absent() throws {
        var r = try reader(#"{"n":null}"#)
        #expect(try r.string("n") == nil)
        #expect(try r.int("missing", min: 0, max: 10) == nil)
        #expect(pmxError { _ = try r.requiredString("name") }?.message == "cfg.name: is required")
    }

    @Test("nested readers and array elements carry the path down")
    func nestedPaths() throws {
        var r = try reader(#"{"retry":{"max_attempts":"3"},"models":["a",7]}"#, path: "providers[1]")
        var retry = try #require(try r.object("retry"))
        #expect(retry.path == "providers[1].retry")
        #expect(pmxError { _ = try retry.int("max_attempts", min: 1, max: 100) }?.message == "providers[1].retry.max_attempts: expected an integer, got string")
        #expect(pmxError { _ = try r.stringArray("models") }?.message == "providers[1].models[1]: expected a non-empty string, got number")
        let top = try reader(#"{}"#, path: "")
        #expect(top.fieldPath("k") == "k")
    }

    @Test("finish() reports the first unknown key with its path")
    func unknownKeys() throws {
        var r = try reader(#"{"known":1,"bogus":2}"#, path: "providers[0]")
        _ = try r.int("known", min: 0, max: 10)
        #expect(pmxError { try r.finish() }?.message == "providers[0].bogus: unknown key")
        var ok = try reader(#"{"known":1}"#)
        _ = try ok.int("known", min: 0, max: 10)
        try ok.finish()
    }

    @Test("the error status is the reader's (requests use PMX_ERR_INVALID_REQUEST)")
    func statusPropagates() throws {
        var r = try reader(#"{"inner":{"x":"s"}}"#, path: "", status: .invalidRequest)
        var inner = try #require(try r.object("inner"))
        #expect(pmxError { _ = try inner.int("x", min: 0, max: 10) }?.status == .invalidRequest)
        #expect(pmxError { try r.finish(); _ = try FieldReader(.null, path: "q", status: .invalidRequest) }?.status == .invalidRequest)
    }
}
