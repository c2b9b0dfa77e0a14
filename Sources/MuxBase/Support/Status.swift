// SPDX-License-Identifier: Apache-2.0

/// Status codes of the C ABI. Append-only: a value is never reused or renumbered.
/// Written from abi/abi.json like the PMX_* macros of include/providermux.h (ctest abi_tables).
// BEGIN GENERATED abi:swift-status (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
public enum Status: Int32, Sendable, CaseIterable {
    case ok = 0
    case invalidArgument = -1
    case invalidJSON = -2
    case invalidUTF8 = -3
    case config = -4
    case envVarMissing = -5
    case unknownProviderType = -6
    case invalidRequest = -7
    case noProvider = -8
    case providerNotFound = -9
    case duplicateProvider = -10
    case cancelled = -11
    case timeout = -12
    case connection = -13
    case upstreamHTTP = -14
    case rateLimited = -15
    case auth = -16
    case upstreamProtocol = -17
    case streamInterrupted = -18
    case upstreamBadRequest = -19
    case modelNotFound = -20
    case unsupported = -21
    case upstreamServer = -22
    case routerClosed = -23
    case responseTooLarge = -24
    case quotaExceeded = -25
    case permission = -26
    case modelNotLoaded = -27
    case contextLengthExceeded = -28
    case contentFiltered = -29
    case budgetExceeded = -30
    case circuitOpen = -31
    case wouldDeadlock = -32
    case `internal` = -99

    /// The macro name, e.g. "PMX_ERR_TIMEOUT".
    public var name: StaticString {
        switch self {
        case .ok: "PMX_OK"
        case .invalidArgument: "PMX_ERR_INVALID_ARGUMENT"
        case .invalidJSON: "PMX_ERR_INVALID_JSON"
        case .invalidUTF8: "PMX_ERR_INVALID_UTF8"
        case .config: "PMX_ERR_CONFIG"
        case .envVarMissing: "PMX_ERR_ENV_VAR_MISSING"
        case .unknownProviderType: "PMX_ERR_UNKNOWN_PROVIDER_TYPE"
        case .invalidRequest: "PMX_ERR_INVALID_REQUEST"
        case .noProvider: "PMX_ERR_NO_PROVIDER"
        case .providerNotFound: "PMX_ERR_PROVIDER_NOT_FOUND"
        case .duplicateProvider: "PMX_ERR_DUPLICATE_PROVIDER"
        case .cancelled: "PMX_ERR_CANCELLED"
        case .timeout: "PMX_ERR_TIMEOUT"
        case .connection: "PMX_ERR_CONNECTION"
        case .upstreamHTTP: "PMX_ERR_UPSTREAM_HTTP"
        case .rateLimited: "PMX_ERR_RATE_LIMITED"
        case .auth: "PMX_ERR_AUTH"
        case .upstreamProtocol: "PMX_ERR_UPSTREAM_PROTOCOL"
        case .streamInterrupted: "PMX_ERR_STREAM_INTERRUPTED"
        case .upstreamBadRequest: "PMX_ERR_UPSTREAM_BAD_REQUEST"
        case .modelNotFound: "PMX_ERR_MODEL_NOT_FOUND"
        case .unsupported: "PMX_ERR_UNSUPPORTED"
        case .upstreamServer: "PMX_ERR_UPSTREAM_SERVER"
        case .routerClosed: "PMX_ERR_ROUTER_CLOSED"
        case .responseTooLarge: "PMX_ERR_RESPONSE_TOO_LARGE"
        case .quotaExceeded: "PMX_ERR_QUOTA_EXCEEDED"
        case .permission: "PMX_ERR_PERMISSION"
        case .modelNotLoaded: "PMX_ERR_MODEL_NOT_LOADED"
        case .contextLengthExceeded: "PMX_ERR_CONTEXT_LENGTH_EXCEEDED"
        case .contentFiltered: "PMX_ERR_CONTENT_FILTERED"
        case .budgetExceeded: "PMX_ERR_BUDGET_EXCEEDED"
        case .circuitOpen: "PMX_ERR_CIRCUIT_OPEN"
        case .wouldDeadlock: "PMX_ERR_WOULD_DEADLOCK"
        case .internal: "PMX_ERR_INTERNAL"
        }
    }

    public var nameString: String { name.description }

    /// The provider-independent error class users branch on (the `error_class` of error events).
    public var errorClass: String {
        switch self {
        case .ok: "ok"
        case .invalidArgument: "invalid_request"
        case .invalidJSON: "invalid_request"
        case .invalidUTF8: "invalid_request"
        case .config: "config"
        case .envVarMissing: "config"
        case .unknownProviderType: "config"
        case .invalidRequest: "invalid_request"
        case .noProvider: "no_provider"
        case .providerNotFound: "no_provider"
        case .duplicateProvider: "config"
        case .cancelled: "cancelled"
        case .timeout: "timeout"
        case .connection: "network"
        case .upstreamHTTP: "unavailable"
        case .rateLimited: "rate_limited"
        case .auth: "auth"
        case .upstreamProtocol: "protocol"
        case .streamInterrupted: "protocol"
        case .upstreamBadRequest: "invalid_request"
        case .modelNotFound: "model_not_found"
        case .unsupported: "unsupported"
        case .upstreamServer: "unavailable"
        case .routerClosed: "router_closed"
        case .responseTooLarge: "protocol"
        case .quotaExceeded: "quota_exceeded"
        case .permission: "permission"
        case .modelNotLoaded: "model_not_loaded"
        case .contextLengthExceeded: "context_length_exceeded"
        case .contentFiltered: "content_filtered"
        case .budgetExceeded: "budget_exceeded"
        case .circuitOpen: "unavailable"
        case .wouldDeadlock: "invalid_request"
        case .internal: "internal"
        }
    }
}
// END GENERATED abi:swift-status
