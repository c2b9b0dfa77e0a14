// SPDX-License-Identifier: Apache-2.0
// The JSON scanner against jansson (the oracle, JanssonOracle.swift shared with the Swift
// tests): the input is one document. Both must accept or refuse it alike — the same error
// class (invalid UTF-8 / invalid JSON) at the same line, column and byte — and, when
// accepted, give the same JSONValue (doubles bit for bit, key order and repeated keys as
// jansson merges them), and every JSONRef read of a reused JSONDocument must agree.
// Two deliberate differences: nesting stops at 256 levels, not jansson's 2,048 (the oracle's
// `reference` is jansson as if its limit were ours); and a raw NUL byte is never JSON and we
// refuse it everywhere, while jansson 2.14 loses a NUL byte it puts back after a number or a
// word (its stream takes a NUL in its buffer for "empty") and so accepts `[1\0]`. Inputs with
// a NUL byte are only checked for being refused.
import MuxBase

nonisolated(unsafe) let reused = JSONDocument()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let ours = JanssonOracle.ours(bytes)
    let theirs = JanssonOracle.reference(bytes)
    var loaded: Status = .ok
    do { try bytes.withUnsafeBytes { try reused.load($0) } } catch let e as PMXError { loaded = e.status } catch { loaded = .internal }
    if bytes.contains(0) {
        guard case .failure = ours, loaded != .ok else { fatalError("a raw NUL byte was accepted: \(ours)") }
        return 0
    }
    switch (ours, theirs) {
    case (.value(let a), .value(let b)):
        guard JanssonOracle.same(a, b) else { fatalError("values differ: ours \(ours), jansson \(theirs)") }
        guard loaded == .ok else { fatalError("JSONDocument.load refused what parse accepted: \(loaded)") }
        if let m = JanssonOracle.refMismatch(reused.ref, b) { fatalError("JSONRef read differs from jansson: \(m)") }
    case (.failure(let s1, let l1, let c1, let b1, _), .failure(let s2, let l2, let c2, let b2, _)):
        guard s1 == s2, l1 == l2, c1 == c2, b1 == b2 else { fatalError("errors differ: ours \(ours), jansson \(theirs)") }
        guard loaded == s1, reused.ref.isNull else { fatalError("JSONDocument.load: \(loaded), not \(s1)") }
    default:
        fatalError("outcomes differ: ours \(ours), jansson \(theirs)")
    }
    return 0
}
