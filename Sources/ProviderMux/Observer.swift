// SPDX-License-Identifier: Apache-2.0
// pmx_router_set_observer: the per-request observer (Routing/RequestObserver.swift) handed a
// C callback. Conversion only: the record is the core's, masked and copied here like every
// string the host gets.
#if canImport(Glibc)
import MuxBase
import MuxRouting
import Glibc
#endif

public typealias PMXObserverFn = @convention(c) (UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Void

@_cdecl("pmx_router_set_observer")
public func pmx_router_set_observer(_ r: OpaquePointer?, _ fn: PMXObserverFn?, _ userdata: UnsafeMutableRawPointer?,
                                    _ err: UnsafeMutableRawPointer?) -> Int32 {
    call(err) {
        let router = try routerArg(r)
        guard let fn else {
            router.observers.set(nil)
            return
        }
        let ud = OpaqueUserData(userdata)
        router.observers.set { record in
            var bytes = JSONWriter.bytes(.object(record))
            Secrets.mask(&bytes)
            Transcript.record(.record, bytes)
            let n = bytes.count
            bytes.append(0)
            bytes.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { fn($0.baseAddress, n, ud.pointer) }
            }
        }
    }
}
