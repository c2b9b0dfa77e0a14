import Testing
@testable import ProviderMuxCore

// JSONParser (jansson underneath), JSONWriter and FieldReader: the JSON layer every document
// crossing the ABI goes through.

/// Runs `body`, which must throw a PMXError; returns it (nil, with an issue recorded, otherwise).
private func pmxError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        try body()
        Issue.record("expected a PMXError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as PMXError {
        return e
    } catch {
        Issue.record("expected a PMXError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("JSONParser")
struct JSONParserTests {
    @Test("objects keep their key order, not sorted, not hashed")
    func keyOrder() throws {
        let v = try JSONParser.parse(#"{"zeta":1,"alpha":2,"mid":{"y":true,"b":false,"x":null},"beta":3}"#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["zeta", "alpha", "mid", "beta"])
        #expect(v["mid"]?.objectValue?.keys == ["y", "b", "x"])
        #expect(v["mid"]?["x"] == .null)
    }

    @Test("integers stay integers, numbers with a fraction or exponent are doubles")
    func intsVersusDoubles() throws {
        let v = try JSONParser.parse(#"[0, -5, 42, 9223372036854775807, -9223372036854775808, 1.0, 2.5, 1e2, -0.25, 3E-2]"#)
        let a = try #require(v.arrayValue)
        #expect(a[0] == .int(0))
        #expect(a[1] == .int(-5))
        #expect(a[2] == .int(42))
        #expect(a[3] == .int(Int64.max))
        #expect(a[4] == .int(Int64.min))
        #expect(a[5] == .double(1.0))
        #expect(a[6] == .double(2.5))
        #expect(a[7] == .double(100))
        #expect(a[8] == .double(-0.25))
        #expect(a[9] == .double(0.03))
        // One JSON number type for readers: an integral double reads as an int, not the reverse.
        #expect(a[5].intValue == 1)
        #expect(a[6].intValue == nil)
        #expect(a[2].doubleValue == 42.0)
    }

    @Test("scalars and nesting")
    func scalars() throws {
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse("false") == .bool(false))
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(#""x""#) == .string("x"))
        #expect(try JSONParser.parse("  [ [ ], { } ]  ") == .array([.array([]), .object(JSONObject())]))
    }

    @Test("unicode escapes, surrogate pairs and raw UTF-8 decode to the same text")
    func unicodeEscapes() throws {
        let v = try JSONParser.parse(#"["\u00e9\u4e16\ud83d\ude00", "é世😀", "\"\\\/\b\f\n\r\t"]"#)
        let a = try #require(v.arrayValue)
        #expect(a[0] == .string("é世😀"))
        #expect(a[1] == .string("é世😀"))
        #expect(a[2] == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test("bytes and String inputs agree")
    func bytesInput() throws {
        let text = #"{"k":["v",1,2.5]}"#
        #expect(try JSONParser.parse(Array(text.utf8)) == JSONParser.parse(text))
    }

    @Test("invalid JSON: PMX_ERR_INVALID_JSON naming the line and the column")
    func invalidJSONLineColumn() throws {
        let e = try #require(pmxError { _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": }\n") })
        #expect(e.status == .invalidJSON)
        #expect(e.message.contains("line 3"), "\(e.message)")
        #expect(e.message.contains("column 8"), "\(e.message)")
        #expect(e.message.contains("invalid JSON"), "\(e.message)")
    }

    @Test("invalid JSON on the first line names line 1 and its column", arguments: [
        ("[1, 2", "line 1"),
        (#"{"a" 1}"#, "column 6"),
        ("", "line"),
        ("[1,]", "column 4"),
        (#"{"a":1} trailing"#, "line 1"),
    ])
    func invalidJSONVariants(text: String, fragment: String) throws {
        let e = try #require(pmxError { _ = try JSONParser.parse(text) })
        #expect(e.status == .invalidJSON)
        #expect(e.message.contains(fragment), "\(e.message)")
        #expect(e.message.contains("column"), "\(e.message)")
    }

    @Test("invalid UTF-8 inside a string is PMX_ERR_INVALID_UTF8, not INVALID_JSON")
    func invalidUTF8() throws {
        for bad: [UInt8] in [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80]] {
            let bytes = Array(#"{"k":""#.utf8) + bad + Array(#""}"#.utf8)
            let e = try #require(pmxError { _ = try JSONParser.parse(bytes) })
            #expect(e.status == .invalidUTF8, "bytes \(bad): \(e)")
            #expect(e.message.contains("UTF-8"), "\(e.message)")
        }
    }

    @Test("an escaped NUL (\\u0000) inside a string is valid JSON")
    func escapedNul() throws {
        let v = try JSONParser.parse(#"{"content":"a\u0000b"}"#)
        #expect(v["content"] == .string("a\u{0}b"))
    }
}

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("compact output, key order kept")
    func compact() {
        var o = JSONObject()
        o["z"] = 1
        o["a"] = [true, false, nil]
        o["m"] = ["k": "v"]
        #expect(JSONWriter.string(.object(o)) == #"{"z":1,"a":[true,false,null],"m":{"k":"v"}}"#)
        #expect(JSONWriter.bytes(.object(o)) == Array(JSONWriter.string(.object(o)).utf8))
    }

    @Test("control characters are escaped, and parse back to the same string")
    func controlCharacters() throws {
        let s = "a\u{00}b\u{01}\u{08}\u{0C}\n\r\t\u{1F}z"
        let text = JSONWriter.string(.string(s))
        #expect(text == #""a\u0000b\u0001\u0008\u000c\n\r\t\u001fz""#)
        #expect(!text.utf8.contains(where: { $0 < 0x20 }))
        // jansson refuses a NUL even escaped (see JSONParserTests.escapedNul); the rest round-trips.
        let noNul = "b\u{01}\u{08}\u{0C}\n\r\t\u{1F}z"
        #expect(try JSONParser.parse(JSONWriter.string(.string(noNul))) == .string(noNul))
    }

    @Test("quotes and backslashes")
    func quotesAndBackslashes() throws {
        let s = #"say "hi" \ C:\path\ "#
        let text = JSONWriter.string(.string(s))
        #expect(text == #""say \"hi\" \\ C:\\path\\ ""#)
        #expect(try JSONParser.parse(text) == .string(s))
    }

    @Test("non-ASCII is written as raw UTF-8, not as \\u escapes")
    func nonASCIIKept() throws {
        let s = "héllo wörld 世界 👋 — ∑"
        let text = JSONWriter.string(.string(s))
        #expect(text == "\"" + s + "\"")
        #expect(!text.contains("\\u"))
        #expect(try JSONParser.parse(text) == .string(s))
        // Keys too.
        var o = JSONObject()
        o["clé"] = "valeur"
        #expect(JSONWriter.string(.object(o)) == #"{"clé":"valeur"}"#)
    }

    @Test("numbers: ints as ints, integral doubles keep a fraction so they parse back as doubles")
    func numbers() throws {
        #expect(JSONWriter.string(.int(-42)) == "-42")
        #expect(JSONWriter.string(.int(Int64.max)) == "9223372036854775807")
        #expect(JSONWriter.string(.double(2)) == "2.0")
        #expect(JSONWriter.string(.double(0.5)) == "0.5")
        #expect(JSONWriter.string(.double(.nan)) == "null")
        #expect(JSONWriter.string(.double(.infinity)) == "null")
        for d in [2.0, 0.5, -1.25, 1e-7, 1e20, 123456.789, 0.1] {
            #expect(try JSONParser.parse(JSONWriter.string(.double(d))) == .double(d), "\(d)")
        }
        #expect(try JSONParser.parse(JSONWriter.string(.int(7))) == .int(7))
    }

    @Test("a document round-trips through writer and parser unchanged")
    func roundTrip() throws {
        let text = #"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Line 1\nTab\t\"q\" \\ é 😀"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},"temperature":0.7,"n":null,"ok":true}"#
        let v = try JSONParser.parse(text)
        #expect(JSONWriter.string(v) == text)
        #expect(try JSONParser.parse(JSONWriter.bytes(v)) == v)
    }
}

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
