// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What to do with a request parameter the chosen provider cannot take.
public enum UnsupportedParameterPolicy: String, Sendable {
    /// Leave it out of that provider's request (logged at debug level). The default: the same
    /// request can then fail over between providers that differ in what they take.
    case drop
    /// Fail the attempt with `PMX_ERR_UNSUPPORTED` naming the parameter (the router then tries
    /// the next provider).
    case reject
}

package func parsePolicy(_ r: inout FieldReader, _ key: String) throws -> UnsupportedParameterPolicy? {
    guard let s = try r.string(key) else { return nil }
    guard let p = UnsupportedParameterPolicy(rawValue: s) else { throw r.fail(key, "expected \"drop\" or \"reject\", got \"\(s)\"") }
    return p
}
