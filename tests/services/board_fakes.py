"""In-memory stand-ins for the board's storage: the live index and change feed, and a snapshot store."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.aws.posting_items import board_shard, content_hash
from chalicelib.clock import isoformat
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.posting import Posting
from chalicelib.services.board.records import ApplyFlags, ChangePage, PostingRecord
from chalicelib.services.board.snapshot import SnapshotFile, SnapshotManifest, unpack_stream
from tests.api.board_factories import BASE_TIME

SHARDS = 4


def record_of(posting: Posting) -> PostingRecord:
    assert posting.changed_at is not None
    return PostingRecord(
        job_id=posting.job_id,
        status=posting.status,
        changed_key=f"{isoformat(posting.changed_at)}#{posting.job_id}",
        content_hash=content_hash(posting),
        load=lambda: posting,
    )


class InMemoryBoardSource:
    """The table's live index and change feed, in memory, counting requests like DynamoDB's."""

    shards = SHARDS

    def __init__(self) -> None:
        self.items: dict[str, Posting] = {}
        self.broken: dict[str, PostingRecord] = {}  # stored items that fail to decode
        self.flags: dict[tuple[str, str], ApplyFlags] = {}
        self.requests = 0
        self.live_loads = 0
        self.fail = False
        self.page_size = 100
        # A stalled table: while `release` is given, every read waits until it is set (at most
        # `stall_limit` seconds, then fails as a timeout would).
        self.release: threading.Event | None = None
        self.stall_limit = 30.0
        self.stalled_reads = 0
        self.finished_stalled_reads = 0
        # Decoding stored postings (`PostingRecord.load`): counted; while `hold_load` is N, the N-th
        # decode sets `load_held` and waits for `release_load` (at most `stall_limit` seconds).
        self.loads = 0
        self.hold_load: int | None = None
        self.load_held = threading.Event()
        self.release_load = threading.Event()
        self._counting = threading.Lock()

    def put(self, posting: Posting) -> Posting:
        self.items[posting.job_id] = posting
        return posting

    def put_broken(self, job_id: str, changed_at: datetime) -> None:
        def undecodable() -> Posting:
            raise ValueError("not a posting")

        self.broken[job_id] = PostingRecord(
            job_id, "live", f"{isoformat(changed_at)}#{job_id}", "x", undecodable
        )

    def _records(self) -> list[PostingRecord]:
        return [self._counted(record_of(p)) for p in self.items.values()] + list(self.broken.values())

    def _counted(self, record: PostingRecord) -> PostingRecord:
        def load() -> Posting:
            with self._counting:
                self.loads += 1
                held = self.loads == self.hold_load
            if held:
                self.load_held.set()
                self.release_load.wait(self.stall_limit)
            return record.load()

        return dataclasses.replace(record, load=load)

    def _check(self) -> None:
        self.requests += 1
        release = self.release
        if release is not None:
            with self._counting:
                self.stalled_reads += 1
            released = release.wait(self.stall_limit)
            with self._counting:
                self.finished_stalled_reads += 1
            if not released:
                raise UpstreamUnavailableError("stalled", code="board_unavailable")
        if self.fail:
            raise UpstreamUnavailableError("down", code="board_unavailable")

    def load_live(self) -> list[PostingRecord]:
        self.live_loads += 1
        self.requests += SHARDS
        return [r for r in self._records() if r.status == "live"]

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        self._check()
        records = sorted(
            (r for r in self._records() if board_shard(r.job_id) == shard), key=lambda r: r.changed_key
        )
        records = [r for r in records if r.changed_key > after and (resume is None or r.changed_key > resume)]
        page = records[: self.page_size]
        more = len(records) > self.page_size
        return ChangePage(records=page, resume=page[-1].changed_key if more else None)

    def posting(self, job_id: str) -> PostingRecord | None:
        self._check()
        if job_id in self.broken:
            return self.broken[job_id]
        posting = self.items.get(job_id)
        return record_of(posting) if posting else None

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        self.requests += 1
        return self.flags.get((employer_id, account_id), ApplyFlags())


class DirectorySnapshotStore:
    """SnapshotStore on a local directory, with the pointer's compare-and-set semantics."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer: SnapshotManifest | None = None
        self.fail = False
        self.downloads = 0

    def current(self) -> SnapshotManifest | None:
        if self.fail:
            raise UpstreamUnavailableError("down", code="board_unavailable")
        return self.pointer

    def upload(self, manifest: SnapshotManifest, packed: Path) -> None:
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        for path in packed.iterdir():
            shutil.copy(path, self.root / "files" / path.name)

    def download(
        self, manifest: SnapshotManifest, directory: Path, files: Sequence[SnapshotFile] | None = None
    ) -> None:
        self.downloads += 1
        for file in manifest.files if files is None else files:
            with (self.root / "files" / file.sha256).open("rb") as stream:
                unpack_stream(stream, file, directory / file.name)

    def publish(self, manifest: SnapshotManifest) -> bool:
        if self.pointer is not None and self.pointer.changes_after >= manifest.changes_after:
            return False
        self.pointer = manifest
        return True


class FakeTime:
    def __init__(self) -> None:
        self.now = BASE_TIME
        self.mono = 1000.0

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds
