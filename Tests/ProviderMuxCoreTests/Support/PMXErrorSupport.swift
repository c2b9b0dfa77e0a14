// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Testing

/// Runs `body`, which must throw a PMXError; returns it (nil, with an issue recorded, otherwise).
func pmxError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        try body()
        Issue.record("expected a PMXError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as PMXError {
        return e
    } catch {
        Issue.record("expected a PMXError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
