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
