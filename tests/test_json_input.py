"""Bounded JSON: depth and size checked on the raw bytes before parsing; one `invalid_json` error."""

from __future__ import annotations

import codecs
import json

import pytest

from chalicelib.errors import InvalidRequestError, PayloadTooLargeError
from chalicelib.json_input import MAX_DEPTH, load_json_object, nesting_depth


def nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_the_depth_limit_is_inclusive() -> None:
    assert load_json_object(nested(MAX_DEPTH), max_bytes=10_000)["a"] is not None
    with pytest.raises(InvalidRequestError) as caught:
        load_json_object(nested(MAX_DEPTH + 1), max_bytes=10_000)
    assert caught.value.code == "invalid_json"


def test_brackets_inside_strings_do_not_count() -> None:
    text = '[[[{{{"\\"]]]' * 20
    raw = json.dumps({"a": text, "b": ['x\\"[[[[', {"c": "]]]]{{{{"}]}).encode()
    assert nesting_depth(raw) == 3  # 120+ brackets in strings force the scan; the structure is 3 deep
    assert load_json_object(raw, max_bytes=10_000)["a"] == text


def test_scan_is_exact_when_there_are_many_brackets() -> None:
    assert nesting_depth(b"[" + b"[[]]," * 40 + b"[]]") == 3
    assert nesting_depth(b"[" * 40 + b"]" * 40) > MAX_DEPTH


@pytest.mark.parametrize(
    "raw",
    [b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": 1e400}', b'{"a": "\\udc00"}', b'{"\\ud800": 1}',
     b'{"a": ' + b"1" * 5000 + b"}", b"\xff", b"[]", b"{"],
)  # fmt: skip
def test_what_cannot_be_a_safe_json_object_is_invalid_json(raw: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        load_json_object(raw, max_bytes=10_000)
    assert caught.value.code == "invalid_json"


def test_size_is_checked_first() -> None:
    with pytest.raises(PayloadTooLargeError):
        load_json_object(b"[" * 20_000, max_bytes=10_000)


ENCODED = {
    "UTF-8 with BOM": codecs.BOM_UTF8 + b'{"a": 1}',
    "UTF-16 with BOM": '{"a": 1}'.encode("utf-16"),
    "UTF-16 BE": '{"a": 1}'.encode("utf-16-be"),
    "UTF-16 LE": '{"a": 1}'.encode("utf-16-le"),
    "UTF-32 with BOM": '{"a": 1}'.encode("utf-32"),
    "UTF-32 BE": '{"a": 1}'.encode("utf-32-be"),
    "Latin-1": '{"a": "caf\u00e9"}'.encode("latin-1"),
}


@pytest.mark.parametrize("raw", ENCODED.values(), ids=list(ENCODED))
def test_only_utf8_without_a_byte_order_mark_is_json(raw: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        load_json_object(raw, max_bytes=10_000)
    assert caught.value.code == "invalid_json"


def test_utf8_text_beyond_ascii_is_read() -> None:
    assert load_json_object('{"a": "caf\u00e9 \U0001f600"}'.encode(), max_bytes=10_000) == {
        "a": "caf\u00e9 \U0001f600"
    }
