// SPDX-License-Identifier: Apache-2.0

/// The library's version: the Swift copy of PMX_VERSION_* in include/providermux.h, generated
/// with it from abi/abi.json (scripts/gen-abi-tables.py; ctest abi_tables checks they agree).
/// pmx_version_number / pmx_version_string report these at run time.
public enum LibraryVersion {
    // BEGIN GENERATED abi:swift-version (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
    public static let major: Int32 = 0
    public static let minor: Int32 = 1
    public static let patch: Int32 = 0
    /// "MAJOR.MINOR.PATCH"; a StaticString so that the C string it hands out is static.
    public static let string: StaticString = "0.1.0"
    /// The SONAME number (libprovidermux.so.<abi>): changes only when the ABI breaks.
    public static let abi: Int32 = 0
    // END GENERATED abi:swift-version

    /// MAJOR * 10000 + MINOR * 100 + PATCH, as PMX_VERSION_NUMBER.
    public static var number: Int32 { major * 10000 + minor * 100 + patch }

    /// `string` as a NUL-terminated C string with static lifetime (never freed).
    public static var cString: UnsafePointer<CChar> {
        UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
