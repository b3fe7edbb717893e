"""Parallel ranged download of S3 objects into local files, checked against their size and SHA-256.

`S3RangedDownloader.download(objects)` fetches every object of the list at once on one bounded pool:

- An object larger than `part_bytes` is fetched as byte ranges of `part_bytes` (the last one shorter);
  a smaller one is one plain GET. The largest pieces start first, so the longest transfer never starts
  last.
- Each file is preallocated to its size and every piece is written in place (`os.pwrite`), so the
  pieces of one file arrive in any order and nothing is held in memory beyond one read buffer per
  worker.
- A piece whose body breaks off (a reset, a read timeout, a short read) is asked again for the bytes
  still missing, up to `attempts` times in all. S3's own error answers (5xx, throttling) are retried
  by botocore's standard retry mode.
- Inside an API request every worker carries the request's deadline (`in_current_context`), so the
  client's deadline hooks cut each attempt's timeouts to the time left and start no attempt past it,
  and a body still arriving when the time is up is abandoned.
- Each file's SHA-256 is computed while the transfer goes on: whichever worker completes the next
  piece in line reads it back from the page cache and hashes it.
- The answer's `Content-Range` total (or `Content-Length`) must be the size the caller expects, and
  the finished file must hash to the expected digest. Anything else raises `DownloadError`, as do
  body failures left after the last attempt; the first failure stops the pieces not yet started.

The caller decides what the objects are (keys, local paths, sizes, digests): this module only moves
bytes, so the key scheme can change around it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import in_current_context, upstream_time_is_up

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# What one read of a body asks for: large enough that Python's per-call cost is small next to the copy.
_READ_BYTES = 1 << 20
_HASH_READ_BYTES = 4 << 20


class DownloadError(Exception):
    """An object could not be fetched whole, or what arrived is not what the caller expected."""


@dataclass(frozen=True, slots=True)
class ObjectToFetch:
    """One S3 object and where it goes: `size` bytes, and their SHA-256 (hex) when known."""

    key: str
    path: Path
    size: int
    sha256: str | None = None


@dataclass(slots=True)
class DownloadStats:
    """What one download did: GET requests sent (retries included), retried pieces, bytes written."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, retries: int = 0, written: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.bytes += written


def _retryable_body_errors() -> tuple[type[BaseException], ...]:
    # s3transfer's own list of failures while reading a GET's body that are worth asking again.
    from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

    return tuple(S3_RETRYABLE_DOWNLOAD_ERRORS)


@dataclass(frozen=True, slots=True)
class _Piece:
    file: _FileInProgress
    index: int
    start: int
    length: int
    ranged: bool


class _FileInProgress:
    """One file being written: its pieces' completion, and its digest, advanced in piece order."""

    def __init__(self, target: ObjectToFetch, part_bytes: int) -> None:
        self.target = target
        size = target.size
        self.bounds = [(start, min(part_bytes, size - start)) for start in range(0, size, part_bytes)] or [
            (0, 0)
        ]
        self._done = [False] * len(self.bounds)
        self._hashed = 0
        self._hashing = False
        self._digest = hashlib.sha256()
        self._lock = threading.Lock()

    @property
    def ranged(self) -> bool:
        return len(self.bounds) > 1

    def pieces(self) -> list[_Piece]:
        return [
            _Piece(self, index, start, length, self.ranged)
            for index, (start, length) in enumerate(self.bounds)
        ]

    def piece_done(self, index: int) -> None:
        """Mark a piece written; hash every piece now next in line, unless another worker already is."""
        with self._lock:
            self._done[index] = True
            if self._hashing:
                return  # the worker hashing this file picks this piece up when it gets there
            self._hashing = True
        while True:
            with self._lock:
                if self._hashed >= len(self._done) or not self._done[self._hashed]:
                    self._hashing = False
                    return
                start, length = self.bounds[self._hashed]
            self._hash_range(start, length)
            with self._lock:
                self._hashed += 1

    def _hash_range(self, start: int, length: int) -> None:
        descriptor = os.open(self.target.path, os.O_RDONLY)
        try:
            offset, end = start, start + length
            while offset < end:
                data = os.pread(descriptor, min(_HASH_READ_BYTES, end - offset), offset)
                if not data:
                    raise DownloadError(f"{self.target.key}: the local file is shorter than written")
                self._digest.update(data)
                offset += len(data)
        finally:
            os.close(descriptor)

    def verify(self) -> None:
        if self._hashed != len(self._done):
            raise DownloadError(f"{self.target.key}: not every piece was written")
        if os.stat(self.target.path).st_size != self.target.size:
            raise DownloadError(f"{self.target.key}: the local file does not have the expected size")
        expected = self.target.sha256
        if expected is not None and self._digest.hexdigest() != expected.lower():
            raise DownloadError(f"{self.target.key}: the content does not match its SHA-256")


def _allocate(path: Path, size: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if size:
            try:
                # Real blocks now: a full /tmp fails here, before any byte is fetched.
                os.posix_fallocate(descriptor, 0, size)
            except OSError as exc:
                if exc.errno not in (95, 22):  # EOPNOTSUPP, EINVAL: a file system without it
                    raise
                os.ftruncate(descriptor, size)
    finally:
        os.close(descriptor)


def _total_size(content_range: str) -> int | None:
    """The object's size from `bytes 0-99/1234`; None when it is unknown (`*`) or unreadable."""
    _, _, total = content_range.rpartition("/")
    return int(total) if total.isdigit() else None


class S3RangedDownloader:
    """Downloads lists of objects from one bucket: ranged GETs in parallel, written in place, verified.

    Parameters
    ----------
    s3_client
        A boto3 S3 client (inside an API request, one bound to the request deadline). Its connection
        pool should hold `concurrency` connections.
    bucket
        Where the objects are.
    part_bytes
        Objects larger than this are fetched as ranges of this size; smaller ones with one GET.
    concurrency
        Requests in flight at once, over all the pieces of all the objects of one download.
    attempts
        Times one piece is asked for when its body breaks off (botocore retries error answers itself).
    """

    def __init__(
        self,
        s3_client: S3Client,
        bucket: str,
        *,
        part_bytes: int = 8 << 20,
        concurrency: int = 8,
        attempts: int = 3,
    ) -> None:
        if part_bytes < 1 or concurrency < 1 or attempts < 1:
            raise ValueError("part_bytes, concurrency and attempts must be positive")
        self._s3 = s3_client
        self._bucket = bucket
        self._part_bytes = part_bytes
        self._concurrency = concurrency
        self._attempts = attempts
        self._retryable = _retryable_body_errors()

    def download(self, objects: Sequence[ObjectToFetch]) -> DownloadStats:
        """Fetch every object to its path; raise `DownloadError` (or the S3 client's error) on failure.

        On failure the files may be partly written: the caller removes them.
        """
        stats = DownloadStats()
        files = [_FileInProgress(target, self._part_bytes) for target in objects]
        for file in files:
            _allocate(file.target.path, file.target.size)
        pieces = sorted((piece for file in files for piece in file.pieces()), key=lambda p: -p.length)
        if not pieces:
            return stats
        stop = threading.Event()
        # The workers see the caller's context (an API request's deadline) through `in_current_context`.
        fetch = in_current_context(self._fetch_piece)
        pool = ThreadPoolExecutor(max_workers=min(self._concurrency, len(pieces)))
        futures: list[Future[None]] = []
        try:
            futures = [pool.submit(fetch, piece, stop, stats) for piece in pieces]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in futures if f in done and f.exception() is not None), None)
            if failed is not None:
                stop.set()
                failure = failed.exception()
                assert failure is not None
                raise failure
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        for file in files:
            file.verify()
        return stats

    def _fetch_piece(self, piece: _Piece, stop: threading.Event, stats: DownloadStats) -> None:
        written = 0
        for attempt in range(1, self._attempts + 1):
            if stop.is_set():
                return
            arrived, broke = self._get_into_file(piece, written, stop, stats)
            written += arrived
            if stop.is_set():
                return
            if written == piece.length:
                piece.file.piece_done(piece.index)
                return
            if attempt == self._attempts:
                key = piece.file.target.key
                if broke is not None:
                    raise DownloadError(f"{key}: the transfer broke off") from broke
                raise DownloadError(f"{key}: the object is shorter than expected")
            stats.add(retries=1)  # ask again for the bytes still missing

    def _get_into_file(
        self, piece: _Piece, already: int, stop: threading.Event, stats: DownloadStats
    ) -> tuple[int, BaseException | None]:
        """GET the bytes of `piece` after its first `already` and write them in place.

        Returns how many arrived, and the failure that broke the body off (None when it ended by
        itself). Failures of the request itself leave as they are (botocore has retried them)."""
        target = piece.file.target
        start = piece.start + already
        end = piece.start + piece.length - 1
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": target.key}
        ranged = piece.ranged or already > 0
        if ranged:
            request["Range"] = f"bytes={start}-{end}"
        stats.add(requests=1)
        response = self._s3.get_object(**request)
        body = response["Body"]
        arrived = 0
        broke: BaseException | None = None
        try:
            if ranged:
                total = _total_size(str(response.get("ContentRange", "")))
            else:
                total = int(response.get("ContentLength", -1))
            if total != target.size:
                raise DownloadError(f"{target.key}: the object has another size than expected")
            wanted = end - start + 1
            descriptor = os.open(target.path, os.O_WRONLY)
            try:
                while arrived < wanted and not stop.is_set():
                    if upstream_time_is_up():
                        # A body that trickles in stays under every read timeout: the request's time
                        # is what ends it.
                        raise DownloadError(f"{target.key}: the request's deadline passed mid-transfer")
                    try:
                        data = body.read(min(_READ_BYTES, wanted - arrived))
                    except self._retryable as exc:
                        broke = exc
                        break
                    if not data:
                        break
                    _write_all(descriptor, data, start + arrived)
                    arrived += len(data)
            finally:
                os.close(descriptor)
        finally:
            body.close()
        stats.add(written=arrived)
        return arrived, broke


def _write_all(descriptor: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(descriptor, view, offset)
        view = view[written:]
        offset += written
