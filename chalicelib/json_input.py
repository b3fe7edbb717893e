"""Untrusted JSON in, bounded: nesting depth and size are checked on the raw bytes before parsing.

`json.loads` recurses once per nesting level, so a few kilobytes of `[[[[...` raise RecursionError deep
inside the parser. Counting brackets outside strings first keeps that (and NaN, Infinity, numbers that
overflow to infinity, and lone surrogates that later fail to encode) out of every route. Every failure is
one error: InvalidRequestError with code `invalid_json`.

JSON on the wire is UTF-8 without a byte order mark (RFC 8259 section 8.1). `json.loads` on bytes would
also guess UTF-16 and UTF-32 and skip a UTF-8 BOM; the body is decoded here as strict UTF-8 instead, so
what one route accepts every route accepts, and a proxy or signature check sees the same text we parse.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

from chalicelib.errors import InvalidRequestError, PayloadTooLargeError

INVALID_JSON = "invalid_json"
# Real bodies nest a handful of levels (an application's answers are the deepest at about 5).
MAX_DEPTH = 32

# A JSON string token (the unrolled loop is linear and never backtracks).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# UTF-8, UTF-16 and UTF-32 byte order marks (the UTF-32 LE mark starts like UTF-16 LE's).
_BYTE_ORDER_MARKS = (codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF32_BE)


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, code=INVALID_JSON)


def nesting_depth(raw: bytes, *, limit: int = MAX_DEPTH) -> int:
    """The bracket nesting depth outside strings, exact up to the point it passes `limit` (it stops there).

    A body with at most `limit` opening brackets cannot nest deeper, so it is answered from two
    `bytes.count` calls (1, or 0 without brackets) without a scan.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return 0 if b"[" not in raw and b"{" not in raw else 1  # cannot nest deeper than it has openers
    brackets = _STRING.sub(b'""', raw).translate(None, delete=_NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_strings(value: Any) -> None:
    """Raise UnicodeEncodeError for a lone surrogate anywhere (keys included); depth is already bounded."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def load_json_object(raw: bytes | str, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse an untrusted JSON object.

    Raises
    ------
    PayloadTooLargeError
        Above `max_bytes` (413).
    InvalidRequestError
        Code `invalid_json` (400): not UTF-8 (UTF-16/32 included), a byte order mark, not JSON, nested
        deeper than `max_depth`, NaN/Infinity or a number too large for a float, a lone surrogate, or a
        JSON value that is not an object.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"The request body exceeds {max_bytes} bytes.")
    if data.startswith(_BYTE_ORDER_MARKS):
        raise _invalid("The request body must be UTF-8 JSON without a byte order mark.")
    if nesting_depth(data, limit=max_depth) > max_depth:
        raise _invalid(f"The request body nests deeper than {max_depth} levels.")
    try:
        text = data.decode("utf-8")  # strict: UTF-16/32 (NUL bytes aside) and stray bytes fail here
        document = json.loads(text, parse_float=_finite_float, parse_constant=_no_constants)
        _check_strings(document)
    except UnicodeError as exc:
        raise _invalid("The request body contains text that is not valid UTF-8 or Unicode.") from exc
    except (ValueError, RecursionError) as exc:
        raise _invalid("The request body is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise _invalid("The request body must be a JSON object.")
    return document
