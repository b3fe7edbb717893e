import pytest

from chalicelib.errors import InvalidRequestError
from chalicelib.services.signed_cursor import SignedCursor


def test_a_cursor_round_trips_in_its_own_purpose_and_context() -> None:
    cursors = SignedCursor(b"key", purpose="p")
    payload = {"PK": "EMPLOYER#a", "SK": "APPLICATION#" * 8}  # compressible: still `payload.signature`
    cursor = cursors.encode(payload, context="a")
    assert cursor.count(".") == 1
    assert cursors.decode(cursor, context="a") == payload


@pytest.mark.parametrize(
    "presented",
    [
        lambda c: SignedCursor(b"key", purpose="p").decode(c, context="b"),
        lambda c: SignedCursor(b"key", purpose="q").decode(c, context="a"),
        lambda c: SignedCursor(b"other", purpose="p").decode(c, context="a"),
        lambda c: SignedCursor(b"key", purpose="p").decode(c[:-1], context="a"),
        lambda c: SignedCursor(b"key", purpose="p").decode("", context="a"),
        lambda c: SignedCursor(b"key", purpose="p", max_length=8).decode(c, context="a"),
        lambda c: SignedCursor(b"key", purpose="p").decode("." + c, context="a"),
    ],
)
def test_foreign_altered_or_oversized_cursors_are_one_400(presented: object) -> None:
    cursor = SignedCursor(b"key", purpose="p").encode({"k": [1, 2]}, context="a")
    with pytest.raises(InvalidRequestError) as raised:
        presented(cursor)  # type: ignore[operator]
    assert raised.value.code == "invalid_cursor"
