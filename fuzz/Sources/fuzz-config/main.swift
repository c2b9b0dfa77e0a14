// SPDX-License-Identifier: Apache-2.0
// RouterConfig.parse on the input as text: JSON parsing, env expansion, every section's validation.
import MuxConfig
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    blackHole(try? RouterConfig.parse(text(data, size)))
    return 0
}
