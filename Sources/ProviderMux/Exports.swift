// SPDX-License-Identifier: Apache-2.0
// The C ABI of include/providermux.h. This layer holds no behaviour: it converts C arguments
// to core calls and core results to C (status, owned strings, pmx_error), nothing more.
#if canImport(Glibc)
import MuxBase
import MuxConfig
import MuxProtocols
import MuxRouting
import Glibc
#endif

public typealias PMXEventFn = @convention(c) (UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32
public typealias PMXLogFn = @convention(c) (Int32, UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Void

// MARK: versions, status names, strings

@_cdecl("pmx_version_number")
public func pmx_version_number() -> Int32 { LibraryVersion.number }

@_cdecl("pmx_version_string")
public func pmx_version_string() -> UnsafePointer<CChar> { LibraryVersion.cString }

@_cdecl("pmx_status_name")
public func pmx_status_name(_ code: Int32) -> UnsafePointer<CChar> {
    let name: StaticString = Status(rawValue: code)?.name ?? "PMX_UNKNOWN_STATUS"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("pmx_string_free")
public func pmx_string_free(_ s: UnsafeMutablePointer<CChar>?) { free(s) }

@_cdecl("pmx_set_log_callback")
public func pmx_set_log_callback(_ fn: PMXLogFn?, _ minLevel: Int32, _ userdata: UnsafeMutableRawPointer?) {
    guard let fn else { Log.setSink(nil, minLevel: .error); return }
    let ud = OpaqueUserData(userdata)
    let level = LogLevel(rawValue: min(max(minLevel, 0), 4)) ?? .error
    Log.setSink({ level, message in
        var m = message
        m.withUTF8 { buf in
            // withUTF8 gives no NUL: copy into a terminated buffer.
            withCString(buf) { p, n in fn(level.rawValue, p, n, ud.pointer) }
        }
    }, minLevel: level)
}

// MARK: providers

@_cdecl("pmx_provider_new")
public func pmx_provider_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ json: UnsafePointer<CChar>?,
                             _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        let doc = try parseInput(json, "provider_json")
        out.pointee = OpaquePointer(Unmanaged.passRetained(ProviderBox(try ProviderConfig.parseDefinition(doc))).toOpaque())
    }
}

@_cdecl("pmx_provider_free")
public func pmx_provider_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<ProviderBox>.fromOpaque(UnsafeRawPointer(p)).release()
}

// MARK: routers

@_cdecl("pmx_router_new")
public func pmx_router_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ json: UnsafePointer<CChar>?,
                           _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        let config = try RouterConfig.parse(try parseInput(json, "router_json"))
        let router = try Router(config: config)
        out.pointee = OpaquePointer(Unmanaged.passRetained(router).toOpaque())
    }
}

@_cdecl("pmx_router_free")
public func pmx_router_free(_ r: OpaquePointer?) {
    guard let r else { return }
    let router = Unmanaged<Router>.fromOpaque(UnsafeRawPointer(r))
    router.takeUnretainedValue().close()
    router.release()
}

@_cdecl("pmx_router_add_provider")
public func pmx_router_add_provider(_ r: OpaquePointer?, _ p: OpaquePointer?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    call(err) {
        let router = try routerArg(r)
        guard let p else { throw PMXError(.invalidArgument, "provider is NULL") }
        try router.addProvider(Unmanaged<ProviderBox>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue().config)
    }
}

@_cdecl("pmx_router_remove_provider")
public func pmx_router_remove_provider(_ r: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    call(err) {
        let router = try routerArg(r)
        guard let name else { throw PMXError(.invalidArgument, "name is NULL") }
        try router.removeProvider(named: try utf8String(name, "name"))
    }
}

@_cdecl("pmx_router_complete")
public func pmx_router_complete(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                                _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .response) { router in
        .object(try router.complete(ChatRequest.parse(try parseInput(json, "request_json"))))
    }
}

@_cdecl("pmx_router_stream")
public func pmx_router_stream(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                              _ json: UnsafePointer<CChar>?, _ onEvent: PMXEventFn?, _ userdata: UnsafeMutableRawPointer?,
                              _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        let router = try routerArg(r)
        guard let onEvent else { throw PMXError(.invalidArgument, "on_event is NULL") }
        let request = try ChatRequest.parse(try parseInput(json, "request_json"))
        let serializer = EventSerializer()
        let response = try router.stream(request) { event in serializer.deliver(event, onEvent, userdata) }
        out?.pointee = ownedCString(JSONWriter.bytes(.object(response)), .response)
    }
}

@_cdecl("pmx_router_stream_async")
public func pmx_router_stream_async(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ r: OpaquePointer?,
                                    _ json: UnsafePointer<CChar>?, _ onEvent: PMXEventFn?,
                                    _ userdata: UnsafeMutableRawPointer?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        let router = try routerArg(r)
        guard let onEvent else { throw PMXError(.invalidArgument, "on_event is NULL") }
        let request = try ChatRequest.parse(try parseInput(json, "request_json"))
        let serializer = EventSerializer(), ud = OpaqueUserData(userdata)
        let session = try StreamSession.start(router, request) { event in serializer.deliver(event, onEvent, ud.pointer) }
        if let out { out.pointee = OpaquePointer(Unmanaged.passRetained(session).toOpaque()) }
    }
}

@_cdecl("pmx_router_stream_open")
public func pmx_router_stream_open(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ r: OpaquePointer?,
                                   _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        let router = try routerArg(r)
        let request = try ChatRequest.parse(try parseInput(json, "request_json"))
        let handle = PullHandle(try PullStream.open(router, request))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("pmx_stream_next")
public func pmx_stream_next(_ out: UnsafeMutableRawPointer?, _ capacity: Int, _ eventSize: Int,
                            _ outCount: UnsafeMutablePointer<Int>?, _ s: OpaquePointer?, _ timeoutMs: Int32,
                            _ flags: UInt32, _ err: UnsafeMutableRawPointer?) -> Int32 {
    outCount?.pointee = 0
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        guard let outCount else { throw PMXError(.invalidArgument, "out_count is NULL") }
        guard let s else { throw PMXError(.invalidArgument, "stream is NULL") }
        // size_t arguments arrive as Int: one above Int.max reads as negative, refused here too.
        guard capacity > 0 else { throw PMXError(.invalidArgument, "capacity is 0 (or above SIZE_MAX / 2): room for at least one event is needed") }
        guard eventSize >= EventLayout.size else {
            throw PMXError(.invalidArgument, "event_size \(UInt(bitPattern: eventSize)) is below PMX_EVENT_SIZE_MIN (\(EventLayout.size)): pass sizeof(pmx_event)")
        }
        guard !capacity.multipliedReportingOverflow(by: eventSize).overflow else {
            throw PMXError(.invalidArgument, "capacity \(capacity) × event_size \(eventSize) does not fit in memory: no such array")
        }
        guard flags & ~EventLayout.flagWithJSON == 0 else {
            throw PMXError(.invalidArgument, "flags: unknown bits \(flags & ~EventLayout.flagWithJSON) (known: PMX_NEXT_WITH_JSON)")
        }
        guard timeoutMs >= -1 else { throw PMXError(.invalidArgument, "timeout_ms \(timeoutMs): -1 (wait), 0 (poll) or a positive number of milliseconds") }
        guard let pull = streamObject(s) as? PullHandle else {
            throw PMXError(.invalidArgument, "stream: a stream of pmx_router_stream_async delivers its events to its callback; pmx_stream_next reads streams of pmx_router_stream_open")
        }
        let waitNs = timeoutMs < 0 ? -1 : Int64(clamping: SafeNumbers.nanos(ms: Int(clamping: timeoutMs)))
        _ = try pull.stream.next(max: capacity, waitNs: waitNs) { batch in
            pull.writer.write(batch, to: out, stride: eventSize, flags: flags)
            outCount.pointee = batch.count
        }
    }
}

@_cdecl("pmx_stream_cancel")
public func pmx_stream_cancel(_ s: OpaquePointer?) {
    guard let s else { return }
    let stream = streamObject(s)
    if let pull = stream as? PullHandle { pull.stream.cancel() } else if let session = stream as? StreamSession { session.cancel() }
}

@_cdecl("pmx_stream_free")
public func pmx_stream_free(_ s: OpaquePointer?) {
    guard let s else { return }
    pmx_stream_cancel(s)
    Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(s)).release()
}

@_cdecl("pmx_router_embed")
public func pmx_router_embed(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                             _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .response) { router in
        .object(try router.embed(EmbedRequest.parse(try parseInput(json, "request_json"))))
    }
}

@_cdecl("pmx_router_models")
public func pmx_router_models(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                              _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .models) { try $0.models() }
}

@_cdecl("pmx_router_models_query")
public func pmx_router_models_query(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                                    _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .models) { router in try router.models(ModelQuery.parse(try parseInput(json, "query_json"))) }
}

@_cdecl("pmx_router_health")
public func pmx_router_health(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                              _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .health) { try $0.health() }
}

@_cdecl("pmx_router_stats")
public func pmx_router_stats(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                             _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .stats) { $0.stats() }
}

@_cdecl("pmx_router_model_manage")
public func pmx_router_model_manage(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                                    _ json: UnsafePointer<CChar>?, _ onEvent: PMXEventFn?, _ userdata: UnsafeMutableRawPointer?,
                                    _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        let router = try routerArg(r)
        let request = try ModelManagementRequest.parse(try parseInput(json, "request_json"))
        let result = try router.manageModel(request, onEvent: onEvent.map { fn in { event in deliverJSON(event, fn, userdata) } })
        out?.pointee = ownedCString(JSONWriter.bytes(result), .manage)
    }
}

@_cdecl("pmx_router_stats_ex")
public func pmx_router_stats_ex(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                                _ options: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        guard let out else { throw PMXError(.invalidArgument, "out is NULL") }
        let router = try routerArg(r)
        let parsed = try options.map { try Router.StatsOptions.parse(try parseInput($0, "options_json")) } ?? Router.StatsOptions()
        out.pointee = ownedCString(Array(router.stats(parsed).utf8), .stats, parsed.format == .json ? .json : .text)
    }
}

@_cdecl("pmx_router_update_routing")
public func pmx_router_update_routing(_ r: OpaquePointer?, _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    call(err) {
        let router = try routerArg(r)
        try router.updateRouting(try parseInput(json, "routing_json"))
    }
}

// MARK: operations by name (pmx_router_call)

@_cdecl("pmx_router_call")
public func pmx_router_call(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                            _ operation: UnsafePointer<CChar>?, _ json: UnsafePointer<CChar>?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    documentCall(out, r, err, .response) { router in
        let op = try operationArg(operation)
        return try router.call(op, try parseInput(json, "request_json"))
    }
}

@_cdecl("pmx_router_call_stream")
public func pmx_router_call_stream(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ r: OpaquePointer?,
                                   _ operation: UnsafePointer<CChar>?, _ json: UnsafePointer<CChar>?, _ onEvent: PMXEventFn?,
                                   _ userdata: UnsafeMutableRawPointer?, _ err: UnsafeMutableRawPointer?) -> Int32 {
    out?.pointee = nil
    return call(err) {
        let router = try routerArg(r)
        let op = try operationArg(operation)
        guard let onEvent else { throw PMXError(.invalidArgument, "on_event is NULL") }
        let request = try parseInput(json, "request_json")
        let serializer = EventSerializer()
        let result = try router.callStream(op, request) { event in serializer.deliver(event, onEvent, userdata) }
        out?.pointee = ownedCString(JSONWriter.bytes(result), .response)
    }
}

/// The `operation` argument: NULL, invalid UTF-8 and unknown names are PMX_ERR_INVALID_ARGUMENT.
private func operationArg(_ operation: UnsafePointer<CChar>?) throws -> OperationName {
    guard let operation else { throw PMXError(.invalidArgument, "operation is NULL") }
    do {
        return try OperationName.parse(try utf8String(operation, "operation"))
    } catch var e as PMXError where e.status == .invalidUTF8 {
        e.status = .invalidArgument
        throw e
    }
}
