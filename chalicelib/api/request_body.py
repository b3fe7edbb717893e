"""Bounded, strictly parsed JSON request bodies and query strings, with errors in the API's shape.

Routes that use it declare `content_types=ANY_CONTENT_TYPE` so Chalice does not answer a wrong media type
itself (its 415 is in Chalice's own error shape); `parse_json_body` rejects it instead, in ours.

Request input is validated only inside `request_input()`, the one place a pydantic ValidationError means
"the caller sent something invalid" (400 with field errors). A ValidationError anywhere else is not the
caller's fault, and `handle_errors` never answers it with a 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.api.http_errors import validation_fields, validation_message
from chalicelib.errors import InvalidRequestError, PayloadTooLargeError
from chalicelib.json_input import load_json_object

# Every employer request body is a handful of short fields; anything near this is not a real client.
MAX_BODY_BYTES = 16 * 1024
ANY_CONTENT_TYPE = ["*/*"]
FORM = "application/x-www-form-urlencoded"

Model = TypeVar("Model", bound=BaseModel)


@contextmanager
def request_input() -> Iterator[None]:
    """Turn a ValidationError of request input into InvalidRequestError (400) naming every bad field."""
    try:
        yield
    except ValidationError as exc:
        fields = validation_fields(exc)
        raise InvalidRequestError(validation_message(fields), fields=fields) from exc


def parse_input(model: type[Model], data: Any) -> Model:
    """Request input (a query string's values, say) validated into `model`; 400 on invalid fields."""
    with request_input():
        return model.model_validate(data)


def media_type(request: Request) -> str:
    """The request's media type, lower case without parameters ("" when there is no Content-Type)."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def parse_form_body(request: Request, model: type[Model], *, max_bytes: int = MAX_BODY_BYTES) -> Model:
    """An `application/x-www-form-urlencoded` body validated into `model`; an empty form counts as `{}`.

    Raises PayloadTooLargeError (413) above `max_bytes`, InvalidRequestError (400) with code
    `invalid_form` for a body that is not UTF-8 form encoding or names a field twice, and with field
    errors for invalid fields.
    """
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body exceeds {max_bytes} bytes.")
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip()), errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError("The request body is not a UTF-8 form.", code="invalid_form") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidRequestError("The form names a field more than once.", code="invalid_form")
    return parse_input(model, fields)


def parse_json_body(request: Request, model: type[Model], *, max_bytes: int = MAX_BODY_BYTES) -> Model:
    """The body validated into `model`; an empty body counts as `{}`.

    Raises PayloadTooLargeError (413) above `max_bytes`, InvalidRequestError (400) for a non-JSON media
    type, and with code `invalid_json` for anything `load_json_object` refuses (bad JSON, too deep, not an
    object), and InvalidRequestError with field errors (400) for invalid fields. Size and depth are
    checked before the body is parsed.
    """
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body exceeds {max_bytes} bytes.")
    if not raw.strip():
        return parse_input(model, {})
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise InvalidRequestError(
            "The request body must be JSON (Content-Type: application/json).", code="unsupported_media_type"
        )
    return parse_input(model, load_json_object(raw, max_bytes=max_bytes))
