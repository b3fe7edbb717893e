from datetime import UTC, datetime

import pytest

from chalicelib.http_headers import etag_matches, retry_after_seconds

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120),
        (" 7 ", 7),
        ("Sun, 01 Mar 2026 12:01:30 GMT", 90),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0),  # already past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_delta_seconds_and_http_dates(header: str | None, expected: int | None) -> None:
    assert retry_after_seconds(header, lambda: NOW) == expected


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        ('"a"', '"a"', True),
        ('W/"a"', '"a"', True),
        ('"a"', 'W/"a"', True),
        ('"x", W/"a"', '"a"', True),
        ("*", '"a"', True),
        ('"b"', '"a"', False),
        ("", '"a"', False),
        (None, '"a"', False),
    ],
)
def test_etag_matches_is_rfc9110_weak_comparison(header: str | None, etag: str, expected: bool) -> None:
    assert etag_matches(header, etag) is expected
