// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import MuxBase
import MuxRouting
#endif

/// An event's JSON text as every host gets it (the JSON callback's `event_json`, the pull
/// stream's `json`): written into one byte sink reused event after event, keys masked (the
/// matcher fetched without a lock while the keys stay the same), NUL-terminated. No
/// allocation per event once warm; a `[UInt8]` took ~90 instructions per appended piece.
/// One stream's events, one at a time.
final class EventJSONText {
    @exclusivity(unchecked) private var sink = JSONByteSink(capacity: 512)
    @exclusivity(unchecked) private var masked: [UInt8] = []
    @exclusivity(unchecked) private var matchers = Secrets.MatcherCache()

    /// Hands `body` the text of `event` (a NUL follows it in memory), valid for the call only.
    func with<R>(_ event: ExecutionEvent, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        sink.removeAll()
        event.writeJSON(into: &sink)
        if let m = matchers.current(), let out = m.mask(UnsafeRawBufferPointer(start: sink.base, count: sink.count), .json) {
            masked = out
            masked.append(0)
            return masked.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        }
        sink.append(0)
        return body(UnsafeBufferPointer(start: sink.base, count: sink.count &- 1))
    }
}
