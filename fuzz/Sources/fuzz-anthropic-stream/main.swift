// SPDX-License-Identifier: Apache-2.0
// The anthropic codec's stream decoder over the chunked input (first byte picks the cuts).
import MuxProviders
import FuzzSupport

let provider = providerConfig(.anthropic)!
let codec = ProviderCatalogue.entry(for: .anthropic).codec!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    runStreamDecoder(codec.streamDecoder(model: "fz-model", provider: provider), data, size)
    return 0
}
