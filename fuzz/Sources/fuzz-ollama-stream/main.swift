// SPDX-License-Identifier: Apache-2.0
// The ollama codec's stream decoder over the chunked input (first byte picks the cuts).
import MuxProviders
import FuzzSupport

let provider = providerConfig(.ollama)!
let codec = ProviderCatalogue.entry(for: .ollama).codec!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    runStreamDecoder(codec.streamDecoder(model: "fz-model", provider: provider), data, size)
    return 0
}
