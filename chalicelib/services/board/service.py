"""BoardService: the live board kept in memory per process, refreshed from the change feed.

Cold start: one pass over the sparse live index (every shard). Afterwards a request runs at most
`queries_per_request` change-feed queries (default one): the stalest shard whose last refresh is older
than `refresh_seconds`, or a shard with an unfinished page. Each query reads `changed_at > newest seen -
overlap`, so writers whose clocks lag a little are still picked up; versions already applied are skipped
without decoding. Search, filters, facets, paging and feeds then run on the in-memory index.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.errors import AppError, NotFoundError
from chalicelib.models.posting import Posting
from chalicelib.observability import logger
from chalicelib.services.board import feeds, json_ld, shaping
from chalicelib.services.board.cursor import CursorCodec, plan_fingerprint
from chalicelib.services.board.index import BoardIndex, Entry, Plan, make_entry
from chalicelib.services.board.query import BoardQuery

_SHAPE_VERSION = "1"  # bump when response shapes change, so cached ETags stop matching


@dataclass(frozen=True, slots=True)
class PostingRecord:
    """A posting item as the board reads it; `load` decodes the full posting only when needed."""

    job_id: str
    status: str
    changed_key: str  # `{changed_at}#{job_id}`: the change feed's sort key for this version
    content_hash: str
    load: Callable[[], Posting]

    @property
    def changed_at(self) -> str:
        return self.changed_key.partition("#")[0]


@dataclass(frozen=True, slots=True)
class ChangePage:
    records: list[PostingRecord]
    resume: Any | None  # where the same query continues, when the page was cut short


@dataclass(frozen=True, slots=True)
class ApplyFlags:
    """What the employer profile and account sync state say about applying."""

    embloy_configured: bool = False
    embloy_needs_renewal: bool = False
    native_apply_unsupported: bool = False


class BoardSource(Protocol):
    """The board's reads from storage (DynamoDB in production)."""

    shards: int

    def load_live(self) -> Iterable[PostingRecord]: ...

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage: ...

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags: ...


@dataclass(slots=True)
class _Feed:
    shard: int
    newest_seen: str  # changed_at of the newest change read on this shard (or the cold-load start)
    refreshed_at: float
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


@dataclass(slots=True)
class BoardStats:
    cold_loads: int = 0
    refresh_queries: int = 0
    applied_changes: int = 0
    skipped_changes: int = 0
    refresh_failures: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header against our ETag."""
    if not if_none_match:
        return False
    candidates = [part.strip() for part in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == bare for c in candidates)


class BoardService:
    """Search, detail and feeds over an in-memory copy of the live board."""

    def __init__(
        self,
        source: BoardSource,
        *,
        public_base_url: str,
        board_name: str,
        cursor_key: bytes,
        embloy_providers: Iterable[str],
        refresh_seconds: float = 5.0,
        queries_per_request: int = 1,
        overlap_seconds: float = 30.0,
        apply_flags_max_age_seconds: float = 60.0,
        facet_limit: int = 100,
        feed_limit: int = 50,
        freeze_gc_after_load: bool = False,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._public_base_url = public_base_url.rstrip("/")
        self._board_name = board_name
        self._cursors = CursorCodec(cursor_key)
        self._embloy_providers = frozenset(p.lower() for p in embloy_providers)
        self._refresh_seconds = refresh_seconds
        self._queries_per_request = queries_per_request
        self._overlap = timedelta(seconds=overlap_seconds)
        self._apply_flags_max_age = apply_flags_max_age_seconds
        self._facet_limit = facet_limit
        self._feed_limit = feed_limit
        self._freeze_gc = freeze_gc_after_load
        self._clock = clock
        self._monotonic = monotonic
        self._index: BoardIndex | None = None
        self._versions: dict[str, str] = {}  # job_id -> changed_key of the newest version applied
        self._feeds: list[_Feed] = []
        self._apply_cache: dict[tuple[str, str], tuple[float, ApplyFlags]] = {}
        self._sitemap: tuple[str, str] | None = None
        self._etag_prefix = f"{_SHAPE_VERSION}|{self._public_base_url}"
        # Lambda serves one request at a time; `chalice local` may not, and the index is mutated in place.
        self._lock = threading.RLock()
        self.stats = BoardStats()

    # ---- freshness ----------------------------------------------------------------------------------
    def board(self) -> BoardIndex:
        """The index, loaded on first use and refreshed when due (at most one query per request)."""
        with self._lock:
            if self._index is None:
                self._cold_load()
                assert self._index is not None
                return self._index
            for _ in range(self._queries_per_request):
                feed = min(self._feeds, key=lambda f: (f.resume is None, f.refreshed_at))
                if feed.resume is None and self._monotonic() - feed.refreshed_at < self._refresh_seconds:
                    break
                try:
                    self._refresh(feed)
                except AppError as exc:
                    # A failing refresh must not take the board down: serve what we have, retry later.
                    self.stats.refresh_failures += 1
                    feed.refreshed_at = self._monotonic()
                    logger.warning(
                        "board refresh failed", extra={"error_code": exc.code, "shard": feed.shard}
                    )
                    break
            return self._index

    def _cold_load(self) -> None:
        started_at = isoformat(self._clock())
        started = time.perf_counter()
        records = [record for record in self._source.load_live() if record.status == "live"]
        fetched = time.perf_counter()
        entries: list[Entry] = []
        for record in records:
            self._versions[record.job_id] = record.changed_key
            entries.append(self._entry(record))
        decoded = time.perf_counter()
        self._index = BoardIndex(entries, facet_limit=self._facet_limit)
        indexed = time.perf_counter()
        now = self._monotonic()
        self._feeds = [_Feed(shard, started_at, now) for shard in range(self._source.shards)]
        self.stats.cold_loads += 1
        if self._freeze_gc:
            # The board is millions of long-lived objects: keep the cyclic GC from walking them on every
            # full collection (a multi-millisecond pause in the middle of a request otherwise).
            import gc

            gc.collect()
            gc.freeze()
        self.stats.extra.update(
            cold_fetch_seconds=fetched - started,
            cold_decode_seconds=decoded - fetched,
            cold_index_seconds=indexed - decoded,
            cold_gc_seconds=time.perf_counter() - indexed,
        )

    def _refresh(self, feed: _Feed) -> None:
        assert self._index is not None
        if feed.resume is None:
            newest = datetime.fromisoformat(feed.newest_seen.replace("Z", "+00:00"))
            # A writer whose clock runs ahead must not move our read point past changes still to come.
            newest = min(newest, self._clock())
            feed.after = isoformat(newest - self._overlap)
        page = self._source.changes(feed.shard, feed.after, feed.resume)
        self.stats.refresh_queries += 1
        for record in page.records:
            self._apply(record)
            feed.newest_seen = max(feed.newest_seen, record.changed_at)
        feed.resume = page.resume
        if page.resume is None:
            feed.refreshed_at = self._monotonic()

    def _apply(self, record: PostingRecord) -> None:
        assert self._index is not None
        known = self._versions.get(record.job_id)
        if known is not None and record.changed_key <= known:
            self.stats.skipped_changes += 1  # already applied (overlap re-read) or older than what we have
            return
        self._versions[record.job_id] = record.changed_key
        self.stats.applied_changes += 1
        if record.status == "live":
            self._index.upsert(self._entry(record))
        else:
            self._index.remove(record.job_id)

    def _entry(self, record: PostingRecord) -> Entry:
        return make_entry(
            record.load(),
            content_hash=record.content_hash,
            changed_key=record.changed_key,
            public_base_url=self._public_base_url,
        )

    def _etag(self, *parts: object) -> str:
        text = "|".join(str(part) for part in (self._etag_prefix, *parts))
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'

    # ---- reads --------------------------------------------------------------------------------------
    def list_jobs(self, query: BoardQuery, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs`: a page of summaries, the next cursor, the total and facet counts."""
        with self._lock:
            plan = query.plan()
            position = self._cursors.decode(query.cursor, plan) if query.cursor else None
            index = self.board()
            etag = self._etag("jobs", index.fingerprint, plan_fingerprint(plan), query.limit, query.cursor)
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None)
            page = index.search(plan, after=position, limit=query.limit)
            next_cursor = self._cursors.encode(plan, page.positions[-1]) if page.has_more else None
            body = {
                "data": [entry.summary for entry in page.entries],
                "next_cursor": next_cursor,
                "total": page.total,
                "facets": page.facets,
            }
            return BoardResponse(etag, body)

    def get_job(self, job_id: str, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /jobs/{job_id}`: the full posting with apply options and JSON-LD; 404 unless live."""
        with self._lock:
            entry = self.board().get(job_id)
            if entry is None:
                raise NotFoundError("No such job, or it is no longer open.", code="job_not_found")
            posting = entry.posting
            apply = self.apply_options(posting)
            etag = self._etag("job", job_id, entry.content_hash, apply["embloy"], apply["native"])
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None)
            url = shaping.job_url(self._public_base_url, job_id)
            document = json_ld.job_posting(posting, url=url, direct_apply=apply["embloy"] or apply["native"])
            return BoardResponse(
                etag, shaping.detail(posting, self._public_base_url, apply=apply, json_ld=document)
            )

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
        now = self._monotonic()
        cached = self._apply_cache.get(cache_key)
        if cached and now - cached[0] < self._apply_flags_max_age:
            return cached[1]
        flags = self._source.apply_flags(employer_id, account_id)
        self._apply_cache[cache_key] = (now, flags)
        return flags

    def rss(self, query: BoardQuery, *, self_url: str, if_none_match: str | None = None) -> BoardResponse:
        """`GET /feed.xml`: the newest live postings matching the query's words and filters."""
        with self._lock:
            plan = query.plan()
            plan = Plan(terms=plan.terms, filters=plan.filters, relevance=False)
            limit = query.limit if "limit" in query.model_fields_set else self._feed_limit
            index = self.board()
            etag = self._etag("rss", index.fingerprint, plan_fingerprint(plan), limit, self_url)
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None, "application/rss+xml; charset=utf-8")
            page = index.search(plan, after=None, limit=limit, facets=False)
            document = feeds.rss(
                page.entries,
                board_name=self._board_name,
                public_base_url=self._public_base_url,
                self_url=self_url,
            )
            return BoardResponse(etag, document, "application/rss+xml; charset=utf-8")

    def sitemap(self, *, if_none_match: str | None = None) -> BoardResponse:
        """`GET /sitemap.xml`: every live posting's page (rendered once per board version)."""
        with self._lock:
            index = self.board()
            etag = self._etag("sitemap", index.fingerprint)
            if etag_matches(if_none_match, etag):
                return BoardResponse(etag, None, "application/xml; charset=utf-8")
            if self._sitemap is None or self._sitemap[0] != etag:
                self._sitemap = (etag, feeds.sitemap(index.entries(), public_base_url=self._public_base_url))
            return BoardResponse(etag, self._sitemap[1], "application/xml; charset=utf-8")
