"""Typed StackOne errors, one per status family; the HTTP table maps them through their domain bases."""

from __future__ import annotations

from chalicelib.errors import (
    DeadlineExceededError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)


class StackOneError(UpstreamError):
    """Any StackOne failure. `status` is StackOne's HTTP status (None for transport failures)."""

    code = "stackone_error"
    default_message = "StackOne request failed."
    status: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.error_code = error_code  # StackOne's own errorCode, e.g. AccountExpiredCredentialsError
        self.retry_after = retry_after


class StackOneBadResponseError(StackOneError):
    """StackOne answered, but with a body the board cannot read (not JSON, or not the documented shape).

    A 502 to the board's callers: the request was fine, StackOne's answer was not.
    """

    code = "stackone_bad_response"
    default_message = "StackOne answered with a response the board cannot read."


class StackOneBadRequestError(StackOneError):
    code = "stackone_bad_request"
    default_message = "StackOne rejected the request."


class StackOneAuthError(StackOneError):
    """401: bad API key, or the linked account's credentials are invalid or expired."""

    code = "stackone_unauthorized"
    default_message = "StackOne rejected the credentials."


class StackOneForbiddenError(StackOneError):
    code = "stackone_forbidden"
    default_message = "StackOne refused access."


class StackOneNotFoundError(StackOneError):
    code = "stackone_not_found"
    default_message = "StackOne does not know this resource."


class StackOneConflictError(StackOneError):
    code = "stackone_conflict"
    default_message = "StackOne reported a conflict."


class StackOnePreconditionError(StackOneError):
    """412: the linked account belongs to a disabled integration."""

    code = "stackone_precondition_failed"
    default_message = "The linked account's integration is disabled."


class StackOneUnsupportedError(StackOneError):
    """501: the provider does not support this operation."""

    code = "stackone_unsupported"
    default_message = "The ATS does not support this operation."


class StackOneRateLimitedError(StackOneError, UpstreamUnavailableError):
    code = "stackone_rate_limited"
    default_message = "StackOne is rate limiting requests."


class StackOneTimeoutError(StackOneError, UpstreamTimeoutError):
    """408 (StackOne's 60 s request lifetime ran out) or our own timeout."""

    code = "stackone_timeout"
    default_message = "StackOne did not answer in time."


class StackOneDeadlineError(StackOneTimeoutError, DeadlineExceededError):
    """StackOne had not answered when the API request's deadline ran out: 503 with Retry-After.

    Still a timeout for the callers that care whether a write may have happened (see services/apply.py).
    """

    code = "stackone_unavailable"
    default_message = "StackOne did not answer in time; try again shortly."


class StackOneServerError(StackOneError, UpstreamUnavailableError):
    """5xx from StackOne or the provider behind it."""

    code = "stackone_unavailable"
    default_message = "StackOne or the ATS behind it failed."


class StackOneTransportError(StackOneError, UpstreamUnavailableError):
    """The connection failed before a response arrived (`sent` False: the request never left)."""

    code = "stackone_unreachable"
    default_message = "StackOne could not be reached."
    sent = True


class StackOneBudgetExceededError(StackOneTimeoutError):
    """The caller's time budget ran out before (or while) talking to StackOne."""

    code = "stackone_budget_exceeded"
    default_message = "The time budget for StackOne requests ran out."


AUTH_FAILURES = (StackOneAuthError, StackOneForbiddenError, StackOnePreconditionError)

_BY_STATUS: dict[int, type[StackOneError]] = {
    400: StackOneBadRequestError,
    401: StackOneAuthError,
    403: StackOneForbiddenError,
    404: StackOneNotFoundError,
    408: StackOneTimeoutError,
    409: StackOneConflictError,
    412: StackOnePreconditionError,
    422: StackOneBadRequestError,
    429: StackOneRateLimitedError,
    501: StackOneUnsupportedError,
}


def error_class_for_status(status: int) -> type[StackOneError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return StackOneServerError
    return StackOneError
