"""Board snapshots: the live board compiled off the request path into a versioned search index.

A snapshot is a directory (the tantivy index and the bitmap segments, see `writer.py`) plus a manifest:
which version it is, the change-feed time it is complete up to (`changes_after`), its posting count and
content fingerprint, and every file with its size and SHA-256. Files are stored compressed (zstd, in
independent frames of `FRAME_BYTES`, so ranges of a file can be fetched and unpacked in parallel) under
their content's hash: a file two versions share is stored and uploaded once.

The builder's first snapshot is a full build, streamed from the live postings. Every later one starts from
the previous snapshot (its files already on the builder's disk, or downloaded) and applies only the change
feed since its horizon (`writer.write_changes`): only the files that changed are uploaded. A full rebuild
happens on a format change, or on demand (`build(full=True)`). A process opens the newest snapshot, and
moves to a newer one by hard-linking the files it already has and downloading the rest (see docs/board.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.observability import logger
from chalicelib.services.board.engine import (
    FORMAT_VERSION,
    BoardDocument,
    changed_ms_of,
)
from chalicelib.services.board.engine import (
    board_document as board_document,  # re-exported: benchmarks time it in place
)
from chalicelib.services.board.records import ChangePage, PostingRecord
from chalicelib.services.board.writer import Change, WriteReport, write_changes, write_full

FRAME_BYTES = 8 << 20  # a file is compressed in independent frames of this many bytes
COMPRESSION_LEVEL = 9
# A file every snapshot still uses is uploaded again after this long, so the bucket's lifecycle rule (7 days)
# only ever expires files no snapshot uses, and a stopped builder still leaves 5 days before any expire.
STORED_REFRESH = timedelta(days=2)
# Files a writer replaces under the same name (a process's own commits): hard-linked only when unchanged.
_REWRITTEN = frozenset({"meta.json"})


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    name: str
    size: int  # bytes on disk
    sha256: str  # of the bytes on disk: the stored object's name
    frames: tuple[int, ...] = ()  # stored (compressed) size of each FRAME_BYTES of the file
    stored_at: str = ""  # when it was last uploaded (the bucket's lifecycle rule expires it by that age)

    @property
    def stored(self) -> int:
        return sum(self.frames)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "frames": list(self.frames),
            "stored_at": self.stored_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotFile:
        frames = tuple(int(frame) for frame in data.get("frames", ()))
        stored_at = str(data.get("stored_at", ""))
        return cls(str(data["name"]), int(data["size"]), str(data["sha256"]), frames, stored_at)


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
        """Bytes stored and downloaded (compressed)."""
        return sum(file.stored for file in self.files)

    @property
    def disk_size(self) -> int:
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
            "files": [file.to_dict() for file in self.files],
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
            files=tuple(SnapshotFile.from_dict(file) for file in data["files"]),
        )


class SnapshotStore(Protocol):
    """Where snapshots live (S3 files + a DynamoDB pointer in production). Files are stored packed
    (`pack_file`) under their SHA-256."""

    def current(self) -> SnapshotManifest | None: ...

    def download(
        self, manifest: SnapshotManifest, directory: Path, files: Sequence[SnapshotFile] | None = None
    ) -> None:
        """Fetch and unpack `files` (default: all of the manifest's) into `directory`."""
        ...

    def upload(self, manifest: SnapshotManifest, packed: Path) -> None:
        """Store the packed files in `packed` (named by their SHA-256; the files not in it are stored
        already) and a copy of the manifest."""
        ...

    def publish(self, manifest: SnapshotManifest) -> bool:
        """Make `manifest` current unless a snapshot complete to a later time already is."""
        ...


class LiveSource(Protocol):
    """What the builder reads: every live posting (a full build), or the change feed (the next ones)."""

    shards: int

    def load_live(self) -> Iterable[PostingRecord]: ...

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage: ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(directory: Path) -> tuple[SnapshotFile, ...]:
    return tuple(
        SnapshotFile(path.name, path.stat().st_size, _sha256(path))
        for path in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    )


def new_version(now: datetime) -> str:
    """Sortable, unique: `20261201T102200Z-3f2a9c`."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


# ---- packing ---------------------------------------------------------------------------------------
def pack_file(source: Path, target: Path) -> tuple[int, ...]:
    """Compress `source` into `target` as independent zstd frames of FRAME_BYTES; their sizes."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True)
    frames = []
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(FRAME_BYTES):
            frame = compressor.compress(chunk)
            writer.write(frame)
            frames.append(len(frame))
    return tuple(frames)


def unpack_frame(frame: bytes) -> bytes:
    import zstandard

    try:
        return zstandard.ZstdDecompressor().decompress(frame, max_output_size=FRAME_BYTES)
    except zstandard.ZstdError as exc:  # altered bytes fail the frame's checksum
        raise ValueError("a stored frame does not unpack") from exc


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def unpack_stream(stream: Readable, file: SnapshotFile, target: Path) -> None:
    """Unpack a stored file read from `stream` (its frames back to back) into `target`."""
    with target.open("wb") as writer:
        for size in file.frames:
            frame = stream.read(size)
            if len(frame) != size:
                raise ValueError(f"{file.name}: the stored file is shorter than its manifest says")
            writer.write(unpack_frame(frame))


def pack_directory(
    directory: Path,
    packed: Path,
    stored: Sequence[SnapshotFile] = (),
    *,
    now: str = "",
    refresh_before: str = "",
) -> tuple[SnapshotFile, ...]:
    """Describe the directory's files, packing into `packed` (named by SHA-256) those not `stored` yet,
    and those stored before `refresh_before`: uploaded again, they start a new life under the bucket's
    lifecycle rule, which expires only the files no snapshot uses any more. `now` is their `stored_at`."""
    known = {file.sha256: file for file in stored if file.stored_at >= refresh_before}
    packed.mkdir(parents=True, exist_ok=True)
    files = []
    for file in describe_files(directory):
        found = known.get(file.sha256)
        if found is None:
            frames = pack_file(directory / file.name, packed / file.sha256)
            found = known[file.sha256] = SnapshotFile(file.name, file.size, file.sha256, frames, now)
        files.append(dataclasses.replace(found, name=file.name))
    return tuple(files)


def unpack_file(source: Path, file: SnapshotFile, target: Path) -> None:
    with source.open("rb") as stream:
        unpack_stream(stream, file, target)


def materialize(
    manifest: SnapshotManifest,
    directory: Path,
    store: SnapshotStore,
    *,
    previous: tuple[SnapshotManifest, Path] | None = None,
) -> int:
    """Put `manifest`'s files in the empty `directory`: hard links to the files of a copy already on disk
    (`previous`: its manifest and directory) that are the same, downloads for the rest. A process moving to
    a newer snapshot needs room only for the files that changed. Returns the bytes downloaded."""
    missing: list[SnapshotFile] = []
    have = {file.name: file.sha256 for file in previous[0].files} if previous is not None else {}
    for file in manifest.files:
        if previous is not None and have.get(file.name) == file.sha256:
            if file.name in _REWRITTEN and _sha256(previous[1] / file.name) != file.sha256:
                missing.append(file)  # rewritten by a writer since it was downloaded
                continue
            try:
                os.link(previous[1] / file.name, directory / file.name)
                continue
            except OSError:  # gone (its writer merged it away) or another file system: download it
                pass
        missing.append(file)
    if missing:
        store.download(manifest, directory, missing)
    return sum(file.stored for file in missing)


# ---- the builder ------------------------------------------------------------------------------------
@dataclass(slots=True)
class BuildReport:
    manifest: SnapshotManifest | None
    published: bool
    skipped_reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)


LOCK_NAME = ".lock"


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (flock: released when the process ends, however it ends)."""
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SnapshotBuilder:
    """Compiles the live board into a snapshot, uploads its new files and publishes it as current."""

    def __init__(
        self,
        source: LiveSource,
        store: SnapshotStore,
        *,
        work_directory: Path,
        overlap_seconds: float = 30.0,
        heap_bytes: int = 128_000_000,
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
        # The last snapshot this builder published, still on its disk: the next build starts from it.
        self._kept: tuple[SnapshotManifest, Path] | None = None

    def build(self, *, requested_at: str | None = None, full: bool = False) -> BuildReport:
        """Build and publish: from the current snapshot and the changes since it, or from every live
        posting when `full`, when there is none, or when it is of another format. With `requested_at`,
        skip when the current snapshot already covers it.

        Builds sharing the work directory (the scheduled and the requested builder of one machine, as the
        local stack runs them) take turns: each one clears what the others left there."""
        self._work.mkdir(parents=True, exist_ok=True)
        with _exclusive(self._work / LOCK_NAME):
            return self._build(requested_at=requested_at, full=full)

    def _build(self, *, requested_at: str | None, full: bool) -> BuildReport:
        current = self._store.current()
        if current is not None and current.format != FORMAT_VERSION:
            current = None
        if requested_at is not None and current is not None and current.changes_after >= requested_at:
            return BuildReport(current, published=False, skipped_reason="current snapshot is newer")
        started = self._clock()
        began = self._perf()
        # Writers whose clocks lag may still add changes stamped a little before `started`: the snapshot is
        # only claimed complete up to `started - overlap`; the next build and processes re-read from there.
        changes_after = isoformat(started - self._overlap)
        version = new_version(started)
        directory = self._work / version
        packed = self._work / f"{version}.packed"
        stats: dict[str, float] = {}
        published = False
        manifest: SnapshotManifest | None = None
        try:
            if full or current is None:
                report, skipped = self._full(directory, version)
                stats["full"] = 1.0
                base: tuple[SnapshotFile, ...] = ()
            else:
                directory.mkdir()
                kept = self._kept if self._kept is not None and self._kept[1].is_dir() else None
                downloaded = materialize(current, directory, self._store, previous=kept)
                stats["downloaded_bytes"] = float(downloaded)
                report, skipped = self._changes(directory, version, current, stats)
                base = current.files
            indexed = self._perf()
            refresh_before = isoformat(started - STORED_REFRESH)
            files = pack_directory(
                directory, packed, base, now=isoformat(started), refresh_before=refresh_before
            )
            reused = {file.sha256 for file in base if file.stored_at >= refresh_before}
            manifest = SnapshotManifest(
                version=version,
                format=FORMAT_VERSION,
                built_at=isoformat(started),
                changes_after=changes_after,
                postings=report.postings,
                skipped=skipped,
                fingerprint=report.fingerprint,
                files=files,
                build_seconds=indexed - began,
            )
            self._store.upload(manifest, packed)
            uploaded = self._perf()
            published = self._store.publish(manifest)
        finally:
            shutil.rmtree(packed, ignore_errors=True)
            self._keep(directory, manifest if published else None)
        stats.update(
            {
                "index_seconds": indexed - began,
                "upload_seconds": uploaded - indexed,
                "added": float(report.added),
                "removed": float(report.removed),
                "segments": float(report.segments),
                "merged_segments": float(report.merged),
                "uploaded_bytes": float(sum(f.stored for f in files if f.sha256 not in reused)),
            }
        )
        logger.info(
            "board snapshot built",
            extra={
                "version": version,
                "full": current is None or full,
                "postings": report.postings,
                "added": report.added,
                "removed": report.removed,
                "skipped": skipped,
                "bytes": manifest.size,
                "published": published,
            },
        )
        return BuildReport(
            manifest,
            published=published,
            skipped_reason=None if published else "a newer snapshot was published meanwhile",
            stats=stats,
        )

    def _keep(self, directory: Path, manifest: SnapshotManifest | None) -> None:
        """Keep the published snapshot's directory (`manifest`) for the next build; remove every other."""
        self._kept = (manifest, directory) if manifest is not None else None
        for path in self._work.iterdir():
            if path.name != LOCK_NAME and (manifest is None or path != directory):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def _full(self, directory: Path, version: str) -> tuple[WriteReport, int]:
        skipped = 0

        def documents() -> Iterator[BoardDocument]:
            # Streamed: one decoded posting at a time, whatever the board's size.
            nonlocal skipped
            for record in self._source.load_live():
                if record.status != "live":
                    continue
                try:
                    posting = record.load()
                except Exception:  # one bad stored posting must not stop the board
                    skipped += 1
                    logger.warning("skipping an undecodable posting", extra={"job_id": record.job_id})
                    continue
                yield board_document(
                    posting, content_hash=record.content_hash, changed_key=record.changed_key
                )

        report = write_full(directory, documents(), name=f"s{version}", heap_bytes=self._heap_bytes)
        return report, skipped

    def _changes(
        self, directory: Path, version: str, current: SnapshotManifest, stats: dict[str, float]
    ) -> tuple[WriteReport, int]:
        """Apply the change feed after `current`'s horizon (every shard, to its end) to its copy."""
        latest: dict[str, PostingRecord] = {}
        pages = 0
        for shard in range(self._source.shards):
            resume: Any | None = None
            while True:
                page = self._source.changes(shard, current.changes_after, resume)
                pages += 1
                for record in page.records:
                    known = latest.get(record.job_id)
                    if known is None or record.changed_key > known.changed_key:
                        latest[record.job_id] = record
                resume = page.resume
                if resume is None:
                    break
        stats["feed_pages"] = float(pages)
        stats["feed_records"] = float(len(latest))
        skipped = 0

        def changes() -> Iterator[Change]:
            nonlocal skipped
            for record in latest.values():
                document = None
                if record.status == "live":
                    try:
                        document = board_document(
                            record.load(), content_hash=record.content_hash, changed_key=record.changed_key
                        )
                    except Exception:  # as in a full build: an undecodable posting is not on the board
                        skipped += 1
                        logger.warning("skipping an undecodable posting", extra={"job_id": record.job_id})
                yield Change(record.job_id, changed_ms_of(record.changed_key), document)

        report = write_changes(
            directory,
            changes(),
            fingerprint=current.fingerprint,
            name=f"s{version}",
            heap_bytes=self._heap_bytes,
        )
        return report, current.skipped + skipped
