/// The API keys of live provider definitions, masked wherever text leaves the library: a
/// defence in depth behind never putting them in messages in the first place.
///
/// Reference-counted: a key is known while a `Registration` for it lives. A parsed
/// `ProviderConfig` holds one (from the moment its key is read), so a key is masked while the
/// config is being parsed, while a router that uses it lives (its providers hold the config;
/// a removed provider until its last request ends), and while a `pmx_provider` handle holds
/// it. Freeing the router releases it: parsing configs in a loop, or creating and freeing
/// routers, does not grow the set, and `mask` only scans live keys.
public enum Secrets {
    private static let live = Locked<[String: Int]>([:])

    /// Keeps one key registered until it is released (when the last reference goes away).
    public final class Registration: Sendable {
        fileprivate let secret: String
        fileprivate init(_ secret: String) { self.secret = secret }
        deinit { Secrets.release(secret) }
    }

    /// Registers `secret` for the lifetime of the returned token; nil (nothing to mask) for
    /// nil or values shorter than 4 bytes, which would mask ordinary text.
    public static func register(_ secret: String?) -> Registration? {
        guard let secret, secret.utf8.count >= 4 else { return nil }
        live.withLock { $0[secret, default: 0] += 1 }
        return Registration(secret)
    }

    private static func release(_ secret: String) {
        live.withLock { keys in
            guard let n = keys[secret] else { return }
            keys[secret] = n > 1 ? n - 1 : nil
        }
    }

    /// Whether `secret` is currently masked.
    public static func isRegistered(_ secret: String) -> Bool { live.withLock { $0[secret] != nil } }

    /// How many distinct keys are live.
    public static var count: Int { live.withLock { $0.count } }

    /// "sk-abcdef123456" → "****3456".
    public static func masked(_ secret: String) -> String {
        "****" + String(secret.suffix(4))
    }

    public static func mask(_ text: String) -> String {
        // Longest first: a key that contains another is masked whole.
        let secrets = live.withLock { $0.isEmpty ? [] : $0.keys.sorted { $0.utf8.count > $1.utf8.count } }
        guard !secrets.isEmpty else { return text }
        var out = text
        for s in secrets where out.contains(s) {
            out = out.replacing(s, with: masked(s))
        }
        return out
    }
}
