"""PREVIOUS IMPLEMENTATION, KEPT ONLY FOR COMPARISON in `make bench-board`; the app does not use it.

The board's read path before the tantivy snapshot engine (commit fc7c2db, `git show
fc7c2db:chalicelib/services/board/index.py`, `text.py`, `cursor.py` and `service.py`): every cold API
process read all live postings from DynamoDB (GSI1), decoded them and built this in-memory int-bitset
index; warm requests then ran on it. Vendored verbatim where possible (the index, the
cursor codec); from the old service only what its cold load, change application and `list_jobs` did.
Not maintained: do not import it from `chalicelib`.

Old module docstring (index.py): The in-memory live board: postings in slots, and every filter, facet
value and word as an int bitset. Bit `i` of a bitset is slot `i`. At (re)build, slots are laid out in
"newest first" order, so the lowest set bits of a result are its first page and `int.bit_count()` is its
total. Changes between rebuilds update slots in place (same sort key) or append a slot to a small unsorted
tail that pages merge in; the layout is rebuilt once the tail or the dead slots grow. A query is a handful
of big-int ANDs, ORs and popcounts.
"""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import heapq
import hmac
import json
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.errors import InvalidRequestError
from chalicelib.models.posting import Posting
from chalicelib.services.board import shaping
from chalicelib.services.board.text import key, tokens

if TYPE_CHECKING:
    from chalicelib.services.board.query import BoardQuery
    from chalicelib.services.board.records import PostingRecord
    from chalicelib.services.board.service import BoardResponse


# ---- old text.py: fold, tokens and key are unchanged in chalicelib (imported above) ---------------------
def token_set(*texts: str | None) -> frozenset[str]:
    """Distinct word tokens of several texts."""
    found: set[str] = set()
    for text in texts:
        found.update(tokens(text or ""))
    return frozenset(found)


# ---- old index.py (verbatim) ------------------------------------------------------------------------
DIMENSIONS: tuple[str, ...] = ("company", "employment_type", "location", "remote", "provider", "department")

# (-posted epoch milliseconds, job_id): ascending order is the board's "newest first" order.
OrderKey = tuple[int, str]
# (relevance tier, order key) of the last posting a page showed.
Position = tuple[int, OrderKey]

_TAIL_LIMIT = 512  # appended slots before the layout is rebuilt


@dataclass(slots=True, eq=False)
class Entry:
    """One live posting with everything the index needs precomputed."""

    posting: Posting
    summary: dict[str, Any]
    order_key: OrderKey
    content_hash: str
    changed_key: str  # the change-feed sort key (`{changed_at}#{job_id}`) of this version
    title_tokens: frozenset[str]
    meta_tokens: frozenset[str]  # company, locations, department
    all_tokens: frozenset[str]  # title, meta and content
    facets: dict[str, tuple[str, ...]]  # dimension -> display values
    filters: dict[str, tuple[str, ...]]  # dimension -> filter keys that select this posting
    fingerprint: int

    @property
    def job_id(self) -> str:
        return self.posting.job_id


def make_entry(posting: Posting, *, content_hash: str, changed_key: str, public_base_url: str) -> Entry:
    """Tokenise and classify a posting once, when it enters the board."""
    posted = shaping.posted_at(posting)
    order_key = (-int(posted.timestamp() * 1000) if posted else 0, posting.job_id)
    locations = tuple(dict.fromkeys(location.name for location in posting.locations if location.name))
    location_keys: dict[str, None] = {}
    for name in locations:
        location_keys[key(name)] = None
        for part in name.split(","):  # "Berlin, Germany" is also found by "Berlin" and "Germany"
            location_keys[key(part)] = None
    location_keys.pop("", None)
    facets: dict[str, tuple[str, ...]] = {
        "company": (posting.company,) if posting.company else (),
        "employment_type": (posting.employment_type,) if posting.employment_type else (),
        "location": locations,
        "remote": ("true" if posting.remote else "false",),
        "provider": (posting.provider.lower(),) if posting.provider else (),
        "department": (posting.department,) if posting.department else (),
    }
    filters = {dim: tuple(dict.fromkeys(key(value) for value in values)) for dim, values in facets.items()}
    filters["location"] = tuple(location_keys)
    title_tokens = token_set(posting.title)
    meta_tokens = token_set(posting.company, posting.department, *locations)
    all_tokens = title_tokens | meta_tokens | token_set(posting.content_plain)
    digest = hashlib.blake2b(f"{posting.job_id}\n{content_hash}".encode(), digest_size=8).digest()
    return Entry(
        posting=posting,
        summary=shaping.summary(posting, public_base_url),
        order_key=order_key,
        content_hash=content_hash,
        changed_key=changed_key,
        title_tokens=title_tokens,
        meta_tokens=meta_tokens,
        all_tokens=all_tokens,
        facets=facets,
        filters=filters,
        fingerprint=int.from_bytes(digest, "big"),
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """A normalised query: words that must all match, filters (OR within, AND across), ordering."""

    terms: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, filter keys), dimensions sorted
    relevance: bool = False


@dataclass(slots=True)
class Page:
    entries: list[Entry]
    positions: list[Position]
    has_more: bool
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _bits_from_positions(positions: list[int], size_bytes: int) -> int:
    buffer = bytearray(size_bytes)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def _lowest_slots(bits: int, count: int) -> list[int]:
    slots: list[int] = []
    while bits and len(slots) < count:
        low = bits & -bits
        slots.append(low.bit_length() - 1)
        bits ^= low
    return slots


class BoardIndex:
    """Bitset index over the live board; not thread-safe (one per Lambda process, one request at a time)."""

    def __init__(self, entries: Iterable[Entry] = (), *, facet_limit: int = 100) -> None:
        self._facet_limit = facet_limit
        self.generation = 0
        self._unfiltered_generation = -1
        self._rebuild(list(entries))

    # ---- layout -------------------------------------------------------------------------------------
    def _rebuild(self, entries: list[Entry]) -> None:
        entries.sort(key=lambda entry: entry.order_key)
        count = len(entries)
        size_bytes = (count + 7) // 8 or 1
        self._slots: list[Entry | None] = list(entries)
        self._slot_of: dict[str, int] = {entry.job_id: slot for slot, entry in enumerate(entries)}
        self._main_size = count
        self._main_keys: list[OrderKey] = [entry.order_key for entry in entries]
        self._main_mask = (1 << count) - 1
        self._live = self._main_mask
        self._dead = 0
        title: dict[str, list[int]] = {}
        meta: dict[str, list[int]] = {}
        words: dict[str, list[int]] = {}
        facets: dict[str, dict[str, list[int]]] = {dim: {} for dim in DIMENSIONS}
        filters: dict[str, dict[str, list[int]]] = {dim: {} for dim in DIMENSIONS}
        fingerprint = 0
        for slot, entry in enumerate(entries):
            fingerprint ^= entry.fingerprint
            for token in entry.title_tokens:
                title.setdefault(token, []).append(slot)
            for token in entry.meta_tokens:
                meta.setdefault(token, []).append(slot)
            for token in entry.all_tokens:
                words.setdefault(token, []).append(slot)
            for dim in DIMENSIONS:
                for value in entry.facets[dim]:
                    facets[dim].setdefault(value, []).append(slot)
                for filter_key in entry.filters[dim]:
                    filters[dim].setdefault(filter_key, []).append(slot)

        def convert(table: dict[str, list[int]]) -> dict[str, int]:
            return {name: _bits_from_positions(slots, size_bytes) for name, slots in table.items()}

        self._title = convert(title)
        self._meta = convert(meta)
        self._words = convert(words)
        self._facets = {dim: convert(facets[dim]) for dim in DIMENSIONS}
        self._filters = {dim: convert(filters[dim]) for dim in DIMENSIONS}
        self._fingerprint = fingerprint
        self._unfiltered_facets: dict[str, dict[str, int]] = {}
        self.generation += 1

    def _maps(self, entry: Entry) -> Iterator[tuple[dict[str, int], Iterable[str]]]:
        yield self._title, entry.title_tokens
        yield self._meta, entry.meta_tokens
        yield self._words, entry.all_tokens
        for dim in DIMENSIONS:
            yield self._facets[dim], entry.facets[dim]
            yield self._filters[dim], entry.filters[dim]

    def _set_bits(self, slot: int, entry: Entry) -> None:
        bit = 1 << slot
        for table, names in self._maps(entry):
            for name in names:
                table[name] = table.get(name, 0) | bit

    def _clear_bits(self, slot: int, entry: Entry) -> None:
        bit = 1 << slot
        for table, names in self._maps(entry):
            for name in names:
                remaining = table[name] ^ bit
                if remaining:
                    table[name] = remaining
                else:
                    del table[name]

    def _drop(self, slot: int, entry: Entry) -> None:
        self._clear_bits(slot, entry)
        self._slots[slot] = None
        self._live ^= 1 << slot
        self._dead += 1
        self._fingerprint ^= entry.fingerprint
        del self._slot_of[entry.job_id]

    def _maybe_compact(self) -> None:
        tail = len(self._slots) - self._main_size
        if tail > _TAIL_LIMIT or self._dead > max(256, len(self._slot_of) // 4):
            self._rebuild([entry for entry in self._slots if entry is not None])

    # ---- changes ------------------------------------------------------------------------------------
    def upsert(self, entry: Entry) -> None:
        """Add a posting or replace its previous version."""
        slot = self._slot_of.get(entry.job_id)
        if slot is not None:
            old = self._slots[slot]
            assert old is not None
            if old.order_key == entry.order_key:  # same place in the order: update the slot in place
                self._clear_bits(slot, old)
                self._slots[slot] = entry
                self._set_bits(slot, entry)
                self._fingerprint ^= old.fingerprint ^ entry.fingerprint
                self.generation += 1
                return
            self._drop(slot, old)
        slot = len(self._slots)
        self._slots.append(entry)
        self._slot_of[entry.job_id] = slot
        self._live |= 1 << slot
        self._set_bits(slot, entry)
        self._fingerprint ^= entry.fingerprint
        self.generation += 1
        self._maybe_compact()

    def remove(self, job_id: str) -> bool:
        """Take a posting off the board; False if it was not on it."""
        slot = self._slot_of.get(job_id)
        if slot is None:
            return False
        entry = self._slots[slot]
        assert entry is not None
        self._drop(slot, entry)
        self.generation += 1
        self._maybe_compact()
        return True

    # ---- reads --------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def fingerprint(self) -> str:
        """Content fingerprint of the whole board (same board, same value, in every process)."""
        return f"{self._fingerprint:016x}{len(self._slot_of):x}"

    def get(self, job_id: str) -> Entry | None:
        slot = self._slot_of.get(job_id)
        return self._slots[slot] if slot is not None else None

    def entries(self) -> Iterator[Entry]:
        """Every live posting, newest first."""
        return self._ordered(self._live, None, len(self._slot_of))

    def search(self, plan: Plan, *, after: Position | None, limit: int, facets: bool = True) -> Page:
        """The page after `after` (exclusive) of the plan's results, its total and facet counts."""
        matched = self._live
        for term in plan.terms:
            matched &= self._words.get(term, 0)
            if not matched:
                break
        selected = {dim: self._select(dim, keys) for dim, keys in plan.filters}
        results = matched
        for bits in selected.values():
            results &= bits
        tiers = self._tiers(results, plan) if plan.relevance and plan.terms else [results]
        entries: list[Entry] = []
        positions: list[Position] = []
        start_tier = after[0] if after else 0
        for tier in range(start_tier, len(tiers)):
            tier_after = after[1] if after and tier == start_tier else None
            for entry in self._ordered(tiers[tier], tier_after, limit + 1 - len(entries)):
                entries.append(entry)
                positions.append((tier, entry.order_key))
            if len(entries) > limit:
                break
        page = Page(
            entries=entries[:limit],
            positions=positions[:limit],
            has_more=len(entries) > limit,
            total=results.bit_count(),
        )
        if facets:
            page.facets = self._facet_counts(matched, selected)
        return page

    def _select(self, dim: str, keys: tuple[str, ...]) -> int:
        table = self._filters[dim]
        bits = 0
        for filter_key in keys:
            bits |= table.get(filter_key, 0)
        return bits

    def _tiers(self, results: int, plan: Plan) -> list[int]:
        """Relevance tiers: every word in the title; every word in title, company or location; the rest."""
        in_title = results
        in_meta = results
        for term in plan.terms:
            title_bits = self._title.get(term, 0)
            in_title &= title_bits
            in_meta &= title_bits | self._meta.get(term, 0)
        return [in_title, in_meta ^ in_title, results ^ in_meta]

    def _ordered(self, bits: int, after: OrderKey | None, count: int) -> Iterator[Entry]:
        """Up to `count` postings of a bitset in board order, strictly after `after`."""
        if count <= 0 or not bits:
            return iter(())
        main = bits & self._main_mask
        if after is not None:
            start = bisect_right(self._main_keys, after)
            main = (main >> start) << start
        slots = self._slots
        head: list[Entry] = [slots[slot] for slot in _lowest_slots(main, count)]  # type: ignore[misc]
        tail_bits = bits >> self._main_size
        if not tail_bits:
            return iter(head)
        tail: list[Entry] = []
        for offset in _lowest_slots(tail_bits, tail_bits.bit_count()):
            entry = slots[self._main_size + offset]
            if entry is not None and (after is None or entry.order_key > after):
                tail.append(entry)
        tail.sort(key=lambda entry: entry.order_key)
        merged = heapq.merge(head, tail, key=lambda entry: entry.order_key)
        return iter(list(merged)[:count])

    def _facet_counts(self, matched: int, selected: dict[str, int]) -> dict[str, dict[str, int]]:
        """Counts per value of each dimension for the query with the *other* dimensions' filters applied."""
        counts: dict[str, dict[str, int]] = {}
        for dim in DIMENSIONS:
            base = matched
            for other, bits in selected.items():
                if other != dim:
                    base &= bits
            if base is not self._live:
                counts[dim] = self._count(dim, base)
                continue
            # No words and no other filters: the counts stay the same until the board changes.
            if self._unfiltered_generation != self.generation:
                self._unfiltered_facets = {}
                self._unfiltered_generation = self.generation
            cached = self._unfiltered_facets.get(dim)
            if cached is None:
                cached = self._unfiltered_facets[dim] = self._count(dim, base)
            counts[dim] = cached
        return counts

    def _count(self, dim: str, base: int) -> dict[str, int]:
        found: list[tuple[int, str]] = []
        if base:
            for value, bits in self._facets[dim].items():
                count = (base & bits).bit_count()
                if count:
                    found.append((count, value))
        if len(found) > self._facet_limit:
            found = heapq.nsmallest(self._facet_limit, found, key=lambda pair: (-pair[0], pair[1]))
        else:
            found.sort(key=lambda pair: (-pair[0], pair[1]))
        return {value: count for count, value in found}


# ---- old cursor.py (verbatim but for the imports) -------------------------------------------------
_VERSION = 1
_MAX_CURSOR_LENGTH = 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def plan_fingerprint(plan: Plan) -> str:
    """Stable identity of a query (words, filters, ordering), independent of page size and cursor."""
    canonical = json.dumps(
        [plan.terms, [[dim, sorted(keys)] for dim, keys in plan.filters], plan.relevance],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class CursorCodec:
    """Encodes and verifies cursors."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"board-cursor\n" + key).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, plan: Plan, position: Position) -> str:
        tier, (sort_value, job_id) = position
        payload = json.dumps(
            {"v": _VERSION, "q": plan_fingerprint(plan), "t": tier, "k": [sort_value, job_id]},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str, plan: Plan) -> Position:
        """The position a cursor names; InvalidRequestError if it is malformed, altered or foreign."""
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise self._invalid()
        payload_text, sep, mac_text = cursor.partition(".")
        try:
            payload = _unb64(payload_text)
            mac = _unb64(mac_text)
        except (binascii.Error, ValueError) as exc:
            raise self._invalid() from exc
        if not sep or not hmac.compare_digest(mac, self._mac(payload)):
            raise self._invalid()
        try:
            data = json.loads(payload)
            version, fingerprint, tier = data["v"], data["q"], data["t"]
            sort_value, job_id = data["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._invalid() from exc
        if version != _VERSION or fingerprint != plan_fingerprint(plan):
            raise InvalidRequestError(
                "This cursor belongs to a different query; start again without a cursor.",
                code="invalid_cursor",
                fields={"cursor": "belongs to a different query"},
            )
        if not (isinstance(tier, int) and 0 <= tier <= 2 and isinstance(sort_value, int)):
            raise self._invalid()
        if not isinstance(job_id, str):
            raise self._invalid()
        return tier, (sort_value, job_id)

    @staticmethod
    def _invalid() -> InvalidRequestError:
        return InvalidRequestError(
            "The cursor is not valid; use the next_cursor of a previous response.",
            code="invalid_cursor",
            fields={"cursor": "not a valid cursor"},
        )


# ---- the bits of the old service.py the benchmark needs ------------------------------------------------
def legacy_plan(query: BoardQuery) -> Plan:
    """The old `BoardQuery.plan()`: folded whole words (no stemming, prefixes or typos), filter keys."""
    terms = tuple(dict.fromkeys(tokens(query.q or "")))
    filters: list[tuple[str, tuple[str, ...]]] = []
    for dim in sorted(DIMENSIONS):
        values = getattr(query, dim)
        if not values:
            continue
        if dim == "remote":
            keys = {"true" if value else "false" for value in values}
        else:
            keys = {key(value) for value in values}
        filters.append((dim, tuple(sorted(keys))))
    relevance = bool(terms) and query.sort != "newest"
    return Plan(terms=terms, filters=tuple(filters), relevance=relevance)


class LegacyBoard:
    """The old BoardService's cold load, change application and `list_jobs`, over `BoardIndex`."""

    def __init__(self, *, public_base_url: str, cursor_key: bytes, facet_limit: int = 100) -> None:
        self._public_base_url = public_base_url.rstrip("/")
        self._cursors = CursorCodec(cursor_key)
        self._facet_limit = facet_limit
        self._index: BoardIndex | None = None
        self._versions: dict[str, str] = {}
        self._etag_prefix = f"1|{self._public_base_url}"
        self.timings: dict[str, float] = {}

    @property
    def index(self) -> BoardIndex:
        assert self._index is not None
        return self._index

    def cold_load(self, records: Iterable[PostingRecord], *, freeze_gc: bool = True) -> None:
        """The old `_cold_load` minus the DynamoDB fetch: decode + tokenise, build the index, gc.freeze
        (the old default, `BOARD_FREEZE_GC=true`)."""
        started = time.perf_counter()
        entries: list[Entry] = []
        for record in records:
            if record.status != "live":
                continue
            self._versions[record.job_id] = record.changed_key
            entries.append(self._entry(record))
        decoded = time.perf_counter()
        self._index = BoardIndex(entries, facet_limit=self._facet_limit)
        indexed = time.perf_counter()
        if freeze_gc:
            gc.collect()
            gc.freeze()
        self.timings = {
            "decode_tokenise_seconds": decoded - started,
            "index_seconds": indexed - decoded,
            "gc_seconds": time.perf_counter() - indexed,
        }

    def apply(self, record: PostingRecord) -> bool:
        """The old `_apply`: skip versions already applied, else upsert or remove."""
        known = self._versions.get(record.job_id)
        if known is not None and record.changed_key <= known:
            return False
        self._versions[record.job_id] = record.changed_key
        if record.status == "live":
            self.index.upsert(self._entry(record))
        else:
            self.index.remove(record.job_id)
        return True

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

    def list_jobs(self, query: BoardQuery) -> BoardResponse:
        """The old `list_jobs` (no refresh: the benchmark's feed has no changes during timing)."""
        from chalicelib.services.board.service import BoardResponse

        plan = legacy_plan(query)
        position = self._cursors.decode(query.cursor, plan) if query.cursor else None
        index = self.index
        etag = self._etag("jobs", index.fingerprint, plan_fingerprint(plan), query.limit, query.cursor)
        page = index.search(plan, after=position, limit=query.limit)
        next_cursor = self._cursors.encode(plan, page.positions[-1]) if page.has_more else None
        body = {
            "data": [entry.summary for entry in page.entries],
            "next_cursor": next_cursor,
            "total": page.total,
            "facets": page.facets,
        }
        return BoardResponse(etag, body)

    def reset_query_caches(self) -> None:
        """The old index's only query cache: facet counts of the unfiltered board."""
        self.index._unfiltered_generation = -1
