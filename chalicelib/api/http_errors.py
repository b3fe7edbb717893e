"""The single table from domain errors to HTTP responses, and the decorator every view wears."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint, ChaliceViewError, Response
from pydantic import ValidationError

from chalicelib import errors
from chalicelib.http_headers import JSON_HEADERS
from chalicelib.observability import logger

# Most specific first: the first matching class wins.
STATUS_BY_ERROR: tuple[tuple[type[errors.AppError], int], ...] = (
    (errors.UnprocessableError, 422),
    (errors.InvalidRequestError, 400),
    (errors.PayloadTooLargeError, 413),
    (errors.UnauthenticatedError, 401),
    (errors.ForbiddenError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.ThrottledError, 429),
    # Before the timeouts: a timeout the request's deadline cut short is "try again shortly" (503).
    (errors.DeadlineExceededError, 503),
    (errors.UpstreamTimeoutError, 504),
    (errors.UpstreamUnavailableError, 503),
    (errors.UpstreamError, 502),
)


# Every 503 tells the caller when to try again; this when the failure itself did not say.
DEFAULT_RETRY_AFTER_SECONDS = 5

View = TypeVar("View", bound=Callable[..., Any])


def status_for(error: errors.AppError) -> int:
    """The HTTP status of a domain error."""
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A response in the API's error shape: {"error": {"code", "message", ...}}; a 503 always carries
    Retry-After (`DEFAULT_RETRY_AFTER_SECONDS` unless `headers` name one)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if extra:
        body.update(extra)
    all_headers = {**JSON_HEADERS, **(headers or {})}
    if status == 503 and not any(name.lower() == "retry-after" for name in all_headers):
        all_headers["Retry-After"] = str(DEFAULT_RETRY_AFTER_SECONDS)
    return Response(body={"error": body}, status_code=status, headers=all_headers)


def response_for(error: errors.AppError) -> Response:
    """Turn a domain error into its response, with Retry-After and field errors where they apply."""
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    if isinstance(error, errors.InvalidRequestError) and error.fields:
        extra["fields"] = error.fields
    details = getattr(error, "details", None)
    if isinstance(details, dict):
        extra.update(details)
    return error_response(status_for(error), error.code, error.message, headers=headers, extra=extra)


def _plain(item: Any) -> str:
    """pydantic's message without its "Value error, " / "Assertion failed, " prefix."""
    error = (item.get("ctx") or {}).get("error")
    if item["type"] in ("value_error", "assertion_error") and error is not None and str(error):
        return str(error)
    return str(item["msg"])


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Field path -> message for every invalid field, without echoing the (possibly secret) input."""
    fields: dict[str, str] = {}
    for item in exc.errors(include_input=False, include_url=False):
        # Union members appear in pydantic's path under their class name; the wire has no such level.
        parts = [str(part) for part in item["loc"] if not str(part)[:1].isupper()]
        path = ".".join(parts) or "body"
        fields.setdefault(path, _plain(item))
    return fields


def validation_message(fields: dict[str, str]) -> str:
    """One sentence naming every invalid field."""
    listed = "; ".join(f"{path}: {message}" for path, message in fields.items()) or "body: invalid"
    return listed if len(fields) <= 1 else f"{len(fields)} fields are invalid: {listed}"


def _cause_name(cause: BaseException) -> str:
    """The type of an underlying failure, with AWS's error code when it has one (never its message)."""
    response = getattr(cause, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(cause).__name__}:{code}" if code else type(cause).__name__


def handle_errors(view: View) -> View:
    """Convert domain and unexpected errors into the API's JSON error shape.

    A pydantic ValidationError reaching this point is a 500 (see `request_input` for request input).
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.AppError as exc:
            if status_for(exc) >= 500:
                cause = exc.__cause__
                logger.warning(
                    "upstream failure",
                    extra={
                        "error_code": exc.code,
                        "error_type": type(exc).__name__,
                        # What failed underneath (e.g. ReadTimeoutError, or AWS's own error code).
                        "cause": _cause_name(cause) if cause is not None else None,
                    },
                )
            return response_for(exc)
        except ValidationError as exc:
            # Request input is validated inside `request_input()` (400 there). A ValidationError that
            # gets here came from data we read or built (an upstream client translates bad responses
            # into its own 502 codes): the caller did nothing wrong, so it is our failure, never a 400.
            logger.error(
                "unexpected validation error",
                extra={"model": exc.title, "fields": sorted(validation_fields(exc))},
            )
            return error_response(500, "internal_error", "An unexpected error occurred.")
        except ChaliceViewError as exc:
            # Chalice's own errors reshaped into ours; its only 400 is a body that is not JSON.
            status = getattr(exc, "STATUS_CODE", 500)
            code = "invalid_json" if status == 400 else type(exc).__name__
            return error_response(status, code, str(exc).split(": ", 1)[-1])
        except Exception:
            logger.exception("unhandled error")
            return error_response(500, "internal_error", "An unexpected error occurred.")

    return wrapper  # type: ignore[return-value]


# Chalice answers some requests itself, before any view runs, in its own `{"Code", "Message"}` shape:
# 415 for a Content-Type a route does not declare, 405 for a method a path does not have. This
# middleware (registered through its blueprint in app.py) reshapes those into the API's error shape.
FRAMEWORK_ERROR_CODES = {415: "unsupported_media_type", 405: "method_not_allowed"}

framework_errors_blueprint = Blueprint(__name__)


@framework_errors_blueprint.middleware("http")
def reshape_framework_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    response = get_response(event)
    code = FRAMEWORK_ERROR_CODES.get(response.status_code)
    body = response.body
    if code is None or not isinstance(body, dict) or "Code" not in body:
        return response
    headers = {
        k: v for k, v in response.headers.items() if isinstance(v, str) and k.lower() != "content-type"
    }
    return error_response(response.status_code, code, str(body.get("Message", "")), headers=headers)
