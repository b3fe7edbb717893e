"""BoardService: the live board per process, opened from the newest snapshot and kept fresh from the feed.

Cold start: read the snapshot pointer, download the snapshot's files, open them (milliseconds), then read
the change feed after the snapshot's `changes_after`. Warm: whenever the last catch-up is older than
`refresh_seconds`, the next request starts a catch-up beside itself that reads every shard's change feed
(in parallel, at most `pages_per_refresh` pages per shard) and applies what changed; the request waits for
it at most `read_wait_seconds`, so a sync's writes are on every warm process within `refresh_seconds`
of its next request, however quiet the board, and a stalled table or bucket never holds up a warm read
(it answers from what is loaded, and the catch-up is retried once it has failed). Every
`snapshot_check_seconds` it also looks at the pointer and moves to a newer snapshot once it has applied
`snapshot_switch_changes` changes of its own. The request path never rebuilds the index from items.

A catch-up never stalls a request: the costly parts of a change (decoding the item, building its
document, flushing the index) happen without the lock, which the catch-up takes only briefly per batch of
`apply_batch` changes, to write the batch into the engine and then to publish it; requests are served
in between, from the board as it was. A burst that would take the process past `snapshot_switch_changes`
makes it look at the pointer at once and move to a newer snapshot, when there is one, instead of applying
the burst; the previous engine's memory is given back after a switch.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import hashlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from cachetools import LRUCache, TTLCache

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.deadline import deadline_scope, in_current_context
from chalicelib.errors import AppError, NotFoundError, UpstreamError, UpstreamUnavailableError
from chalicelib.http_headers import etag_matches
from chalicelib.models.posting import Posting, parse_job_id
from chalicelib.observability import logger
from chalicelib.services.board import feeds, json_ld, shaping
from chalicelib.services.board.cursor import BoardCursorCodec, plan_fingerprint
from chalicelib.services.board.engine import (
    FORMAT_VERSION,
    BoardDocument,
    BoardEngine,
    Hit,
    Plan,
    board_document,
    changed_ms_of,
)
from chalicelib.services.board.query import BoardQuery, SimilarQuery, SuggestQuery
from chalicelib.services.board.records import ApplyFlags, ChangePage, PostingRecord
from chalicelib.services.board.snapshot import SnapshotManifest, SnapshotStore, materialize

_SHAPE_VERSION = "2"  # bump when response shapes change, so cached ETags stop matching
_APPLY_FLAGS_CACHE_SIZE = 4096  # (employer, account) pairs whose apply options a warm process remembers
# Postings whose item this process has read (a job's detail and page): what it serves while the table stalls.
_LOADED_ITEMS_CACHE_SIZE = 2048
_Read = TypeVar("_Read")
_Known = TypeVar("_Known")
_BEGINNING = "0000"
SIMILAR_ON_PAGE = 5  # similar jobs a job's page lists  # sorts before every change-feed key: "everything"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BoardSource(Protocol):
    """The board's reads from the table (DynamoDB in production)."""

    shards: int

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage: ...

    def posting(self, job_id: str) -> PostingRecord | None: ...

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags: ...


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, from the symbols already loaded in the process (None elsewhere)."""
    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    return trim


def _release_freed_memory() -> None:
    """Collect the cycles a retired engine may have left, then hand the C heap's free pages back to the
    system (glibc keeps freed memory for reuse otherwise; elsewhere this is only the collection)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@dataclass(frozen=True, slots=True)
class _Change:
    """A change read from the feed, made ready off the lock: the posting's new document, None to take it
    off the board, or `undecodable` when its stored item could not be read."""

    job_id: str
    document: BoardDocument | None = None
    undecodable: bool = False


@dataclass(slots=True)
class _Feed:
    shard: int
    newest_seen: str  # changed_at of the newest change read on this shard (or the snapshot's horizon)
    after: str = ""  # the lower bound of the query in progress
    resume: Any | None = None


@dataclass(frozen=True, slots=True)
class BoardResponse:
    """A response body (None when the client's copy is current) and its validator."""

    etag: str
    body: Any | None
    content_type: str = "application/json"

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True, slots=True)
class JobPage:
    """What a job's public page shows: the live posting, or why there is none (closed or unknown)."""

    state: Literal["live", "closed", "unknown"]
    job: dict[str, Any] | None = None  # the `GET /jobs/{job_id}` body when live
    title: str | None = None  # a closed posting's title and company, for the "no longer open" page
    company: str | None = None
    similar: list[dict[str, Any]] = field(default_factory=list)  # summaries of similar live postings


@dataclass(slots=True)
class BoardStats:
    cold_opens: int = 0
    snapshot_switches: int = 0
    refresh_queries: int = 0
    applied_changes: int = 0
    skipped_changes: int = 0
    bad_records: int = 0
    refresh_failures: int = 0
    apply_batches: int = 0  # batches of changes applied beside requests (each committed on its own)
    stale_reads: int = 0  # items and apply flags served from what was loaded because the table failed
    extra: dict[str, float] = field(default_factory=dict)


class BoardService:
    """Search, detail and feeds over the process's copy of the live board."""

    def __init__(
        self,
        source: BoardSource,
        snapshots: SnapshotStore,
        *,
        local_directory: Path,
        public_base_url: str,
        board_name: str,
        cursor_key: bytes,
        embloy_providers: Iterable[str],
        refresh_seconds: float = 5.0,
        pages_per_refresh: int = 5,
        read_wait_seconds: float = 0.5,
        overlap_seconds: float = 30.0,
        snapshot_check_seconds: float = 60.0,
        snapshot_switch_changes: int = 500,
        apply_batch: int = 50,
        apply_flags_max_age_seconds: float = 60.0,
        facet_limit: int = 100,
        feed_limit: int = 50,
        sitemap_max_urls: int = feeds.SITEMAP_MAX_URLS,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._snapshots = snapshots
        self._local = local_directory
        self._public_base_url = public_base_url.rstrip("/")
        self._board_name = board_name
        self._cursors = BoardCursorCodec(cursor_key)
        self._embloy_providers = frozenset(p.lower() for p in embloy_providers)
        self._refresh_seconds = refresh_seconds
        self._pages_per_refresh = pages_per_refresh
        self._overlap = timedelta(seconds=overlap_seconds)
        self._snapshot_check_seconds = snapshot_check_seconds
        self._snapshot_switch_changes = snapshot_switch_changes
        self._apply_batch = max(1, apply_batch)
        self._facet_limit = facet_limit
        self._feed_limit = feed_limit
        self._sitemap_max_urls = sitemap_max_urls
        self._clock = clock
        self._monotonic = monotonic
        self._engine: BoardEngine | None = None
        self._manifest: SnapshotManifest | None = None
        self._feeds: list[_Feed] = []
        self._versions: dict[str, str] = {}  # job_id -> changed_key applied since the snapshot was opened
        self._backlog: list[PostingRecord] = []  # read by the cold open, left to the catch-up beside it
        self._changes_since_open = 0
        self._refreshed_at = 0.0
        self._checked_at = 0.0
        self._behind = False
        self._opened = 0
        self._instance = secrets.token_hex(4)  # several services may share a process (benchmarks, tests)
        self._pool: ThreadPoolExecutor | None = None
        self._apply_cache: TTLCache[tuple[str, str], ApplyFlags] = TTLCache(
            maxsize=_APPLY_FLAGS_CACHE_SIZE, ttl=apply_flags_max_age_seconds, timer=monotonic
        )
        # Last known answers of the table's per-request reads, served when a fresh read fails; a read
        # that has one to fall back on waits at most `read_wait_seconds`.
        self._known_flags: LRUCache[tuple[str, str], ApplyFlags] = LRUCache(maxsize=_APPLY_FLAGS_CACHE_SIZE)
        self._loaded_items: LRUCache[str, PostingRecord] = LRUCache(maxsize=_LOADED_ITEMS_CACHE_SIZE)
        self._sitemaps: dict[int, tuple[str, str]] = {}
        self._sitemap_version = ""  # page (0 = the index or the only one) -> etag, body
        self._etag_prefix = f"{_SHAPE_VERSION}|{self._public_base_url}"
        # Lambda serves one request at a time; `chalice local` may not, and the engine is updated in place.
        self._lock = threading.RLock()
        self._refresh: threading.Thread | None = None  # the catch-up running beside requests, if any
        self._progress: threading.Event | None = None  # set once requests need not wait for it
        self._refresh_started = 0.0
        self._read_wait = read_wait_seconds
        self.stats = BoardStats()

    # ---- freshness ----------------------------------------------------------------------------------
    def board(self) -> BoardEngine:
        """The engine, opened on first use and caught up with the change feed when due."""
        self._freshen()
        with self._lock:
            return self._loaded()

    def _loaded(self) -> BoardEngine:
        """The engine as it is, opened first if this process has none (the cold open; lock held).

        The cold open reads the change feed after the snapshot in the request (a failure is a 503). It
        applies what it read there when that is one batch at most; a longer feed is left to the catch-up
        beside the request (`_freshen`), so the cold request does at most one batch of it too.
        """
        if self._engine is None:
            self._open(self._snapshots.current())
            self.stats.cold_opens += 1
            started = time.perf_counter()
            records = self._read_changes(strict=True, may_switch=False)
            assert records is not None  # strict: a failed read raised
            if len(records) <= self._apply_batch:
                self._apply_all(records)
            else:
                self._backlog = records
            self._caught_up(started)
        assert self._engine is not None
        return self._engine

    def _freshen(self) -> None:
        """Open the board if this process has none, start the catch-up when one is due, beside the
        request, and wait for it a little.

        The request waits at most `read_wait_seconds` from the catch-up's start (a healthy one takes
        milliseconds, so it sees the sync's writes), then answers from what is loaded while the catch-up
        goes on: a stalled table or bucket never holds up a warm board read. When the catch-up finds more
        than one batch of changes, the request stops waiting at once (a burst is applied beside the
        requests that follow). One catch-up at a time; it runs outside any request deadline, on the
        clients' own timeouts. Called without the lock.
        """
        with self._lock:
            if self._engine is None:
                self._loaded()  # the cold open happens in the request, under the lock
            refresh, progress = self._refresh, self._progress
            if refresh is None and (
                self._backlog
                or self._behind
                or self._monotonic() - self._refreshed_at >= self._refresh_seconds
            ):
                progress = threading.Event()
                refresh = threading.Thread(
                    target=self._background_catch_up, args=(progress,), name="board-refresh", daemon=True
                )
                # The wait is real time (a thread's progress), unlike the injected freshness clock.
                self._refresh, self._progress, self._refresh_started = refresh, progress, time.monotonic()
                refresh.start()
            started = self._refresh_started
        if progress is not None:
            progress.wait(max(0.0, self._read_wait - (time.monotonic() - started)))

    def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the catch-up in progress; True when none is running (tests,
        benchmarks)."""
        with self._lock:
            refresh = self._refresh
        if refresh is not None:
            refresh.join(timeout)
        return refresh is None or not refresh.is_alive()

    def _background_catch_up(self, progress: threading.Event) -> None:
        """The catch-up beside requests; `progress` is set once the waiting request should go on."""
        try:
            started = time.perf_counter()
            switches = self.stats.snapshot_switches
            records = self._read_changes(strict=False, may_switch=True, progress=progress)
            if self.stats.snapshot_switches != switches:
                _release_freed_memory()  # the retired engine's, here beside requests rather than in one
            if records is not None:
                self._apply_in_batches(records)
                with self._lock:
                    self._caught_up(started)
        except Exception:  # never lose the thread's failure silently; the next due request retries
            logger.exception("board refresh crashed")
            with self._lock:
                self.stats.refresh_failures += 1
                self._refreshed_at = self._monotonic()
        finally:
            with self._lock:
                self._refresh = self._progress = None
            progress.set()

    def fresh_board(self, *, max_catch_ups: int = 50) -> BoardEngine:
        """The engine with every change written before this call applied (job alerts: a posting missing
        from a stale board would be skipped for good). A failed read raises (AppError) instead of
        serving the board as it was; so does a feed still unread after `max_catch_ups` rounds.

        Not on a request path: it applies what it reads in one go, holding the lock."""
        for _ in range(max_catch_ups):
            if not self.settle(timeout=60.0):  # a catch-up already running beside requests finishes first
                break
            with self._lock:
                if self._refresh is not None:  # a request started another one meanwhile
                    continue
                return self._caught_up_fully(max_catch_ups)
        raise UpstreamUnavailableError(
            "The board is still catching up with its change feed.", code="board_unavailable"
        )

    def _caught_up_fully(self, max_catch_ups: int) -> BoardEngine:
        """Read the whole feed and apply it (lock held; no catch-up runs beside it)."""
        self._loaded()
        finished: set[int] = set()  # shards whose feed was read to its end during this call
        for _ in range(max_catch_ups):
            engine = self._engine
            started = time.perf_counter()
            records = self._read_changes(strict=True, may_switch=True)
            assert records is not None
            self._apply_all(records)
            self._caught_up(started)
            if self._engine is not engine:  # moved to a newer snapshot: its feeds start over
                finished.clear()
            finished.update(feed.shard for feed in self._feeds if feed.resume is None)
            if len(finished) == len(self._feeds):
                assert self._engine is not None
                return self._engine
        raise UpstreamUnavailableError(
            "The board is still catching up with its change feed.", code="board_unavailable"
        )

    @property
    def snapshot(self) -> SnapshotManifest | None:
        return self._manifest

    def _open(self, manifest: SnapshotManifest | None) -> None:
        """Open `manifest`'s snapshot (or an empty board when there is none yet) in a fresh directory."""
        self._install(*self._prepare(manifest))

    def _prepare(
        self, manifest: SnapshotManifest | None
    ) -> tuple[BoardEngine, SnapshotManifest | None, dict[str, float]]:
        """Download and open a snapshot beside the one in service (no lock: requests go on meanwhile)."""
        if not self._opened:
            self._remove_leftovers()
        self._opened += 1
        directory = self._local / f"board-{os.getpid()}-{self._instance}-{self._opened}"
        started = time.perf_counter()
        if manifest is not None and manifest.format != FORMAT_VERSION:
            logger.warning("ignoring a snapshot of another format", extra={"version": manifest.version})
            manifest = None
        downloaded = 0
        if manifest is None:
            fingerprint = BoardEngine.create(directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            # The files the snapshot in service shares with the new one are hard-linked, not downloaded.
            engine, ours = self._engine, self._manifest
            previous = (ours, engine.directory) if engine is not None and ours is not None else None
            try:
                downloaded = materialize(manifest, directory, self._snapshots, previous=previous)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            fingerprint = manifest.fingerprint
        fetched = time.perf_counter()
        engine = BoardEngine(
            directory, fingerprint=fingerprint, facet_limit=self._facet_limit, clock=self._clock
        )
        opened = time.perf_counter()
        timings = {
            "download_seconds": fetched - started,
            "open_seconds": opened - fetched,
            "downloaded_bytes": float(downloaded),
        }
        return engine, manifest, timings

    def _install(
        self, engine: BoardEngine, manifest: SnapshotManifest | None, timings: dict[str, float]
    ) -> None:
        """Put a prepared engine in service and retire the previous one: closed and removed once requests
        no longer see it, and then unreferenced, so its bitmaps, caches and index readers go with it."""
        with self._lock:
            previous, self._engine, self._manifest = self._engine, engine, manifest
            horizon = manifest.changes_after if manifest is not None else _BEGINNING
            self._feeds = [_Feed(shard, horizon) for shard in range(self._source.shards)]
            self._versions = {}
            self._backlog = []
            self._sitemaps, self._sitemap_version = {}, ""
            self._changes_since_open = 0
            self._checked_at = self._monotonic()
            self.stats.extra.update(timings)
        if previous is not None:
            previous.close()
            shutil.rmtree(previous.directory, ignore_errors=True)

    def _remove_leftovers(self) -> None:
        """Snapshot copies of processes that are gone (a reused Lambda sandbox keeps /tmp)."""
        for path in self._local.glob("board-*-*-*"):
            pid = path.name.split("-")[1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)

    def _maybe_switch(self, pending: int = 0) -> bool:
        """Move to a newer snapshot once enough changes piled up on top of ours, counting the `pending`
        ones read but not applied yet (or at once when we had none); True when it moved."""
        self._checked_at = self._monotonic()
        current = self._snapshots.current()
        if current is None or current.format != FORMAT_VERSION:
            return False
        ours = self._manifest
        if ours is not None and (
            current.changes_after <= ours.changes_after
            or self._changes_since_open + pending < self._snapshot_switch_changes
        ):
            return False
        self._open(current)
        self.stats.snapshot_switches += 1
        return True

    def _read_changes(
        self, *, strict: bool, may_switch: bool, progress: threading.Event | None = None
    ) -> list[PostingRecord] | None:
        """The changes to apply: what the cold open left, then every shard's change feed (read in
        parallel). With `may_switch`, a newer snapshot is taken when the check is due, or at once when
        the changes read would take the process past `snapshot_switch_changes`: then its feed is read
        instead of applying them. On failure keep serving (None), unless `strict` (the cold open, job
        alerts), which raises, dropping the copy of a cold open so that the next request opens afresh.
        `progress` is set once more than one batch was read: the request waiting for it goes on.

        No lock is held while reading (one catch-up runs at a time)."""
        try:
            if may_switch and self._monotonic() - self._checked_at >= self._snapshot_check_seconds:
                self._maybe_switch()
            records = [*self._backlog, *(r for page in self._read_feeds() for r in page)]
            self._backlog = []
            if progress is not None and len(records) > self._apply_batch:
                progress.set()  # a burst: the request answers from the board as it is
            # Only changes not applied yet count (overlap re-reads do not); `_versions` is written by
            # the catch-up alone.
            pending = sum(1 for r in records if self._versions.get(r.job_id, "") < r.changed_key)
            if (
                may_switch
                and pending
                and self._changes_since_open + pending >= self._snapshot_switch_changes
                and self._maybe_switch(pending)
            ):
                records = [r for page in self._read_feeds() for r in page]
        except AppError as exc:
            with self._lock:
                if strict:
                    if self._engine is not None:  # the next request opens a fresh copy
                        self._engine.close()
                        shutil.rmtree(self._engine.directory, ignore_errors=True)
                    self._engine = None
                    raise
                self.stats.refresh_failures += 1
                self._refreshed_at = self._monotonic()
            logger.warning("board refresh failed", extra={"error_code": exc.code})
            return None
        return records

    def _caught_up(self, started: float) -> None:
        """Record a finished catch-up (lock held)."""
        self._behind = bool(self._backlog) or any(feed.resume is not None for feed in self._feeds)
        self._refreshed_at = self._monotonic()
        self.stats.extra["catch_up_seconds"] = time.perf_counter() - started

    def _apply_all(self, records: list[PostingRecord]) -> None:
        """Apply `records` in one go and commit (lock held: the cold open's one batch, job alerts)."""
        assert self._engine is not None
        for record in records:
            self._apply(record)
        self._engine.commit()

    def _apply_in_batches(self, records: list[PostingRecord]) -> None:
        """Apply `records` beside requests, `apply_batch` at a time, taking the lock only for the quick
        steps: which of a batch are news, then writing the batch into the engine (searches do not see
        it yet), then publishing it once flushed. Building the documents (about 1 ms each) and flushing
        the index (tens of milliseconds, outside the GIL) happen without the lock: requests are served
        meanwhile, from the board as it was before the batch."""
        with self._lock:
            engine = self._engine
        for start in range(0, len(records), self._apply_batch):
            batch = records[start : start + self._apply_batch]
            with self._lock:
                if self._engine is not engine or engine is None:
                    return  # the board was reopened meanwhile: its own feed is read from its horizon
                held = self._hold_started()
                news = [record for record in batch if self._is_news(record)]
                self._held("news", held)
            changes = [self._prepared(record) for record in news]
            with self._lock:
                held = self._hold_started()
                for change in changes:
                    self._put(change)
                self._held("write", held)
            flushing = time.perf_counter()
            engine.flush()  # only this thread writes to the engine; searches read what is published
            flushed = time.perf_counter() - flushing
            with self._lock:
                held = self._hold_started()
                engine.reveal()
                self.stats.apply_batches += 1
                extra = self.stats.extra
                extra["flush_seconds"] = extra.get("flush_seconds", 0.0) + flushed
                extra["longest_flush_seconds"] = max(extra.get("longest_flush_seconds", 0.0), flushed)
                self._held("publish", held)

    @staticmethod
    def _hold_started() -> tuple[float, float]:
        return time.perf_counter(), time.thread_time()

    def _held(self, step: str, since: tuple[float, float]) -> None:
        """Record the longest time the catch-up held the lock for `step`, in wall and in this thread's CPU
        time (wall time includes waiting for a CPU on a busy machine; lock held)."""
        extra = self.stats.extra
        for name, took in (
            (f"longest_{step}_hold_seconds", time.perf_counter() - since[0]),
            (f"longest_{step}_hold_cpu_seconds", time.thread_time() - since[1]),
        ):
            extra[name] = max(extra.get(name, 0.0), took)

    def _apply(self, record: PostingRecord) -> None:
        """Apply one change in place (lock held)."""
        if self._is_news(record):
            self._put(self._prepared(record))

    def _is_news(self, record: PostingRecord) -> bool:
        """Whether the board lacks this version of the posting (lock held); marks it as applied, so that
        re-reads, even of an undecodable item, are skipped without decoding."""
        assert self._engine is not None
        known = self._versions.get(record.job_id)
        if known is not None and record.changed_key <= known:
            self.stats.skipped_changes += 1  # already applied (overlap re-read) or older than what we have
            return False
        if known is None:
            version = self._engine.version(record.job_id)
            if version is not None and changed_ms_of(record.changed_key) <= version.changed_ms:
                self.stats.skipped_changes += 1  # the snapshot has this version (or a newer one)
                return False
        self._versions[record.job_id] = record.changed_key
        return True

    def _prepared(self, record: PostingRecord) -> _Change:
        """The change ready to apply: the item decoded and its document built (no lock needed)."""
        if record.status != "live":
            return _Change(record.job_id)
        try:
            document = board_document(
                record.load(), content_hash=record.content_hash, changed_key=record.changed_key
            )
        except Exception:  # one bad stored posting must not take the board down
            logger.warning("skipping an undecodable posting", extra={"job_id": record.job_id})
            return _Change(record.job_id, undecodable=True)
        return _Change(record.job_id, document)

    def _put(self, change: _Change) -> None:
        """Put a prepared change on the board (lock held; searches see it after the commit)."""
        assert self._engine is not None
        if change.undecodable:
            self.stats.bad_records += 1
        elif change.document is None:
            if self._engine.remove(change.job_id):
                self._count_change()
        else:
            self._engine.upsert(change.document)
            self._count_change()

    def _read_feeds(self) -> list[list[PostingRecord]]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._feeds)), thread_name_prefix="board")
        # The shard readers see the caller's request deadline (the cold open); a background catch-up has none.
        return list(self._pool.map(in_current_context(self._read_feed), self._feeds))

    def _read_feed(self, feed: _Feed) -> list[PostingRecord]:
        records: list[PostingRecord] = []
        for _ in range(self._pages_per_refresh):
            if feed.resume is None:
                newest = feed.newest_seen
                if newest != _BEGINNING:
                    moment = datetime.fromisoformat(newest.replace("Z", "+00:00"))
                    # A writer whose clock runs ahead must not move our read point past changes to come.
                    newest = isoformat(min(moment, self._clock()) - self._overlap)
                feed.after = newest
            page = self._source.changes(feed.shard, feed.after, feed.resume)
            self.stats.refresh_queries += 1
            records.extend(page.records)
            for record in page.records:
                feed.newest_seen = max(feed.newest_seen, record.changed_at)
            feed.resume = page.resume
            if page.resume is None:
                break
        return records

    def _count_change(self) -> None:
        self._changes_since_open += 1
        self.stats.applied_changes += 1

    def _etag(self, *parts: object) -> str:
        text = "|".join(str(part) for part in (self._etag_prefix, *parts))
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'

    def _summary(self, hit: Hit) -> dict[str, Any]:
        return {**hit.summary, "url": shaping.job_url(self._public_base_url, hit.job_id)}

    # ---- reads --------------------------------------------------------------------------------------
    def list_jobs(self, query: BoardQuery, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs`: a page of summaries, the next cursor, the total and facet counts."""
        self._freshen()
        with self._lock:
            plan = query.plan()
            position = self._cursors.decode(query.cursor, plan) if query.cursor else None
            engine = self._loaded()
            etag = self._etag(
                "jobs",
                engine.fingerprint,
                engine.time_state(),
                plan_fingerprint(plan),
                query.limit,
                query.cursor,
            )
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None)
            page = engine.search(plan, after=position, limit=query.limit)
            next_cursor = self._cursors.encode(plan, page.hits[-1].position) if page.has_more else None
            body = {
                "data": [self._summary(hit) for hit in page.hits],
                "next_cursor": next_cursor,
                "total": page.total,
                "facets": page.facets,
            }
            return BoardResponse(etag, body)

    def suggest(self, query: SuggestQuery, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs/suggest`: titles, companies and places for a query being typed."""
        self._freshen()
        with self._lock:
            terms, typed, prefix = query.terms()
            engine = self._loaded()
            etag = self._etag(
                "suggest", engine.fingerprint, "|".join(terms), " ".join(typed), prefix, query.limit
            )
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None)
            found = engine.suggest(terms, typed, prefix=prefix, limit=query.limit)
            body = {
                kind: [{"text": item.text, "count": item.count} for item in getattr(found, kind)]
                for kind in ("titles", "companies", "places")
            }
            return BoardResponse(etag, body)

    def similar(self, job_id: str, query: SimilarQuery, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs/{job_id}/similar`: live postings like a live one (404 when it is not on the board)."""
        parse_job_id(job_id)
        self._freshen()
        with self._lock:
            engine = self._loaded()
            if engine.version(job_id) is None:
                raise NotFoundError("No such job, or it is no longer open.", code="job_not_found")
            etag = self._etag("similar", engine.fingerprint, job_id, query.limit)
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None)
            body = {"data": [self._summary(hit) for hit in engine.similar(job_id, query.limit)]}
            return BoardResponse(etag, body)

    def similar_summaries(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        """The summaries of the postings like `job_id` (the job page's "Similar jobs")."""
        self._freshen()
        with self._lock:
            return [self._summary(hit) for hit in self._loaded().similar(job_id, limit)]

    def get_job(self, job_id: str, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs/{job_id}`: the full posting (one read of its item) with apply options and JSON-LD."""
        parse_job_id(job_id)  # 404 for anything that is not a board id, before any read
        posting, content_hash = self._live_posting(job_id, self._posting_record(job_id))
        apply = self.apply_options(posting)
        etag = self._etag("job", job_id, content_hash, apply["embloy"], apply["native"])
        if etag_matches(if_none_match, etag):
            return BoardResponse(etag, None)
        return BoardResponse(etag, self._detail(posting, apply))

    def job_page(self, job_id: str) -> JobPage:
        """A job's page: the live posting, "closed" (with its title) or "unknown" (one read of its item)."""
        try:
            parse_job_id(job_id)
        except NotFoundError:
            return JobPage("unknown")
        record = self._posting_record(job_id)
        if record is not None and record.status != "live":
            try:
                closed = record.load()
            except Exception:  # an undecodable closed item: still closed, just without its title
                return JobPage("closed")
            return JobPage("closed", title=closed.title, company=closed.company)
        try:
            posting, _ = self._live_posting(job_id, record)
        except NotFoundError:
            return JobPage("unknown")
        apply = self.apply_options(posting)
        try:
            similar = self.similar_summaries(job_id, SIMILAR_ON_PAGE)
        except AppError as exc:  # the page shows the posting without them rather than fail
            logger.warning("similar jobs unavailable", extra={"error_code": exc.code})
            similar = []
        return JobPage("live", job=self._detail(posting, apply), similar=similar)

    def _live_posting(self, job_id: str, record: PostingRecord | None) -> tuple[Posting, str]:
        if record is None or record.status != "live":
            raise NotFoundError("No such job, or it is no longer open.", code="job_not_found")
        try:
            return record.load(), record.content_hash
        except Exception as exc:  # an undecodable item is not on the board
            self.stats.bad_records += 1
            logger.warning("skipping an undecodable posting", extra={"job_id": job_id})
            raise NotFoundError("No such job, or it is no longer open.", code="job_not_found") from exc

    def _detail(self, posting: Posting, apply: dict[str, Any]) -> dict[str, Any]:
        url = shaping.job_url(self._public_base_url, posting.job_id)
        document = json_ld.job_posting(posting, url=url, direct_apply=apply["embloy"] or apply["native"])
        return shaping.detail(posting, self._public_base_url, apply=apply, json_ld=document)

    def apply_options(self, posting: Posting) -> dict[str, Any]:
        """{"embloy", "native", "external_url"} for a posting (flags cached per employer and account)."""
        flags = self._apply_flags(posting.employer_id, posting.account_id)
        embloy = (
            posting.provider.lower() in self._embloy_providers
            and flags.embloy_configured
            and not flags.embloy_needs_renewal
        )
        return {
            "embloy": embloy,
            "native": not flags.native_apply_unsupported,
            "external_url": posting.external_apply_url or posting.external_url,
        }

    def _apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        cache_key = (employer_id, account_id)
        with self._lock:
            cached = self._apply_cache.get(cache_key)
            known = self._known_flags.get(cache_key)
        if cached is not None:
            return cached
        flags = self._read_or_known(lambda: self._source.apply_flags(employer_id, account_id), known)
        with self._lock:
            self._apply_cache[cache_key] = flags
            self._known_flags[cache_key] = flags
        return flags

    def _posting_record(self, job_id: str) -> PostingRecord | None:
        """The posting's item, read fresh; the last one read when the table does not answer."""
        with self._lock:
            loaded = self._loaded_items.get(job_id)
        record = self._read_or_known(lambda: self._source.posting(job_id), loaded)
        with self._lock:
            if record is None:
                self._loaded_items.pop(job_id, None)
            else:
                self._loaded_items[job_id] = record
        return record

    def _read_or_known(self, read: Callable[[], _Read], known: _Known | None) -> _Read | _Known:
        """`read()`; with a last known answer, `read()` waits at most `read_wait_seconds` and a failed
        one serves what is known (refreshed by the next read that succeeds). No lock is held meanwhile."""
        if known is None:
            return read()
        try:
            with deadline_scope(self._read_wait):
                return read()
        except UpstreamError as exc:
            with self._lock:
                self.stats.stale_reads += 1
            logger.warning("serving a loaded copy: the table did not answer", extra={"error_code": exc.code})
            return known

    def rss(self, query: BoardQuery, *, self_url: str, if_none_match: str | None = None) -> BoardResponse:
        """`GET /feed.xml`: the newest live postings matching the query's words and filters."""
        self._freshen()
        with self._lock:
            plan = query.plan()
            plan = Plan(terms=plan.terms, filters=plan.filters, relevance=False)
            limit = query.limit if "limit" in query.model_fields_set else self._feed_limit
            engine = self._loaded()
            etag = self._etag(
                "rss", engine.fingerprint, engine.time_state(), plan_fingerprint(plan), limit, self_url
            )
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None, "application/rss+xml; charset=utf-8")
            page = engine.search(plan, after=None, limit=limit, facets=False)
            document = feeds.rss(
                page.hits,
                board_name=self._board_name,
                public_base_url=self._public_base_url,
                self_url=self_url,
            )
            return BoardResponse(etag, document, "application/rss+xml; charset=utf-8")

    def sitemap(self, *, page: int | None = None, if_none_match: str | None = None) -> BoardResponse:
        """`GET /sitemap.xml`: every live posting's page, rendered once per board version.

        Up to `sitemap_max_urls` postings it is one sitemap; past that it is a sitemap index whose
        entries are `sitemap.xml?page=N` (1-based), each a sitemap of up to `sitemap_max_urls` postings.
        """
        content_type = "application/xml; charset=utf-8"
        self._freshen()
        with self._lock:
            engine = self._loaded()
            total = len(engine)
            pages = max(1, -(-total // self._sitemap_max_urls))
            if page is not None and not 1 <= page <= pages:
                raise NotFoundError("No such sitemap page.", code="sitemap_page_not_found")
            number = 0 if pages == 1 or page is None else page
            etag = self._etag("sitemap", engine.fingerprint, self._sitemap_max_urls, number, pages)
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None, content_type)
            cached = self._sitemaps.get(number)
            if cached is None or cached[0] != etag:
                if number == 0 and pages > 1:
                    index_url = f"{self._public_base_url}/sitemap.xml"
                    body = feeds.sitemap_index([f"{index_url}?page={n}" for n in range(1, pages + 1)])
                else:
                    hits = self._sitemap_hits(engine, max(number, 1))
                    body = feeds.sitemap(hits, public_base_url=self._public_base_url)
                if self._sitemap_version != engine.fingerprint:
                    self._sitemaps, self._sitemap_version = {}, engine.fingerprint  # every page is stale
                self._sitemaps[number] = (etag, body)
                cached = (etag, body)
            return BoardResponse(etag, cached[1], content_type)

    def _sitemap_hits(self, engine: BoardEngine, page: int) -> list[Hit]:
        """The postings of 1-based sitemap page `page`, newest first."""
        after = None
        for _ in range(page - 1):
            skipped = engine.search(Plan(), after=after, limit=self._sitemap_max_urls, facets=False)
            if not skipped.hits:
                return []
            after = skipped.hits[-1].position
        return engine.search(Plan(), after=after, limit=self._sitemap_max_urls, facets=False).hits
