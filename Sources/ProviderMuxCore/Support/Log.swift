public enum LogLevel: Int32, Sendable, Comparable {
    case trace = 0, debug, info, warn, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process-wide log sink. The library never writes to stdout/stderr itself: lines go to
/// the host's callback, one at a time (the lock is held while it runs), secrets masked.
public enum Log {
    public typealias Sink = @Sendable (LogLevel, String) -> Void
    private struct State { var sink: Sink?; var minLevel: LogLevel = .error }
    private static let state = Locked(State())
    // Serializes calls into the host callback; separate from `state` so that checking the
    // level stays cheap while a slow callback runs.
    private static let emitLock = Locked(())

    public static func setSink(_ sink: Sink?, minLevel: LogLevel) {
        emitLock.withLock { _ in
            state.withLock { $0 = State(sink: sink, minLevel: minLevel) }
        }
    }

    public static func enabled(_ level: LogLevel) -> Bool {
        state.withLock { $0.sink != nil && level >= $0.minLevel }
    }

    /// `message` is built only when the level is enabled.
    public static func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard enabled(level) else { return }
        let text = Secrets.mask(message())
        emitLock.withLock { _ in
            let sink = state.withLock { s in (s.sink != nil && level >= s.minLevel) ? s.sink : nil }
            sink?(level, text)
        }
    }

    public static func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
    public static func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public static func warn(_ m: @autoclosure () -> String) { log(.warn, m()) }
    public static func error(_ m: @autoclosure () -> String) { log(.error, m()) }
}

/// Known secret values (API keys from configs), masked wherever text leaves the library:
/// a defence in depth behind never putting them in messages in the first place.
public enum Secrets {
    private static let known = Locked<Set<String>>([])

    public static func register(_ secret: String) {
        guard secret.utf8.count >= 4 else { return }
        _ = known.withLock { $0.insert(secret) }
    }

    /// "sk-abcdef123456" → "****3456".
    public static func masked(_ secret: String) -> String {
        "****" + String(secret.suffix(4))
    }

    public static func mask(_ text: String) -> String {
        let secrets = known.withLock { $0 }
        var out = text
        for s in secrets where out.contains(s) {
            out = out.replacing(s, with: masked(s))
        }
        return out
    }
}
