"""Board snapshots: the live board compiled off the request path into a versioned search index.

A snapshot is the engine's index directory (tantivy segment files, immutable) plus a manifest: which
version it is, the change-feed time it is complete up to (`changes_after`), its posting count and content
fingerprint, and every file with its size and SHA-256. The builder compiles one from the live postings,
uploads the files, then publishes the manifest as the board's current pointer; a process opens the
newest one and applies the change feed after `changes_after` on top (see docs/board.md).
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.observability import logger
from chalicelib.services.board.engine import (
    FORMAT_VERSION,
    BoardDocument,
    BoardEngine,
    sort_key_of,
)
from chalicelib.services.board.engine import (
    board_document as board_document,  # re-exported: benchmarks time it in place
)
from chalicelib.services.board.records import PostingRecord


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SnapshotManifest:
    """The pointer to the current snapshot (stored as one small item) and what it holds."""

    version: str
    format: int
    built_at: str
    changes_after: str  # every change up to this `changed_at` is in the snapshot
    postings: int
    skipped: int  # stored postings that could not be decoded
    fingerprint: int
    files: tuple[SnapshotFile, ...]
    build_seconds: float = 0.0

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "format": self.format,
            "built_at": self.built_at,
            "changes_after": self.changes_after,
            "postings": self.postings,
            "skipped": self.skipped,
            "fingerprint": f"{self.fingerprint:016x}",
            "build_seconds": round(self.build_seconds, 3),
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotManifest:
        return cls(
            version=str(data["version"]),
            format=int(data["format"]),
            built_at=str(data["built_at"]),
            changes_after=str(data["changes_after"]),
            postings=int(data["postings"]),
            skipped=int(data.get("skipped", 0)),
            fingerprint=int(str(data["fingerprint"]), 16),
            build_seconds=float(data.get("build_seconds", 0.0)),
            files=tuple(
                SnapshotFile(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in data["files"]
            ),
        )


class SnapshotStore(Protocol):
    """Where snapshots live (S3 files + a DynamoDB pointer in production)."""

    def current(self) -> SnapshotManifest | None: ...

    def download(self, manifest: SnapshotManifest, directory: Path) -> None: ...

    def upload(self, manifest: SnapshotManifest, directory: Path) -> None: ...

    def publish(self, manifest: SnapshotManifest) -> bool:
        """Make `manifest` current unless a snapshot complete to a later time already is."""
        ...


class LiveSource(Protocol):
    def load_live(self) -> Iterable[PostingRecord]: ...


def describe_files(directory: Path) -> tuple[SnapshotFile, ...]:
    files = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        files.append(SnapshotFile(path.name, path.stat().st_size, digest.hexdigest()))
    return tuple(files)


def new_version(now: datetime) -> str:
    """Sortable, unique: `20261201T102200Z-3f2a9c`."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass(slots=True)
class BuildReport:
    manifest: SnapshotManifest | None
    published: bool
    skipped_reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)


class SnapshotBuilder:
    """Compiles the live board into a snapshot, uploads it and publishes it as current."""

    def __init__(
        self,
        source: LiveSource,
        store: SnapshotStore,
        *,
        work_directory: Path,
        overlap_seconds: float = 30.0,
        heap_bytes: int = 256_000_000,
        clock: Clock = utcnow,
        perf_counter: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._source = source
        self._store = store
        self._work = work_directory
        self._overlap = timedelta(seconds=overlap_seconds)
        self._heap_bytes = heap_bytes
        self._clock = clock
        self._perf = perf_counter

    def build(self, *, requested_at: str | None = None) -> BuildReport:
        """Build and publish; with `requested_at`, skip when the current snapshot already covers it."""
        if requested_at is not None:
            current = self._store.current()
            if (
                current is not None
                and current.format == FORMAT_VERSION
                and current.changes_after >= requested_at
            ):
                return BuildReport(current, published=False, skipped_reason="current snapshot is newer")
        started = self._clock()
        began = self._perf()
        # Writers whose clocks lag may still add changes stamped a little before `started`: the snapshot is
        # only claimed complete up to `started - overlap`, and processes re-read the feed from there.
        changes_after = isoformat(started - self._overlap)
        version = new_version(started)
        directory = self._work / version
        skipped = 0
        count = 0

        def documents() -> Iterator[BoardDocument]:
            # Newest first (a posting's position is its slot): sort keys first, then decode again in that
            # order, so only one decoded posting is held at a time.
            nonlocal skipped, count
            records = [record for record in self._source.load_live() if record.status == "live"]
            order: list[tuple[int, int]] = []
            for number, record in enumerate(records):
                try:
                    order.append((sort_key_of(record.load()), number))
                except Exception:  # one bad stored posting must not stop the board
                    skipped += 1
                    logger.warning("skipping an undecodable posting", extra={"job_id": record.job_id})
            order.sort(reverse=True)
            for _, number in order:
                record = records[number]
                count += 1
                yield board_document(
                    record.load(), content_hash=record.content_hash, changed_key=record.changed_key
                )

        try:
            fingerprint = BoardEngine.create(directory, documents(), heap_bytes=self._heap_bytes)
            indexed = self._perf()
            manifest = SnapshotManifest(
                version=version,
                format=FORMAT_VERSION,
                built_at=isoformat(started),
                changes_after=changes_after,
                postings=count,
                skipped=skipped,
                fingerprint=fingerprint,
                files=describe_files(directory),
                build_seconds=indexed - began,
            )
            self._store.upload(manifest, directory)
            uploaded = self._perf()
            published = self._store.publish(manifest)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        logger.info(
            "board snapshot built",
            extra={
                "version": version,
                "postings": count,
                "skipped": skipped,
                "bytes": manifest.size,
                "published": published,
            },
        )
        return BuildReport(
            manifest,
            published=published,
            skipped_reason=None if published else "a newer snapshot was published meanwhile",
            stats={"index_seconds": indexed - began, "upload_seconds": uploaded - indexed},
        )
