// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import MuxBase
import MuxTransport
import Glibc
#endif

extension TLSSettings {
    /// Parses a `tls` section (router default or a provider's own): `ca_bundle`, `verify`,
    /// `min_version`. The CA bundle must be a readable file now, so a typo fails at config time
    /// rather than as a TLS error on the first request.
    public static func parse(_ r: inout FieldReader) throws -> TLSSettings {
        var s = TLSSettings()
        if let path = try r.string("ca_bundle") {
            guard isReadableFile(path) else {
                throw r.fail("ca_bundle", "\"\(path)\" is not a readable file")
            }
            s.caBundle = path
        }
        s.verify = try r.bool("verify")
        if let v = try r.string("min_version") {
            guard let version = Version(rawValue: v) else { throw r.fail("min_version", "must be \"1.2\" or \"1.3\" (got \"\(v)\")") }
            s.minVersion = version
        }
        try r.finish()
        return s
    }

    package static func isReadableFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, R_OK) == 0
    }
}
