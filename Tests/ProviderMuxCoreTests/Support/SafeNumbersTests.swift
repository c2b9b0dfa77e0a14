// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Testing

@Suite struct SafeNumbersTests {
    @Test func doubleToIntNeverTraps() {
        #expect(SafeNumbers.int(.nan) == Int.min)
        #expect(SafeNumbers.int(.infinity) == Int.max)
        #expect(SafeNumbers.int(-.infinity) == Int.min)
        #expect(SafeNumbers.int(1e300) == Int.max)
        #expect(SafeNumbers.int(-1e300) == Int.min)
        #expect(SafeNumbers.int(9.223372036854775807e18) == Int.max)
        #expect(SafeNumbers.int(12.9) == 12)
        #expect(SafeNumbers.int(-12.9) == -12)
        #expect(SafeNumbers.int(1e20, lo: 0, hi: 86_400_000) == 86_400_000)
        #expect(SafeNumbers.int(-5, lo: 0, hi: 10) == 0)
        #expect(SafeNumbers.int(.nan, lo: 0, hi: 10) == 0)
        #expect(SafeNumbers.int64(1e19) == Int64.max)
    }

    @Test func saturatingArithmetic() {
        #expect(Int.max.addingSaturated(1) == Int.max)
        #expect(Int.min.addingSaturated(-1) == Int.min)
        #expect(Int.min.subtractingSaturated(1) == Int.min)
        #expect(Int.max.subtractingSaturated(-1) == Int.max)
        #expect(Int.max.multipliedSaturated(by: 2) == Int.max)
        #expect(Int.max.multipliedSaturated(by: -2) == Int.min)
        #expect((-3).multipliedSaturated(by: -4) == 12)
        #expect(Int64(9_223_372_036_854).multipliedSaturated(by: 1_000_000_000) == Int64.max)
        #expect(SafeNumbers.clampFinite(.nan, 0, 1) == 0)
        #expect(SafeNumbers.clampFinite(.infinity, 0, 1) == 1)
    }
}
