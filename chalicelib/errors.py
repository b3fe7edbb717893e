"""Domain error tree. No chalice/httpx/boto3 imports: adapters translate into these errors."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the API turns into a response; `code` is stable for frontends to act on."""

    code = "error"
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code is not None:
            self.code = code


class InvalidRequestError(AppError):
    """The request is malformed (400)."""

    code = "invalid_request"
    default_message = "The request is invalid."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.fields = fields or {}


class UnprocessableError(InvalidRequestError):
    """Valid JSON that is semantically wrong (422)."""

    code = "unprocessable"
    default_message = "The request could not be processed."


class PayloadTooLargeError(AppError):
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnauthenticatedError(AppError):
    code = "unauthenticated"
    default_message = "Missing or invalid credentials."


class ForbiddenError(AppError):
    code = "forbidden"
    default_message = "Not allowed."


class NotFoundError(AppError):
    code = "not_found"
    default_message = "Not found."


class ConflictError(AppError):
    code = "conflict"
    default_message = "The request conflicts with the current state."


class ThrottledError(AppError):
    """Too many requests (429); `retry_after` seconds go into the Retry-After header."""

    code = "throttled"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, code: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class UpstreamError(AppError):
    """A third party (StackOne, Embloy, AWS) failed (502)."""

    code = "upstream_error"
    default_message = "An upstream service failed."


class UpstreamUnavailableError(UpstreamError):
    """A third party is throttling us or temporarily down (503); may carry Retry-After."""

    code = "upstream_unavailable"
    default_message = "An upstream service is temporarily unavailable."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class DeadlineExceededError(UpstreamUnavailableError):
    """The request's deadline (`REQUEST_DEADLINE_SECONDS`) ran out waiting on a dependency (503).

    Integrations subclass it with their own code (e.g. `stackone_unavailable`); the HTTP table maps it
    before `UpstreamTimeoutError`, so a timeout cut short by the deadline is a 503 with Retry-After.
    """

    code = "deadline_exceeded"
    default_message = "A service the request depends on did not answer in time; try again shortly."


class UpstreamTimeoutError(UpstreamError):
    """A third party did not answer in time (504)."""

    code = "upstream_timeout"
    default_message = "An upstream service did not answer in time."


class UnstorableItemsError(Exception):
    """Some items of a batch could not be stored (bad text, too large); the others were written.

    `rejected` maps each refused item's id to a short reason (never its content).
    """

    def __init__(self, rejected: dict[str, str]) -> None:
        super().__init__(f"{len(rejected)} item(s) could not be stored")
        self.rejected = rejected
