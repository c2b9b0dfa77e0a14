// SPDX-License-Identifier: Apache-2.0

// Status codes of include/providermux.h (append-only: never reused, never renumbered).

package providermux

// BEGIN GENERATED abi:go-status (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
// Status codes (pmx_status). 0 is OK, errors are negative; values are append-only.
const (
	CodeOK                    int32 = 0
	CodeInvalidArgument       int32 = -1  // PMX_ERR_INVALID_ARGUMENT
	CodeInvalidJSON           int32 = -2  // PMX_ERR_INVALID_JSON
	CodeInvalidUTF8           int32 = -3  // PMX_ERR_INVALID_UTF8
	CodeConfig                int32 = -4  // PMX_ERR_CONFIG
	CodeEnvVarMissing         int32 = -5  // PMX_ERR_ENV_VAR_MISSING
	CodeUnknownProviderType   int32 = -6  // PMX_ERR_UNKNOWN_PROVIDER_TYPE
	CodeInvalidRequest        int32 = -7  // PMX_ERR_INVALID_REQUEST
	CodeNoProvider            int32 = -8  // PMX_ERR_NO_PROVIDER
	CodeProviderNotFound      int32 = -9  // PMX_ERR_PROVIDER_NOT_FOUND
	CodeDuplicateProvider     int32 = -10 // PMX_ERR_DUPLICATE_PROVIDER
	CodeCancelled             int32 = -11 // PMX_ERR_CANCELLED
	CodeTimeout               int32 = -12 // PMX_ERR_TIMEOUT
	CodeConnection            int32 = -13 // PMX_ERR_CONNECTION
	CodeUpstreamHTTP          int32 = -14 // PMX_ERR_UPSTREAM_HTTP
	CodeRateLimited           int32 = -15 // PMX_ERR_RATE_LIMITED
	CodeAuth                  int32 = -16 // PMX_ERR_AUTH
	CodeUpstreamProtocol      int32 = -17 // PMX_ERR_UPSTREAM_PROTOCOL
	CodeStreamInterrupted     int32 = -18 // PMX_ERR_STREAM_INTERRUPTED
	CodeUpstreamBadRequest    int32 = -19 // PMX_ERR_UPSTREAM_BAD_REQUEST
	CodeModelNotFound         int32 = -20 // PMX_ERR_MODEL_NOT_FOUND
	CodeUnsupported           int32 = -21 // PMX_ERR_UNSUPPORTED
	CodeUpstreamServer        int32 = -22 // PMX_ERR_UPSTREAM_SERVER
	CodeRouterClosed          int32 = -23 // PMX_ERR_ROUTER_CLOSED
	CodeResponseTooLarge      int32 = -24 // PMX_ERR_RESPONSE_TOO_LARGE
	CodeQuotaExceeded         int32 = -25 // PMX_ERR_QUOTA_EXCEEDED
	CodePermission            int32 = -26 // PMX_ERR_PERMISSION
	CodeModelNotLoaded        int32 = -27 // PMX_ERR_MODEL_NOT_LOADED
	CodeContextLengthExceeded int32 = -28 // PMX_ERR_CONTEXT_LENGTH_EXCEEDED
	CodeContentFiltered       int32 = -29 // PMX_ERR_CONTENT_FILTERED
	CodeBudgetExceeded        int32 = -30 // PMX_ERR_BUDGET_EXCEEDED
	CodeCircuitOpen           int32 = -31 // PMX_ERR_CIRCUIT_OPEN
	CodeWouldDeadlock         int32 = -32 // PMX_ERR_WOULD_DEADLOCK
	CodeInternal              int32 = -99 // PMX_ERR_INTERNAL
)

// Sentinel errors, one per status code: errors.Is(err, ErrTimeout) is true for any *Error
// whose Code is CodeTimeout.
var (
	ErrInvalidArgument       = sentinel(CodeInvalidArgument)
	ErrInvalidJSON           = sentinel(CodeInvalidJSON)
	ErrInvalidUTF8           = sentinel(CodeInvalidUTF8)
	ErrConfig                = sentinel(CodeConfig)
	ErrEnvVarMissing         = sentinel(CodeEnvVarMissing)
	ErrUnknownProviderType   = sentinel(CodeUnknownProviderType)
	ErrInvalidRequest        = sentinel(CodeInvalidRequest)
	ErrNoProvider            = sentinel(CodeNoProvider)
	ErrProviderNotFound      = sentinel(CodeProviderNotFound)
	ErrDuplicateProvider     = sentinel(CodeDuplicateProvider)
	ErrCancelled             = sentinel(CodeCancelled)
	ErrTimeout               = sentinel(CodeTimeout)
	ErrConnection            = sentinel(CodeConnection)
	ErrUpstreamHTTP          = sentinel(CodeUpstreamHTTP)
	ErrRateLimited           = sentinel(CodeRateLimited)
	ErrAuth                  = sentinel(CodeAuth)
	ErrUpstreamProtocol      = sentinel(CodeUpstreamProtocol)
	ErrStreamInterrupted     = sentinel(CodeStreamInterrupted)
	ErrUpstreamBadRequest    = sentinel(CodeUpstreamBadRequest)
	ErrModelNotFound         = sentinel(CodeModelNotFound)
	ErrUnsupported           = sentinel(CodeUnsupported)
	ErrUpstreamServer        = sentinel(CodeUpstreamServer)
	ErrRouterClosed          = sentinel(CodeRouterClosed)
	ErrResponseTooLarge      = sentinel(CodeResponseTooLarge)
	ErrQuotaExceeded         = sentinel(CodeQuotaExceeded)
	ErrPermission            = sentinel(CodePermission)
	ErrModelNotLoaded        = sentinel(CodeModelNotLoaded)
	ErrContextLengthExceeded = sentinel(CodeContextLengthExceeded)
	ErrContentFiltered       = sentinel(CodeContentFiltered)
	ErrBudgetExceeded        = sentinel(CodeBudgetExceeded)
	ErrCircuitOpen           = sentinel(CodeCircuitOpen)
	ErrWouldDeadlock         = sentinel(CodeWouldDeadlock)
	ErrInternal              = sentinel(CodeInternal)
)

// allSentinels lists every sentinel, in header order.
var allSentinels = []*Error{
	ErrInvalidArgument,
	ErrInvalidJSON,
	ErrInvalidUTF8,
	ErrConfig,
	ErrEnvVarMissing,
	ErrUnknownProviderType,
	ErrInvalidRequest,
	ErrNoProvider,
	ErrProviderNotFound,
	ErrDuplicateProvider,
	ErrCancelled,
	ErrTimeout,
	ErrConnection,
	ErrUpstreamHTTP,
	ErrRateLimited,
	ErrAuth,
	ErrUpstreamProtocol,
	ErrStreamInterrupted,
	ErrUpstreamBadRequest,
	ErrModelNotFound,
	ErrUnsupported,
	ErrUpstreamServer,
	ErrRouterClosed,
	ErrResponseTooLarge,
	ErrQuotaExceeded,
	ErrPermission,
	ErrModelNotLoaded,
	ErrContextLengthExceeded,
	ErrContentFiltered,
	ErrBudgetExceeded,
	ErrCircuitOpen,
	ErrWouldDeadlock,
	ErrInternal,
}

// END GENERATED abi:go-status

// BEGIN GENERATED abi:go-event-types (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
// Typed event types (pmx_event.type), the JSON events' "type" as numbers.
const (
	EventStart    int32 = 1 // start
	EventDelta    int32 = 2 // delta
	EventRetry    int32 = 3 // retry
	EventFallback int32 = 4 // fallback
	EventUsage    int32 = 5 // usage
	EventDone     int32 = 6 // done
	EventError    int32 = 7 // error
)

// END GENERATED abi:go-event-types
