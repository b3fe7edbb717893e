"""Typed Embloy errors, mapped from the statuses Embloy's quicklink endpoint really answers.

Embloy (`POST /api/v0/sdk/request/auth/token`) answers 400 for a blank/malformed header, mode or job_slug,
401 for an invalid or expired client token, 403 for a restricted/blacklisted employer or a token whose
subscription tier is not allowed, 404 when the token's user no longer exists, 503 (plain text, not 429)
when its per-IP rate limit trips, and 500 for anything unhandled.
"""

from __future__ import annotations

from chalicelib.errors import (
    DeadlineExceededError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)


class EmbloyError(UpstreamError):
    """Any Embloy failure (502 unless a subclass says otherwise). `status` is Embloy's HTTP status."""

    code = "embloy_error"
    default_message = "Embloy could not start the application."

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EmbloyTokenRejectedError(EmbloyError):
    """401/403/404: the employer's client token is expired, invalid, restricted or its user is gone."""

    code = "embloy_token_invalid"
    default_message = "The employer's Embloy client token was rejected; the employer must upload a new one."


class EmbloyRequestRejectedError(EmbloyError):
    """400: Embloy refused our request (mode or job_slug); a mismatch between the board and Embloy."""

    code = "embloy_request_rejected"
    default_message = "Embloy rejected the application request for this posting."


class EmbloyBadResponseError(EmbloyError):
    """A 2xx without a usable request token."""

    code = "embloy_bad_response"
    default_message = "Embloy answered without a request token."


class EmbloyRateLimitedError(EmbloyError, UpstreamUnavailableError):
    """503: Embloy's rate limit (300 requests per 5 minutes per IP) or maintenance."""

    code = "embloy_unavailable"
    default_message = "Embloy is busy; try again shortly."

    def __init__(
        self, message: str | None = None, *, status: int | None = None, retry_after: int | None = None
    ) -> None:
        EmbloyError.__init__(self, message, status=status)
        self.retry_after = retry_after


class EmbloyTimeoutError(EmbloyError, UpstreamTimeoutError):
    """Embloy did not answer in time."""

    code = "embloy_timeout"
    default_message = "Embloy did not answer in time."


class EmbloyDeadlineError(EmbloyTimeoutError, DeadlineExceededError):
    """Embloy had not answered when the request's deadline ran out: 503 with Retry-After."""

    code = "embloy_unavailable"
    default_message = "Embloy did not answer in time; try again shortly."


class EmbloyUnreachableError(EmbloyError, UpstreamTimeoutError):
    """The connection to Embloy failed (hosted Embloy's API was shut down in June 2025)."""

    code = "embloy_unreachable"
    default_message = "Embloy could not be reached."


def error_for_status(status: int, retry_after: int | None) -> EmbloyError:
    """The typed error for an Embloy error status."""
    message = f"Embloy answered {status}."
    if status in (401, 403, 404):
        return EmbloyTokenRejectedError(status=status)
    if status == 400 or status == 422:
        return EmbloyRequestRejectedError(message, status=status)
    if status in (429, 503):
        return EmbloyRateLimitedError(status=status, retry_after=retry_after or 60)
    if status == 504:
        return EmbloyTimeoutError(status=status)
    return EmbloyError(message, status=status)
