// SPDX-License-Identifier: Apache-2.0
// C <-> Swift conversions for the exports. No behaviour lives here. Every string handed to
// the caller passes through one of these helpers, which also hands it to the transcript
// (Transcript.swift: a no-op unless PMX_TRANSCRIPT_DIR is set).
//
// They are also the choke points where API keys are masked (`Secrets.mask`, one call each:
// what and how is the core's), as the last step before the bytes leave: every document,
// stream event and error the host (and the transcript) gets, successful answers included — a
// provider may echo a key in its answer, a tool call's arguments, a model list. Masking
// earlier, in each producer, would be one place per producer to forget.
#if canImport(Glibc)
import MuxBase
import MuxConfig
import MuxRouting
import Glibc
#endif

/// A caller's `void *userdata`, carried across threads untouched. The caller promised (in the
/// header's contract) that it stays valid until the terminal event.
struct OpaqueUserData: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    init(_ p: UnsafeMutableRawPointer?) { pointer = p }
}

/// A pmx_stream of pmx_router_stream_open: the pulled stream and the arena its views live in.
/// (A pmx_stream of pmx_router_stream_async is the StreamSession itself.)
final class PullHandle {
    let stream: PullStream
    let writer = EventViewWriter()
    init(_ stream: PullStream) { self.stream = stream }
}

/// What a pmx_stream points to: a StreamSession or a PullHandle.
func streamObject(_ s: OpaquePointer) -> AnyObject {
    Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(s)).takeUnretainedValue()
}

final class ProviderBox {
    let config: ProviderConfig
    init(_ c: ProviderConfig) { config = c }
}

/// Serializes events of one stream into one reused buffer and hands each to a C callback as
/// (NUL-terminated pointer, length): no allocation per event once the buffer is warm.
final class EventSerializer {
    private let text = EventJSONText()

    func deliver(_ event: ExecutionEvent, _ fn: PMXEventFn, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
        text.with(event) { buf in
            Transcript.record(.event, buf)
            return buf.withMemoryRebound(to: CChar.self) { fn($0.baseAddress, buf.count, userdata) }
        }
    }
}

func deliverJSON(_ value: JSONValue, _ fn: PMXEventFn, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    var bytes = JSONWriter.bytes(value)
    Secrets.mask(&bytes)
    Transcript.record(.event, bytes)
    let n = bytes.count
    bytes.append(0)
    return bytes.withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) { fn($0.baseAddress, n, userdata) }
    }
}


func withCString(_ buf: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<CChar>, Int) -> Void) {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: buf.count + 1)
    defer { p.deallocate() }
    buf.withMemoryRebound(to: CChar.self) { src in
        if let base = src.baseAddress { p.update(from: base, count: buf.count) }
    }
    p[buf.count] = 0
    body(p, buf.count)
}

/// A malloc'd NUL-terminated copy, keys masked, freed by pmx_string_free; `kind` tags it in
/// the transcript; `surface` says what the bytes are (a JSON document unless told).
func ownedCString(_ document: [UInt8], _ kind: Transcript.Kind, _ surface: Secrets.Surface = .json) -> UnsafeMutablePointer<CChar> {
    var bytes = document
    Secrets.mask(&bytes, surface: surface)
    Transcript.record(kind, bytes)
    let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
    bytes.withUnsafeBufferPointer { src in
        src.withMemoryRebound(to: CChar.self) { if let b = $0.baseAddress { p.update(from: b, count: bytes.count) } }
    }
    p[bytes.count] = 0
    return p
}

func parseInput(_ s: UnsafePointer<CChar>?, _ name: String) throws -> JSONValue {
    guard let s else { throw PMXError(.invalidArgument, "\(name) is NULL") }
    let n = strlen(s)
    do {
        return try JSONParser.parse(UnsafeRawBufferPointer(start: s, count: n))
    } catch var e as PMXError {
        e.message = "\(name): \(e.message)"
        throw e
    }
}

func utf8String(_ s: UnsafePointer<CChar>, _ name: String) throws -> String {
    let buf = UnsafeRawBufferPointer(start: s, count: strlen(s))
    guard let str = String(validating: buf.bindMemory(to: UInt8.self), as: UTF8.self) else {
        throw PMXError(.invalidUTF8, "\(name): not valid UTF-8")
    }
    return str
}

func routerArg(_ r: OpaquePointer?) throws -> Router {
    guard let r else { throw PMXError(.invalidArgument, "router is NULL") }
    return Unmanaged<Router>.fromOpaque(UnsafeRawPointer(r)).takeUnretainedValue()
}

/// Runs `body`, maps its error to a status and fills `err` (layout of `pmx_error` below).
func call(_ err: UnsafeMutableRawPointer?, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        fillError(err, nil)
        return 0
    } catch let e as PMXError {
        fillError(err, e)
        return e.status.rawValue
    } catch {
        let e = PMXError(.internal, "\(error)")
        fillError(err, e)
        return e.status.rawValue
    }
}

func documentCall(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                  _ err: UnsafeMutableRawPointer?, _ kind: Transcript.Kind, _ body: (Router) throws -> JSONValue) -> Int32 {
    out?.pointee = nil
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        let router = try routerArg(r)
        out.pointee = ownedCString(JSONWriter.bytes(try body(router)), kind)
    }
}

// pmx_error layout (include/providermux.h; Tests/c checks it with offsetof):
//   int32_t code @0, int32_t http_status @4, int32_t attempts @8, char provider[64] @12,
//   char message[512] @76.
private let providerOffset = 12, providerSize = 64, messageOffset = 76, messageSize = 512

func fillError(_ err: UnsafeMutableRawPointer?, _ e: PMXError?) {
    // Recorded also when the caller passed no `err`: the status still reached it.
    if let e { Transcript.record(e) }
    guard let err else { return }
    guard let e else {
        // Success: PMX_OK, no HTTP status, empty strings. Written directly: masking and copying
        // two empty strings cost ~1,300 instructions, paid per pmx_stream_next batch.
        err.storeBytes(of: Int32(0), toByteOffset: 0, as: Int32.self)
        err.storeBytes(of: Int32(0), toByteOffset: 4, as: Int32.self)
        err.storeBytes(of: Int32(0), toByteOffset: 8, as: Int32.self)
        err.storeBytes(of: UInt8(0), toByteOffset: providerOffset, as: UInt8.self)
        err.storeBytes(of: UInt8(0), toByteOffset: messageOffset, as: UInt8.self)
        return
    }
    err.storeBytes(of: e.status.rawValue, toByteOffset: 0, as: Int32.self)
    err.storeBytes(of: Int32(clamping: e.httpStatus), toByteOffset: 4, as: Int32.self)
    err.storeBytes(of: Int32(clamping: e.attemptCount), toByteOffset: 8, as: Int32.self)
    // Masked BEFORE the copy cuts them: a key cut in half would no longer match.
    // The provider is a config name: keys of 8 bytes or more only (`.text`), so that a
    // placeholder key equal to the name ("ollama") does not hide which provider failed.
    copyTruncated(Secrets.mask(e.provider, surface: .text), to: err + providerOffset, capacity: providerSize)
    copyTruncated(Secrets.mask(e.message), to: err + messageOffset, capacity: messageSize)
}

/// Copies at most capacity-1 bytes without splitting a UTF-8 sequence, then a NUL.
private func copyTruncated(_ s: String, to dst: UnsafeMutableRawPointer, capacity: Int) {
    let bytes = Array(s.utf8)
    let n = Secrets.utf8Boundary(bytes, atMost: capacity - 1)
    if n > 0 { bytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: n) } }
    dst.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
}
