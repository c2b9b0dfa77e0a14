public enum LogLevel: Int32, Sendable, Comparable {
    case trace = 0, debug, info, warn, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process-wide log sink. The library never writes to stdout/stderr itself: lines go to
/// the host's callback, one at a time (the lock is held while it runs), secrets masked. With
/// the transcript on (`PMX_TRANSCRIPT_DIR`), every line at every level also goes there.
public enum Log {
    public typealias Sink = @Sendable (LogLevel, String) -> Void
    private struct State { var sink: Sink?; var minLevel: LogLevel = .error }
    private static let state = Locked(State())
    // Serializes calls into the host callback; separate from `state` so that checking the
    // level stays cheap while a slow callback runs. A plain lock, not `Locked(())`: ThreadSanitizer
    // reported the inout access to a zero-sized `Locked` value as a race (the "variable" has no
    // storage of its own, so its address is the object's).
    private static let emitLock = ConditionLock()

    public static func setSink(_ sink: Sink?, minLevel: LogLevel) {
        emitLock.withLock {
            state.withLock { $0 = State(sink: sink, minLevel: minLevel) }
        }
        _ = Transcript.isOn  // the transcript's variable is read at the latest here
    }

    /// Whether a line at `level` goes anywhere: the host's callback, or the transcript.
    public static func enabled(_ level: LogLevel) -> Bool {
        Transcript.isOn || state.withLock { $0.sink != nil && level >= $0.minLevel }
    }

    /// `message` is built only when the level is enabled.
    public static func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard enabled(level) else { return }
        let text = Secrets.mask(message())
        Transcript.record(log: level, text)
        emitLock.withLock {
            let sink = state.withLock { s in (s.sink != nil && level >= s.minLevel) ? s.sink : nil }
            sink?(level, text)
        }
    }

    public static func trace(_ m: @autoclosure () -> String) { log(.trace, m()) }
    public static func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
    public static func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public static func warn(_ m: @autoclosure () -> String) { log(.warn, m()) }
    public static func error(_ m: @autoclosure () -> String) { log(.error, m()) }
}

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
