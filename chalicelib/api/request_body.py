"""Bounded, strictly parsed JSON request bodies, with errors in the API's shape.

Routes that use it declare `content_types=ANY_CONTENT_TYPE` so Chalice does not answer a wrong media type
itself (its 415 is in Chalice's own error shape); `parse_json_body` rejects it instead, in ours.
"""

from __future__ import annotations

from typing import TypeVar

from chalice.app import Request
from pydantic import BaseModel

from chalicelib.errors import InvalidRequestError, PayloadTooLargeError
from chalicelib.json_input import load_json_object

# Every employer request body is a handful of short fields; anything near this is not a real client.
MAX_BODY_BYTES = 16 * 1024
ANY_CONTENT_TYPE = ["*/*"]

Model = TypeVar("Model", bound=BaseModel)


def parse_json_body(request: Request, model: type[Model], *, max_bytes: int = MAX_BODY_BYTES) -> Model:
    """The body validated into `model`; an empty body counts as `{}`.

    Raises PayloadTooLargeError (413) above `max_bytes`, InvalidRequestError (400) for a non-JSON media
    type, and with code `invalid_json` for anything `load_json_object` refuses (bad JSON, too deep, not an
    object), and pydantic ValidationError (400 via `handle_errors`) for invalid fields. Size and depth are
    checked before the body is parsed.
    """
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body exceeds {max_bytes} bytes.")
    if not raw.strip():
        return model.model_validate({})
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise InvalidRequestError(
            "The request body must be JSON (Content-Type: application/json).", code="unsupported_media_type"
        )
    return model.model_validate(load_json_object(raw, max_bytes=max_bytes))
