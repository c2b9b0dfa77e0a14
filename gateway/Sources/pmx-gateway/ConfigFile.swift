// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import MuxBase

/// Reads the config file whole (no Foundation in this executable, as in the library).
enum ConfigFile {
    /// Refuses files above 64 MiB: a config is kilobytes; this is a typo'd path, not a config.
    static let maxBytes = 64 << 20

    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw PMXError(.config, "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > maxBytes { throw PMXError(.config, "larger than \(maxBytes) bytes") }
        }
        if ferror(f) != 0 { throw PMXError(.config, "read error") }
        return out
    }
}
