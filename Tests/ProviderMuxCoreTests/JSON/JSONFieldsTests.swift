// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Testing

@Suite("JSONFields: one walk for a fixed set of member names")
struct JSONFieldsTests {
    static let names = ["id", "model", "choices", "a_name_of_exactly_16", "a_member_name_longer_than_thirty_two_bytes", "", "eight_by"]
    static let keys = JSONKeySet(names)

    /// Each slot reads what `JSONRef[key]` reads, whatever the document: the one-pass form is
    /// the same lookup, done once for all names.
    static let documents = [
        #"{"id":"x","model":"m","choices":[1],"other":true}"#,
        #"{"choices":2,"id":1,"id":3}"#,                                     // a repeated name: the last value wins
        #"{"\u0069d":"escaped","mod\u0065l":{"a":[1,2]},"i":0,"idd":1}"#,   // escaped names; a prefix and a longer name do not match
        #"{"a_name_of_exactly_16":1,"a_name_of_exactly_1X":2,"eight_by":"8","eight_bz":0}"#,
        #"{"a_member_name_longer_than_thirty_two_bytes":"long","a_member_name_longer_than_thirty_two_byteZ":0}"#,
        #"{"":"empty name","x":{"id":"nested, not a member"}}"#,
        #"{"modem":1,"mode":2,"Model":3}"#,                                 // same length, other bytes
        #"{}"#,
    ]

    @Test("every slot is the member JSONRef[key] finds", arguments: documents)
    func sameAsSubscript(_ text: String) throws {
        let doc = try JSONDocument(Array(text.utf8))
        let f = doc.ref.fields(Self.keys)
        for (i, key) in Self.names.enumerated() {
            let expected = doc.ref[key]
            #expect(f[i]?.index == expected?.index, "\(key) in \(text)")
        }
    }

    @Test("the values read through the slots")
    func values() throws {
        let doc = try JSONDocument(Array(#"{"id":"x","id":"y","\u006dodel":"m","choices":[{"n":1}],"eight_by":7}"#.utf8))
        let f = doc.ref.fields(Self.keys)
        #expect(f[0]?.stringValue == "y")
        #expect(f[1]?.stringValue == "m")
        #expect(f[2]?[0]?["n"]?.intValue == 1)
        #expect(f[6]?.intValue == 7)
        #expect(f[3] == nil && f[4] == nil && f[5] == nil)
    }

    @Test("names at the very end of the text (the last word reads into the padding)")
    func atTheEnd() throws {
        // The name's bytes end 2 bytes before the end of the text: its 8-byte word reads past it.
        let doc = try JSONDocument(Array(#"{"x":1,"id""#.utf8) + Array(#":2}"#.utf8))
        #expect(doc.ref.fields(Self.keys)[0]?.intValue == 2)
    }

    @Test("not an object: every slot is nil")
    func notAnObject() throws {
        for text in ["[1,2]", "\"id\"", "null", "3"] {
            let doc = try JSONDocument(Array(text.utf8))
            let f = doc.ref.fields(Self.keys)
            for i in 0..<7 { #expect(f[i] == nil) }
        }
        #expect(JSONRef.null.fields(Self.keys)[0] == nil)
    }
}
