# SPDX-License-Identifier: Apache-2.0
"""Status codes (include/providermux.h) and the exception classes, one per status class.

Every failure raises a subclass of :class:`ProviderMuxError`, chosen by its status code through
:data:`ERROR_CLASSES`; ``except providermux.ProviderMuxError`` still catches them all. Codes this
version does not know (the header is append-only) raise :class:`ProviderMuxError` itself.

The openai SDK's exception names are here too (:class:`APIError`, :class:`RateLimitError`,
:class:`BadRequestError`, ...; ``OpenAIError`` is :class:`ProviderMuxError`): each status class
also derives from the openai-named class abi/abi.json gives it (``python_openai_base``), so code
written against the openai SDK catches the same failures by the same names.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from . import _lib

# Status codes (include/providermux.h); append-only.
# BEGIN GENERATED abi:python-codes (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
OK = 0
ERR_INVALID_ARGUMENT = -1
ERR_INVALID_JSON = -2
ERR_INVALID_UTF8 = -3
ERR_CONFIG = -4
ERR_ENV_VAR_MISSING = -5
ERR_UNKNOWN_PROVIDER_TYPE = -6
ERR_INVALID_REQUEST = -7
ERR_NO_PROVIDER = -8
ERR_PROVIDER_NOT_FOUND = -9
ERR_DUPLICATE_PROVIDER = -10
ERR_CANCELLED = -11
ERR_TIMEOUT = -12
ERR_CONNECTION = -13
ERR_UPSTREAM_HTTP = -14
ERR_RATE_LIMITED = -15
ERR_AUTH = -16
ERR_UPSTREAM_PROTOCOL = -17
ERR_STREAM_INTERRUPTED = -18
ERR_UPSTREAM_BAD_REQUEST = -19
ERR_MODEL_NOT_FOUND = -20
ERR_UNSUPPORTED = -21
ERR_UPSTREAM_SERVER = -22
ERR_ROUTER_CLOSED = -23
ERR_RESPONSE_TOO_LARGE = -24
ERR_QUOTA_EXCEEDED = -25
ERR_PERMISSION = -26
ERR_MODEL_NOT_LOADED = -27
ERR_CONTEXT_LENGTH_EXCEEDED = -28
ERR_CONTENT_FILTERED = -29
ERR_BUDGET_EXCEEDED = -30
ERR_CIRCUIT_OPEN = -31
ERR_WOULD_DEADLOCK = -32
ERR_INTERNAL = -99
# END GENERATED abi:python-codes


def status_name(code: int) -> str:
    """Name of a status code, e.g. ``"PMX_ERR_TIMEOUT"`` (``"PMX_UNKNOWN_STATUS"`` if unknown)."""
    return _lib.pmx_status_name(int(code)).decode("utf-8")


class ProviderMuxError(Exception):
    """A failed library call or a stream that ended with an ``error`` event.

    Attributes: ``code`` (negative status), ``status_name``, ``http_status`` (0 when none),
    ``provider`` ("" when none), ``attempts`` (number of provider attempts), ``message``, and
    ``details`` (the error event dict for stream errors, else None).

    Raised as the subclass for its code (see :data:`ERROR_CLASSES`). A subclass may be built
    without a code (``RateLimitedError(message="slow down")``): it takes its own.
    """

    #: The status a subclass stands for (ERR_INTERNAL for the base class).
    default_code: int = ERR_INTERNAL

    code: int
    status_name: str
    message: str
    http_status: int
    provider: str
    attempts: int
    details: Optional[Dict[str, Any]]
    #: The ``error`` event a stream ended with (None for a failed call that was not a stream).
    event: Optional[Mapping[str, Any]] = None

    def __init__(self, code: Optional[int] = None, message: str = "", http_status: int = 0,
                 provider: str = "", attempts: int = 0,
                 details: Optional[Dict[str, Any]] = None) -> None:
        self.code = int(self.default_code if code is None else code)
        self.status_name = status_name(self.code)
        self.message = message or ""
        self.http_status = int(http_status or 0)
        self.provider = provider or ""
        self.attempts = int(attempts or 0)
        self.details = details
        super().__init__(
            "%s: %s" % (self.status_name, self.message) if self.message else self.status_name)

    def __reduce__(self):  # picklable (multiprocessing, concurrent.futures)
        return (type(self), (self.code, self.message, self.http_status, self.provider,
                             self.attempts, self.details))

    @staticmethod
    def class_for(code: int) -> Type["ProviderMuxError"]:
        """The exception class raised for a status code."""
        return ERROR_CLASSES.get(int(code), ProviderMuxError)

    @classmethod
    def from_code(cls, code: int, message: str = "", **fields: Any) -> "ProviderMuxError":
        """An exception of the class mapped to ``code`` (whatever class this is called on)."""
        return ProviderMuxError.class_for(code)(code, message, **fields)

    @classmethod
    def _from_struct(cls, code: int, err: Any) -> "ProviderMuxError":
        code = code or err.code
        return ProviderMuxError.class_for(code)(
            code,
            message=err.message.decode("utf-8", "replace"),
            http_status=err.http_status,
            provider=err.provider.decode("utf-8", "replace"),
            attempts=err.attempts)

    @classmethod
    def _from_event(cls, event: Mapping[str, Any]) -> "ProviderMuxError":
        attempts = event.get("attempts", 0)
        if isinstance(attempts, list):  # the vocabulary may give the attempt objects
            attempts = len(attempts)
        code = event.get("code", ERR_INTERNAL)
        exc = ProviderMuxError.class_for(code)(
            code,
            message=event.get("message", ""),
            http_status=event.get("http_status", 0),
            provider=event.get("provider", ""),
            attempts=attempts if isinstance(attempts, int) else 0,
            details=dict(event))
        exc.event = event
        return exc

    # -- the openai SDK's APIError attributes ---------------------------------------------------

    @property
    def body(self) -> Optional[Dict[str, Any]]:
        """openai's ``APIError.body``: the error event of a stream (else None)."""
        return self.details

    #: openai's ``param`` / ``request``: the library has neither.
    param: Optional[str] = None
    request: Any = None

    @property
    def type(self) -> Optional[str]:
        """openai's ``APIError.type``: the ``error_class`` of the error event (else None)."""
        return (self.details or {}).get("error_class")


#: The openai SDK's base exception name.
OpenAIError = ProviderMuxError


class UpstreamError(ProviderMuxError):
    """Base of the failures of the provider side: transport (timeout, connection), HTTP errors
    and answers that could not be understood."""
    default_code = ERR_UPSTREAM_HTTP


# -- the openai SDK's exception names (openai/_exceptions.py), as bases of the status classes ----
# Listed in abi/abi.json per status ("python_openai_base"); the classes only add openai's
# attributes. ``code`` stays the library's status (openai's is a string code or None).

class APIError(ProviderMuxError):
    """openai's ``APIError``: base of every failure of a request."""


class APIConnectionError(APIError):
    """openai's ``APIConnectionError``: the provider could not be reached."""
    default_code = ERR_CONNECTION


class APITimeoutError(APIConnectionError):
    """openai's ``APITimeoutError``: a timeout expired."""
    default_code = ERR_TIMEOUT


class APIStatusError(APIError):
    """openai's ``APIStatusError``: an error status. ``status_code`` is the provider's HTTP
    status, or the one the openai SDK would have seen for this class when none was received
    (e.g. 429 for a rate limit the router applied itself)."""
    default_code = ERR_UPSTREAM_HTTP
    default_http_status = 500

    #: openai's ``response`` (an httpx.Response there): the library hands out none.
    response: Any = None

    @property
    def status_code(self) -> int:
        return self.http_status or self.default_http_status


class BadRequestError(APIStatusError):
    """openai's ``BadRequestError`` (HTTP 400)."""
    default_code = ERR_INVALID_REQUEST
    default_http_status = 400


class AuthenticationError(APIStatusError):
    """openai's ``AuthenticationError`` (HTTP 401)."""
    default_code = ERR_AUTH
    default_http_status = 401


class NotFoundError(APIStatusError):
    """openai's ``NotFoundError`` (HTTP 404)."""
    default_code = ERR_MODEL_NOT_FOUND
    default_http_status = 404


class RateLimitError(APIStatusError):
    """openai's ``RateLimitError`` (HTTP 429)."""
    default_code = ERR_RATE_LIMITED
    default_http_status = 429


class InternalServerError(APIStatusError):
    """openai's ``InternalServerError`` (HTTP 5xx)."""
    default_code = ERR_UPSTREAM_SERVER
    default_http_status = 500



# -- one class per status, grouped by its base (ConfigError, UpstreamError) -----------------

# BEGIN GENERATED abi:python-classes (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
class InvalidArgumentError(BadRequestError, ProviderMuxError):
    """PMX_ERR_INVALID_ARGUMENT: a missing or out-of-range argument (e.g. a bad stats option)."""
    default_code = ERR_INVALID_ARGUMENT


class InvalidJSONError(BadRequestError, ProviderMuxError):
    """PMX_ERR_INVALID_JSON: an input document is not JSON (the message gives line and column)."""
    default_code = ERR_INVALID_JSON


class InvalidUTF8Error(BadRequestError, ProviderMuxError):
    """PMX_ERR_INVALID_UTF8: an input document is not valid UTF-8."""
    default_code = ERR_INVALID_UTF8


class ConfigError(ProviderMuxError):
    """PMX_ERR_CONFIG: the router or provider config is invalid; the message starts with the
    field, e.g. ``"budget.window: ..."``. Base of the other config failures."""
    default_code = ERR_CONFIG


class EnvVarMissingError(ConfigError):
    """PMX_ERR_ENV_VAR_MISSING: a ``"${VAR}"`` in the config names an unset variable."""
    default_code = ERR_ENV_VAR_MISSING


class UnknownProviderTypeError(ConfigError):
    """PMX_ERR_UNKNOWN_PROVIDER_TYPE: a provider ``"type"`` this library does not know."""
    default_code = ERR_UNKNOWN_PROVIDER_TYPE


class InvalidRequestError(BadRequestError, ProviderMuxError):
    """PMX_ERR_INVALID_REQUEST: the request is well-formed JSON but invalid."""
    default_code = ERR_INVALID_REQUEST


class NoProviderError(NotFoundError, ProviderMuxError):
    """PMX_ERR_NO_PROVIDER: no configured provider serves the requested model."""
    default_code = ERR_NO_PROVIDER


class ProviderNotFoundError(NotFoundError, ProviderMuxError):
    """PMX_ERR_PROVIDER_NOT_FOUND: a provider named in a call or in ``"route"`` does not exist."""
    default_code = ERR_PROVIDER_NOT_FOUND


class DuplicateProviderError(ConfigError):
    """PMX_ERR_DUPLICATE_PROVIDER: two providers with one name (config or add_provider)."""
    default_code = ERR_DUPLICATE_PROVIDER


class StreamCancelledError(ProviderMuxError):
    """PMX_ERR_CANCELLED: the request was cancelled (cancel(), a truthy callback return, the
    router closed, an asyncio task cancelled). Not :class:`asyncio.CancelledError`."""
    default_code = ERR_CANCELLED


class ProviderTimeoutError(APITimeoutError, UpstreamError):
    """PMX_ERR_TIMEOUT: a timeout expired (connect, first byte, idle or total). Not the builtin
    :class:`TimeoutError`."""
    default_code = ERR_TIMEOUT


class ProviderConnectionError(APIConnectionError, UpstreamError):
    """PMX_ERR_CONNECTION: connecting to the provider failed (refused, reset, DNS, TLS). Not the
    builtin :class:`ConnectionError`."""
    default_code = ERR_CONNECTION


class UpstreamHTTPError(APIStatusError, UpstreamError):
    """PMX_ERR_UPSTREAM_HTTP: an HTTP error without a more specific class."""
    default_code = ERR_UPSTREAM_HTTP


class RateLimitedError(RateLimitError, UpstreamError):
    """PMX_ERR_RATE_LIMITED: the provider rate-limited the request (HTTP 429)."""
    default_code = ERR_RATE_LIMITED


class AuthError(AuthenticationError, UpstreamError):
    """PMX_ERR_AUTH: the provider rejected the credentials (HTTP 401)."""
    default_code = ERR_AUTH


class UpstreamProtocolError(APIError, UpstreamError):
    """PMX_ERR_UPSTREAM_PROTOCOL: the provider's answer could not be understood."""
    default_code = ERR_UPSTREAM_PROTOCOL


class StreamInterruptedError(APIError, UpstreamError):
    """PMX_ERR_STREAM_INTERRUPTED: the provider failed inside a stream that had produced output."""
    default_code = ERR_STREAM_INTERRUPTED


class UpstreamBadRequestError(BadRequestError, UpstreamError):
    """PMX_ERR_UPSTREAM_BAD_REQUEST: the provider rejected the request (HTTP 400/413/422)."""
    default_code = ERR_UPSTREAM_BAD_REQUEST


class ModelNotFoundError(NotFoundError, UpstreamError):
    """PMX_ERR_MODEL_NOT_FOUND: the provider does not serve the model (HTTP 404)."""
    default_code = ERR_MODEL_NOT_FOUND


class UnsupportedError(BadRequestError, ProviderMuxError):
    """PMX_ERR_UNSUPPORTED: the provider cannot do this (e.g. embeddings on a chat provider)."""
    default_code = ERR_UNSUPPORTED


class UpstreamServerError(InternalServerError, UpstreamError):
    """PMX_ERR_UPSTREAM_SERVER: the provider's server failed (HTTP 5xx)."""
    default_code = ERR_UPSTREAM_SERVER


class RouterClosedError(ProviderMuxError):
    """PMX_ERR_ROUTER_CLOSED: the router is closed or shutting down."""
    default_code = ERR_ROUTER_CLOSED


class ResponseTooLargeError(APIError, UpstreamError):
    """PMX_ERR_RESPONSE_TOO_LARGE: a response exceeded the configured size limit."""
    default_code = ERR_RESPONSE_TOO_LARGE


class QuotaExceededError(RateLimitError, UpstreamError):
    """PMX_ERR_QUOTA_EXCEEDED: the account's quota or credit is used up."""
    default_code = ERR_QUOTA_EXCEEDED


class PermissionDeniedError(APIStatusError, UpstreamError):
    """PMX_ERR_PERMISSION: valid credentials not allowed this model or operation (HTTP 403). Not
    the builtin :class:`PermissionError`."""
    default_code = ERR_PERMISSION


class ModelNotLoadedError(InternalServerError, UpstreamError):
    """PMX_ERR_MODEL_NOT_LOADED: the model exists but a local server is still loading it."""
    default_code = ERR_MODEL_NOT_LOADED


class ContextLengthExceededError(BadRequestError, UpstreamError):
    """PMX_ERR_CONTEXT_LENGTH_EXCEEDED: the prompt does not fit the model's context window."""
    default_code = ERR_CONTEXT_LENGTH_EXCEEDED


class ContentFilteredError(BadRequestError, UpstreamError):
    """PMX_ERR_CONTENT_FILTERED: the provider refused the content (safety filters)."""
    default_code = ERR_CONTENT_FILTERED


class BudgetExceededError(APIError, ProviderMuxError):
    """PMX_ERR_BUDGET_EXCEEDED: the router's or lane's spending budget is used up."""
    default_code = ERR_BUDGET_EXCEEDED


class CircuitOpenError(InternalServerError, ProviderMuxError):
    """PMX_ERR_CIRCUIT_OPEN: every candidate's circuit breaker is open."""
    default_code = ERR_CIRCUIT_OPEN


class WouldDeadlockError(BadRequestError, ProviderMuxError):
    """PMX_ERR_WOULD_DEADLOCK: a blocking call was made from inside a callback the library runs
    on one of its I/O threads (an async stream's event callback, a log callback): it would wait
    for itself, so it returned at once. Call it from another thread instead."""
    default_code = ERR_WOULD_DEADLOCK


class InternalError(APIError, ProviderMuxError):
    """PMX_ERR_INTERNAL: a bug in the library; please report it."""
    default_code = ERR_INTERNAL


#: Status code -> exception class, covering every PMX_ERR_* code of include/providermux.h.
ERROR_CLASSES: Mapping[int, Type[ProviderMuxError]] = {
    cls.default_code: cls for cls in (
        InvalidArgumentError, InvalidJSONError, InvalidUTF8Error, ConfigError,
        EnvVarMissingError, UnknownProviderTypeError, InvalidRequestError, NoProviderError,
        ProviderNotFoundError, DuplicateProviderError, StreamCancelledError,
        ProviderTimeoutError, ProviderConnectionError, UpstreamHTTPError, RateLimitedError,
        AuthError, UpstreamProtocolError, StreamInterruptedError, UpstreamBadRequestError,
        ModelNotFoundError, UnsupportedError, UpstreamServerError, RouterClosedError,
        ResponseTooLargeError, QuotaExceededError, PermissionDeniedError, ModelNotLoadedError,
        ContextLengthExceededError, ContentFilteredError, BudgetExceededError, CircuitOpenError,
        WouldDeadlockError, InternalError,
    )
}

__all__ = [
    "OK", "status_name", "ERROR_CLASSES", "ERR_INVALID_ARGUMENT", "ERR_INVALID_JSON",
    "ERR_INVALID_UTF8", "ERR_CONFIG", "ERR_ENV_VAR_MISSING", "ERR_UNKNOWN_PROVIDER_TYPE",
    "ERR_INVALID_REQUEST", "ERR_NO_PROVIDER", "ERR_PROVIDER_NOT_FOUND",
    "ERR_DUPLICATE_PROVIDER", "ERR_CANCELLED", "ERR_TIMEOUT", "ERR_CONNECTION",
    "ERR_UPSTREAM_HTTP", "ERR_RATE_LIMITED", "ERR_AUTH", "ERR_UPSTREAM_PROTOCOL",
    "ERR_STREAM_INTERRUPTED", "ERR_UPSTREAM_BAD_REQUEST", "ERR_MODEL_NOT_FOUND",
    "ERR_UNSUPPORTED", "ERR_UPSTREAM_SERVER", "ERR_ROUTER_CLOSED", "ERR_RESPONSE_TOO_LARGE",
    "ERR_QUOTA_EXCEEDED", "ERR_PERMISSION", "ERR_MODEL_NOT_LOADED",
    "ERR_CONTEXT_LENGTH_EXCEEDED", "ERR_CONTENT_FILTERED", "ERR_BUDGET_EXCEEDED",
    "ERR_CIRCUIT_OPEN", "ERR_WOULD_DEADLOCK", "ERR_INTERNAL", "ProviderMuxError",
    "UpstreamError", "InvalidArgumentError", "InvalidJSONError", "InvalidUTF8Error",
    "ConfigError", "EnvVarMissingError", "UnknownProviderTypeError", "InvalidRequestError",
    "NoProviderError", "ProviderNotFoundError", "DuplicateProviderError",
    "StreamCancelledError", "ProviderTimeoutError", "ProviderConnectionError",
    "UpstreamHTTPError", "RateLimitedError", "AuthError", "UpstreamProtocolError",
    "StreamInterruptedError", "UpstreamBadRequestError", "ModelNotFoundError",
    "UnsupportedError", "UpstreamServerError", "RouterClosedError", "ResponseTooLargeError",
    "QuotaExceededError", "PermissionDeniedError", "ModelNotLoadedError",
    "ContextLengthExceededError", "ContentFilteredError", "BudgetExceededError",
    "CircuitOpenError", "WouldDeadlockError", "InternalError",
]
# END GENERATED abi:python-classes

#: A 403 (openai's ``PermissionDeniedError`` is this class: the names coincide).
PermissionDeniedError.default_http_status = 403

#: The openai-named classes (they are also listed in providermux.__all__).
OPENAI_ERROR_NAMES = ("OpenAIError", "APIError", "APIConnectionError", "APITimeoutError",
                      "APIStatusError", "BadRequestError", "AuthenticationError",
                      "PermissionDeniedError", "NotFoundError", "RateLimitError",
                      "InternalServerError")
__all__ += ["OpenAIError", "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError",
            "BadRequestError", "AuthenticationError", "NotFoundError", "RateLimitError",
            "InternalServerError", "OPENAI_ERROR_NAMES"]  # a literal: mypy reads it

for _cls in (set(ERROR_CLASSES.values()) | {ProviderMuxError, UpstreamError, APIError,
             APIConnectionError, APITimeoutError, APIStatusError, BadRequestError,
             AuthenticationError, NotFoundError, RateLimitError, InternalServerError}):
    _cls.__module__ = "providermux"  # as users import them (tracebacks, pickling)
del _cls
