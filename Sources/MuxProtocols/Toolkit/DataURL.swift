// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// A `data:` URL (RFC 2397), `data:[<media type>][;<param>]*[;base64],<payload>`, split on
/// UTF-8 bytes (a Character view would join "\r\n" and miss separators). The one parser every
/// protocol that inlines images or files uses; each says itself which forms it takes.
public struct DataURL: Equatable, Sendable {
    /// The media type as written (`image/png`), "" when the URL names none.
    public var mediaType: String
    /// The last parameter is `base64`: the payload is base64 text.
    public var isBase64: Bool
    /// Everything after the first comma, as written.
    public var payload: String

    public static let scheme = "data:"

    /// Whether `url` is meant as a data URL at all (to choose between a data URL's error and a
    /// link's).
    @inline(__always)
    public static func isDataURL(_ url: String) -> Bool { url.utf8.starts(with: scheme.utf8) }

    /// The parts of `url`, or nil when it is not a data URL or has no comma.
    public static func parse(_ url: String) -> DataURL? {
        let u = url.utf8
        guard isDataURL(url) else { return nil }
        let rest = u.dropFirst(5)
        guard let comma = rest.firstIndex(of: UInt8(ascii: ",")) else { return nil }
        let header = rest[..<comma]
        let semicolon = header.firstIndex(of: UInt8(ascii: ";")) ?? header.endIndex
        let lastParam = header.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).dropFirst().last
        return DataURL(mediaType: String(decoding: header[..<semicolon], as: UTF8.self),
                       isBase64: lastParam.map { $0.elementsEqual("base64".utf8) } ?? false,
                       payload: String(decoding: rest[u.index(after: comma)...], as: UTF8.self))
    }

    /// A base64 data URL with a media type, or an invalid-request error naming `path` and the
    /// form the protocol needs.
    public static func requireBase64(_ url: String, path: String, protocolName: String, provider: String = "") throws -> DataURL {
        guard let d = parse(url), d.isBase64, !d.mediaType.isEmpty else {
            throw PMXError(.invalidRequest, "\(path): \(protocolName) needs a base64 data URL with a media type (data:<media type>;base64,<data>)",
                           provider: provider)
        }
        return d
    }
}
