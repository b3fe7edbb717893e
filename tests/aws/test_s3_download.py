"""S3RangedDownloader on moto: files reassembled exactly from parallel ranges, a broken body resumed,
short, long or altered objects refused, and the request deadline respected."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib import deps
from chalicelib.aws.s3_download import DownloadError, ObjectToFetch, S3RangedDownloader
from chalicelib.deadline import deadline_scope
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.settings import get_settings
from tests.stalled import *  # noqa: F403
from tests.stalled import StalledListener

PART = 64 * 1024
# Above, at and below the range size, and empty: ranged, single GET at the edge, single GET, no bytes.
SIZES = {"big.seg": 5 * PART + 123, "edge.seg": PART, "small.json": 10_000, "empty.del": 0}


def put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def wanted(directory: Path, contents: dict[str, bytes], *, digest: bool = True) -> list[ObjectToFetch]:
    return [
        ObjectToFetch(
            f"files/{name}",
            directory / name,
            len(body),
            hashlib.sha256(body).hexdigest() if digest else None,
        )
        for name, body in contents.items()
    ]


@pytest.fixture
def bucket(aws: None) -> str:
    return get_settings().board_snapshot_bucket


@pytest.fixture
def stored(bucket: str) -> dict[str, bytes]:
    contents = {name: os.urandom(size) for name, size in SIZES.items()}
    for name, body in contents.items():
        put(bucket, f"files/{name}", body)
    return contents


def downloader(bucket: str, **kwargs: Any) -> S3RangedDownloader:
    return S3RangedDownloader(deps.get_s3_client(), bucket, part_bytes=PART, **kwargs)


def test_files_above_and_below_the_range_size_are_reassembled_exactly(
    bucket: str, stored: dict[str, bytes], tmp_path: Path
) -> None:
    stats = downloader(bucket, concurrency=4).download(wanted(tmp_path, stored))

    for name, body in stored.items():
        assert (tmp_path / name).read_bytes() == body
    # Six ranges of the big file, one GET for each of the others.
    assert stats.requests == 6 + 3
    assert stats.retries == 0
    assert stats.bytes == sum(SIZES.values())


def test_a_body_that_breaks_off_is_resumed_from_the_bytes_that_arrived(
    bucket: str, stored: dict[str, bytes], tmp_path: Path
) -> None:
    broken: list[str] = []

    class BreaksOnce:
        """The first ranged body gives 1,000 bytes, then its connection times out."""

        def __init__(self, body: Any) -> None:
            self._body = body
            self._given = 0

        def read(self, amount: int) -> bytes:
            if self._given >= 1000:
                raise ReadTimeoutError(endpoint_url="s3")
            data: bytes = self._body.read(min(amount, 1000 - self._given))
            self._given += len(data)
            return data

        def close(self) -> None:
            self._body.close()

    def break_first_range(parsed: dict[str, Any], **_: Any) -> None:
        if not broken and parsed.get("ContentRange"):
            broken.append(parsed["ContentRange"])
            parsed["Body"] = BreaksOnce(parsed["Body"])

    client = deps.get_s3_client()
    client.meta.events.register("after-call.s3.GetObject", break_first_range)

    stats = downloader(bucket, concurrency=2).download(wanted(tmp_path, stored))

    assert broken
    assert (tmp_path / "big.seg").read_bytes() == stored["big.seg"]
    assert stats.retries == 1
    assert stats.requests == 6 + 3 + 1
    assert stats.bytes == sum(SIZES.values())


def test_a_body_that_keeps_breaking_off_fails_after_the_last_attempt(
    bucket: str, stored: dict[str, bytes], tmp_path: Path
) -> None:
    class AlwaysBreaks:
        def __init__(self, body: Any) -> None:
            self._body = body

        def read(self, amount: int) -> bytes:
            raise ReadTimeoutError(endpoint_url="s3")

        def close(self) -> None:
            self._body.close()

    def break_every_body(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Body"] = AlwaysBreaks(parsed["Body"])

    deps.get_s3_client().meta.events.register("after-call.s3.GetObject", break_every_body)

    with pytest.raises(DownloadError, match="broke off"):
        downloader(bucket, attempts=3).download(wanted(tmp_path, {"small.json": stored["small.json"]}))


@pytest.mark.parametrize("name", ["big.seg", "small.json"])
def test_an_object_of_another_size_is_refused(
    bucket: str, stored: dict[str, bytes], tmp_path: Path, name: str
) -> None:
    expected = wanted(tmp_path, {name: stored[name]})
    put(bucket, f"files/{name}", stored[name] + b"more")  # replaced by a longer object

    with pytest.raises(DownloadError, match="another size"):
        downloader(bucket).download(expected)


def test_an_altered_object_of_the_right_size_is_refused_by_its_sha256(
    bucket: str, stored: dict[str, bytes], tmp_path: Path
) -> None:
    expected = wanted(tmp_path, stored)
    altered = bytearray(stored["big.seg"])
    altered[3 * PART + 7] ^= 0xFF  # one bit flipped in the fourth range
    put(bucket, "files/big.seg", bytes(altered))

    with pytest.raises(DownloadError, match="SHA-256"):
        downloader(bucket).download(expected)

    # Without a digest to check, the same bytes are taken as they are.
    downloader(bucket).download(wanted(tmp_path, stored, digest=False))
    assert (tmp_path / "big.seg").read_bytes() == bytes(altered)


def test_the_store_reports_a_short_or_altered_file_as_board_unavailable(
    bucket: str, stored: dict[str, bytes], tmp_path: Path
) -> None:
    store = deps.get_snapshot_store()
    put(bucket, "files/big.seg", stored["big.seg"][: 2 * PART])  # truncated: later ranges do not exist

    with pytest.raises(UpstreamUnavailableError) as short:
        store.fetch(wanted(tmp_path, stored))
    put(bucket, "files/big.seg", stored["big.seg"])
    put(bucket, "files/small.json", bytes(len(stored["small.json"])))  # zeros instead
    with pytest.raises(UpstreamUnavailableError) as altered:
        store.fetch(wanted(tmp_path, stored))

    assert short.value.code == altered.value.code == "board_unavailable"


def test_a_spent_deadline_gets_no_answer(bucket: str, stored: dict[str, bytes], tmp_path: Path) -> None:
    answered: list[str] = []
    client = deps.get_s3_client()
    client.meta.events.register("after-call.s3.GetObject", lambda **_: answered.append("GET"))

    with deadline_scope(0.0), pytest.raises(UpstreamUnavailableError) as raised:
        deps.get_snapshot_store().fetch(wanted(tmp_path, stored))

    assert raised.value.code == "board_unavailable"
    assert answered == []


def test_a_body_still_arriving_when_the_request_time_is_up_is_abandoned(bucket: str, tmp_path: Path) -> None:
    body = os.urandom(3 << 20)  # one GET, read in three pieces of 1 MiB
    put(bucket, "files/slow.seg", body)
    clock = [0.0]
    reads: list[int] = []

    class Trickles:
        """Each read of the body takes two seconds of the request's time."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def read(self, amount: int) -> bytes:
            clock[0] += 2.0
            data: bytes = self._inner.read(amount)
            reads.append(len(data))
            return data

        def close(self) -> None:
            self._inner.close()

    def trickle(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Body"] = Trickles(parsed["Body"])

    deps.get_s3_client().meta.events.register("after-call.s3.GetObject", trickle)
    target = ObjectToFetch("files/slow.seg", tmp_path / "slow.seg", len(body), None)

    with deadline_scope(4.0, lambda: clock[0]), pytest.raises(DownloadError, match="deadline"):
        S3RangedDownloader(deps.get_s3_client(), bucket, part_bytes=8 << 20).download([target])

    assert reads == [1 << 20, 1 << 20]  # the third read would have started past the request's time


def test_stalled_snapshot_storage_fails_within_the_request_deadline(
    aws: None, stalled: StalledListener, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", stalled.url)
    deps.reset_dependencies()
    store = deps.get_snapshot_store()
    objects = [ObjectToFetch(f"files/{n}", tmp_path / n, size, None) for n, size in SIZES.items()]

    started = time.monotonic()
    with deadline_scope(1.0), pytest.raises(UpstreamUnavailableError) as raised:
        store.fetch(objects)
    elapsed = time.monotonic() - started

    assert raised.value.code == "board_unavailable"
    # Every range stalls on its own connection; none outlives the request (S3's own timeout is 20 s).
    assert elapsed < 2.0
