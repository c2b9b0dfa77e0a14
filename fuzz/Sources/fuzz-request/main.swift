// SPDX-License-Identifier: Apache-2.0
// ChatRequest.parse (aliases, validation), what routing reads off it (RequestNeeds: token
// estimates, capabilities) and the response-cache key (sorted, normalized serialization).
import MuxBase
import MuxConfig
import MuxProtocols
import MuxRouting
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let value = try? JSONParser.parse(UnsafeRawBufferPointer(start: data, count: size)),
          let request = try? ChatRequest.parse(value) else { return 0 }
    blackHole(RequestNeeds(.chat(request, stream: request.stream)))
    blackHole(ResponseCache.key(for: request))
    if let embed = try? EmbedRequest.parse(value) { blackHole(RequestNeeds(.embed(embed))) }
    return 0
}
