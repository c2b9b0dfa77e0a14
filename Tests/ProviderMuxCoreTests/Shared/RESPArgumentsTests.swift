// SPDX-License-Identifier: Apache-2.0
@testable import MuxShared
import Testing

// The RESP framing the link hands to hiredis as it is: an array of bulk strings, each
// `$<byte length>\r\n<bytes>\r\n` (https://redis.io/docs/reference/protocol-spec/).

@Suite("Shared: RESP arguments")
struct RESPArgumentsTests {
    private func text(_ a: RESPArguments) -> String {
        var out: [UInt8] = []
        RESPArguments.command(a, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a command is an array of bulk strings, each with its byte length")
    func command() {
        #expect(text(RESPArguments(["PING"])) == "*1\r\n$4\r\nPING\r\n")
        #expect(text(RESPArguments(["SELECT", "12"])) == "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n")
        #expect(text(RESPArguments([])) == "*0\r\n")
    }

    @Test("numbers are written as their decimal text, Int.min and negatives included")
    func numbers() {
        var a = RESPArguments()
        for n in [0, 7, 10, -1, 1234567890, Int.max, Int.min] { a.add(n) }
        a.add(true)
        a.add(false)
        #expect(a.count == 9)
        #expect(text(a) == "*9\r\n$1\r\n0\r\n$1\r\n7\r\n$2\r\n10\r\n$2\r\n-1\r\n$10\r\n1234567890\r\n"
            + "$19\r\n9223372036854775807\r\n$20\r\n-9223372036854775808\r\n$1\r\n1\r\n$1\r\n0\r\n")
    }

    @Test("doubles: whole ones as integers, others in their shortest exact form")
    func doubles() {
        var a = RESPArguments()
        a.add(5.0)
        a.add(0.5)
        a.add(0.000123)
        a.add(-2.0)
        a.add(1e300)
        #expect(text(a) == "*5\r\n$1\r\n5\r\n$3\r\n0.5\r\n$8\r\n0.000123\r\n$2\r\n-2\r\n$6\r\n1e+300\r\n")
    }

    @Test("binary-safe: CR LF, NUL and multi-byte UTF-8 go through with their byte length; empty is $0")
    func binarySafe() {
        var a = RESPArguments()
        a.add("a\r\nb\0c")
        a.add("")
        a.add("é→")
        [UInt8]([0, 255, 13]).withUnsafeBufferPointer { a.add(bytes: $0) }
        var out: [UInt8] = []
        RESPArguments.command(a, into: &out)
        let expected: [UInt8] = Array("*4\r\n$6\r\na\r\nb\0c\r\n$0\r\n\r\n$5\r\n".utf8) + Array("é→".utf8)
            + Array("\r\n$3\r\n".utf8) + [0, 255, 13] + Array("\r\n".utf8)
        #expect(out == expected)
    }

    @Test("a key in parts is one argument, the same bytes as the joined key")
    func parts() {
        var joined = RESPArguments(), split = RESPArguments()
        joined.add("app:cb:openai/gpt-4o")
        split.add("app:cb:", "openai", "/", "gpt-4o")
        #expect(split == joined && split.count == 1)
        let k = SharedKeys(prefix: "app:")
        var viaKeys = RESPArguments()
        k.addBreaker(provider: "openai", model: "gpt-4o", to: &viaKeys)
        k.addRateLimit(provider: "openai", to: &viaKeys)
        k.addLaneBudget("code", to: &viaKeys)
        #expect(viaKeys == RESPArguments([k.breaker(provider: "openai", model: "gpt-4o"), k.rateLimit(provider: "openai"), k.laneBudget("code")]))
    }

    @Test("an EVALSHA command: numkeys first, then keys and arguments")
    func evalshaArguments() {
        let c = RedisLink.Command(.cacheGet, keyCount: 1) { a in
            a.add("k1")
            a.add(42)
        }
        #expect(c.arguments == RESPArguments(["1", "k1", "42"]))
        #expect(RedisLink.Command(.cacheGet, keys: ["k1"], args: ["42"]).arguments == c.arguments)
    }
}
