"""The board's search engine, one per process, over a snapshot directory on local disk.

Two structures, each doing what it is best at:
- tantivy (Rust): BM25 ranking of the top N, the analyzer and the term dictionary (prefixes, typos), and
  the stored summaries; immutable segment files that a builder compiles off the request path and a
  process opens in milliseconds;
- roaring bitmaps (`bitmaps.py`): matching, filters, totals, facet counts and the newest-first order,
  as set operations that cost microseconds at 100,000 postings.

Fields of the tantivy index (one document per live posting):
- `title`, `body` (title, company, department, locations, content): folded words with frequencies (BM25;
  the body's term dictionary also answers prefixes and typos);
- `compounds`: adjacent words joined, so `frontend` finds "front-end" and "front end";
- `job_id`, and `f_{dimension}`: canonical filter keys (`text.key`), for ranked queries; likewise
  `f_shows_pay`, `f_place` ("lat,lon" of each placed location), `pay_currency` and `pay_annual` (fast);
- `slot`: the posting's number in the bitmaps; `sort_key`: newest first (posted second << 31 | 31 bits
  of the job id's hash), unique in practice; `recency`: the tie-breaking weight;
- `changed_ms`, `fp`: the version on the board and its share of the board's content fingerprint;
- `first_seen_ms`: when the sync first saw the posting (job alerts send postings first seen after a point);
- `record`: the stored list summary, feed excerpt and sitemap date (orjson), never the full content.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from pyroaring import BitMap

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.models.posting import Posting
from chalicelib.services import pay
from chalicelib.services.board import analysis, expansion, shaping
from chalicelib.services.board.bitmaps import BoardBitmaps
from chalicelib.services.board.technical import protect_text, protect_title
from chalicelib.services.board.text import key

if TYPE_CHECKING:
    import tantivy

FORMAT_VERSION = 4  # bump when fields or analyzers change: older snapshots are then rebuilt, not opened
DIMENSIONS: tuple[str, ...] = ("company", "employment_type", "location", "remote", "provider", "department")
# Filters beyond the facet dimensions (bitmaps and sorted arrays only; tantivy does not index them):
# `shows_pay` ("true"/"false"), `pay_min` ("EUR:50000"), `posted_within` ("7d", relative to the
# engine's clock), `near` ("lat,lon,radius_km" plus "|remote" or "|onsite", see `near_key`).
# `place` holds the postings' coordinates ("lat,lon") that `near` reads.
POSTED_WITHIN_SECONDS: dict[str, int] = {
    "24h": 86_400,
    "3d": 3 * 86_400,
    "7d": 7 * 86_400,
    "30d": 30 * 86_400,
}

TITLE_BOOST = 3.0  # BM25 of a word in the title counts three times a word in the content
COMPOUND_BOOST = 2.0  # "front end" written as one word or hyphenated is strong evidence
PHRASE_BOOST = 2.0  # query words that stand next to each other in the posting too rank first
TYPO_FREQUENCY_RATIO = 10  # typo candidates at least a tenth as frequent as the most frequent one
SMALL_SET = 32  # up to this many values, a query ORs term queries instead of using a term set
FACET_CACHE_SIZE = 256  # queries whose total and facet counts a process keeps (per board generation)
MAX_EXPANSIONS = 30  # most index terms a prefix or a typo stands for (the most frequent win)
PREFIX_MIN_LENGTH = 3  # the last word also matches as a prefix from this many letters ("pyth")
FUZZY_MIN_LENGTH = 5  # words this long also match with one typo ("pyhton", "enginer")
# Scores are multiplied by log2(2 + recency), recency in [0, RECENCY_WEIGHT) growing with the posting date:
# at most 0.7 % more for the newest, which also breaks the many exact BM25 ties inside tantivy's top N.
RECENCY_WEIGHT = 0.01
_EXCERPT_CHARS = 200  # a feed item's description; a search-result snippet is about this long
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


SUGGEST_SCAN = 40  # best-matching postings whose titles are suggested
SUGGEST_PREFIX_WORDS = 50  # most name words a typed prefix stands for (companies, places)
SIMILAR_WORDS = 8  # most title words a similar-jobs query is built from

# (score, sort_key, seen): score is the relevance (0 when sorting by newest), sort_key the
# posting's place in "newest first", seen how many results precede it and it (a hint for the next page).
Position = tuple[float, int, int]


@functools.cache
def schema() -> tantivy.Schema:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", tokenizer_name=analysis.WORD_TOKENIZER, index_option="freq")
    builder.add_text_field("body", tokenizer_name=analysis.WORD_TOKENIZER, index_option="freq")
    builder.add_text_field("compounds", tokenizer_name=analysis.PAIR_TOKENIZER, index_option="freq")
    builder.add_text_field("job_id", tokenizer_name="raw", index_option="basic")
    for dim in DIMENSIONS:
        builder.add_text_field(f"f_{dim}", tokenizer_name="raw", index_option="basic")
    # The pay, date and distance filters for ranked queries (the bitmaps answer them otherwise).
    for name in ("f_shows_pay", "f_place", "pay_currency"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_float_field("pay_annual", fast=True)
    builder.add_unsigned_field("slot", indexed=True, fast=True)
    builder.add_unsigned_field("sort_key", fast=True)
    builder.add_float_field("recency", fast=True)
    builder.add_integer_field("changed_ms", fast=True)
    builder.add_integer_field("first_seen_ms", fast=True)
    builder.add_unsigned_field("fp", fast=True)
    builder.add_bytes_field("record", stored=True)
    return builder.build()


# ---- documents -------------------------------------------------------------------------------------
def sort_key_of(posting: Posting) -> int:
    posted = shaping.posted_at(posting)
    seconds = max(int(posted.timestamp()), 0) if posted else 0
    tie = int.from_bytes(hashlib.blake2b(posting.job_id.encode(), digest_size=4).digest(), "big") >> 1
    return (seconds << 31) | tie


def fingerprint_of(job_id: str, content_hash: str) -> int:
    digest = hashlib.blake2b(f"{job_id}\n{content_hash}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, in integers (a float timestamp can lose the last one)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def first_seen_ms_of(posting: Posting) -> int:
    """Milliseconds of when the sync first saw the posting (its first change when older items lack it)."""
    seen = posting.first_seen_at or posting.changed_at
    return epoch_ms(seen) if seen else 0


def changed_ms_of(changed_key: str) -> int:
    """Milliseconds of a change-feed key's timestamp (`2026-11-20T12:00:00.000Z#job`)."""
    stamp = changed_key.partition("#")[0]
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def _excerpt(posting: Posting, locations: list[str]) -> str:
    plain = " ".join(posting.content_plain.split())
    if len(plain) > _EXCERPT_CHARS:
        plain = plain[:_EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
    where = ", ".join(locations) or ("Remote" if posting.remote else "")
    head = " · ".join(part for part in (posting.company, where) if part)
    return f"{head}. {plain}" if plain else head


@functools.cache
def summary_fields() -> tuple[str, ...]:
    """A stored record's order: `JobSummary`'s fields but its URL (the models load on first use, not at
    `import app`)."""
    from chalicelib.models.responses import JobSummary

    return tuple(name for name in JobSummary.model_fields if name != "url")


@dataclass(frozen=True, slots=True)
class BoardDocument:
    """A posting as the engine stores it; `fingerprint` is its share of the board's fingerprint."""

    job_id: str
    document: tantivy.Document
    fingerprint: int
    changed_ms: int
    sort_key: int
    first_seen_ms: int
    words: frozenset[str]  # every word of title, company, department, locations and content
    facets: dict[str, tuple[str, ...]]  # dimension -> display values
    filter_keys: dict[str, tuple[str, ...]]  # dimension -> keys a filter selects it by
    pay: tuple[str, float] | None = None  # (currency, annual amount) of the pay the card shows


def annual_pay(posting: Posting) -> tuple[str, float] | None:
    """(currency, annual amount) of the posting's main pay element: its max, else its min, per year.

    None without a currency or an amount (or for one-off pay): such postings are never found by
    `pay_min`, whatever its amount.
    """
    element = shaping.pay_element(posting)
    if element is None or element.currency is None:
        return None
    amount = pay.annual(element.max if element.max is not None else element.min, element.period)
    return (element.currency, amount) if amount is not None else None


def place_key(lat: float, lon: float) -> str:
    return f"{lat:.4f},{lon:.4f}"


def near_key(lat: float, lon: float, radius_km: int, remote: str = "") -> str:
    """The `near` filter's key: a point, a radius and what remote postings do ("remote": all of them
    are in too; "onsite": remote postings are out; "": only the placed postings in range)."""
    return f"{place_key(lat, lon)},{radius_km}|{remote}"


def board_document(posting: Posting, *, content_hash: str, changed_key: str) -> BoardDocument:
    """The engine's document for a live posting (the summary is stored without its URL)."""
    import tantivy

    summary = shaping.summary(posting, "")
    del summary["url"]
    locations: list[str] = list(dict.fromkeys(summary["locations"]))
    # The sitemap's lastmod: when the stored posting last changed (the sync's change time).
    modified = posting.changed_at or posting.updated_at or shaping.posted_at(posting)
    # Stored as a list (the summary's values in `summary_fields()` order, the excerpt, the sitemap date):
    # field names repeated in every stored document would be a fifth of the store.
    record = [
        *(summary[name] for name in summary_fields()),
        _excerpt(posting, summary["locations"]),
        isoformat(modified) if modified else None,
    ]
    # Technical terms as single words ("C#" -> csharp, ".NET" -> dotnet, "Go" the language -> golang).
    title = protect_title(posting.title)
    meta = [protect_text(text) for text in (posting.company, posting.department or "", *locations)]
    content = protect_text(posting.content_plain)
    document = tantivy.Document()
    words: set[str] = set()
    # Dictionary phrases and place names of several words are words of their own too ("Site Reliability
    # Engineer" also holds `sitereliability`), matched and scored like any word.
    phrases: list[list[str]] = []
    for text in (title, *meta, content):
        found = analysis.words(text)
        words.update(found)
        phrases.append(expansion.phrase_words(found))
        if text is content:  # only the words a hyphen joins: content pairs would double the index
            joined = analysis.hyphen_compounds(text)
        else:
            joined = analysis.joined(found) if len(found) > 1 else ""
        if joined:
            document.add_text("compounds", joined)
    title_phrases, other_phrases = phrases[0], [phrase for found in phrases[1:] for phrase in found]
    words.update(title_phrases)
    words.update(other_phrases)
    document.add_text("title", " ".join([title, *title_phrases]))
    document.add_text("body", " ".join([title, *title_phrases]))
    document.add_text("body", "\n".join(meta))
    document.add_text("body", " ".join([content, *other_phrases]))
    document.add_text("job_id", posting.job_id)
    displays: dict[str, list[str]] = {
        "company": [posting.company] if posting.company else [],
        "employment_type": [posting.employment_type] if posting.employment_type else [],
        "location": locations,
        "remote": ["true" if posting.remote else "false"],
        "provider": [posting.provider.lower()] if posting.provider else [],
        "department": [posting.department] if posting.department else [],
    }
    filter_keys: dict[str, tuple[str, ...]] = {}
    for dim, values in displays.items():
        keys = dict.fromkeys(key(value) for value in values)
        if dim == "location":  # "Berlin, Germany" is also found by "Berlin" and "Germany"
            for value in values:
                keys.update(dict.fromkeys(key(part) for part in value.split(",")))
        keys.pop("", None)
        filter_keys[dim] = tuple(keys)
        for filter_key in keys:
            document.add_text(f"f_{dim}", filter_key)
    filter_keys["shows_pay"] = ("true",) if shaping.pay_element(posting) is not None else ("false",)
    filter_keys["place"] = tuple(
        dict.fromkeys(
            place_key(location.lat, location.lon)
            for location in posting.locations
            if location.lat is not None and location.lon is not None
        )
    )
    document.add_text("f_shows_pay", filter_keys["shows_pay"][0])
    for place in filter_keys["place"]:
        document.add_text("f_place", place)
    annual = annual_pay(posting)
    if annual is not None:
        document.add_text("pay_currency", annual[0])
        document.add_float("pay_annual", annual[1])
    fingerprint = fingerprint_of(posting.job_id, content_hash)
    changed_ms = changed_ms_of(changed_key)
    sort_key = sort_key_of(posting)
    document.add_unsigned("sort_key", sort_key)
    document.add_float("recency", RECENCY_WEIGHT * sort_key / 2**64)
    document.add_integer("changed_ms", changed_ms)
    first_seen_ms = first_seen_ms_of(posting)
    document.add_integer("first_seen_ms", first_seen_ms)
    document.add_unsigned("fp", fingerprint)
    document.add_bytes("record", orjson.dumps(record))
    return BoardDocument(
        job_id=posting.job_id,
        document=document,
        fingerprint=fingerprint,
        changed_ms=changed_ms,
        sort_key=sort_key,
        first_seen_ms=first_seen_ms,
        words=frozenset(words),
        facets={dim: tuple(values) for dim, values in displays.items()},
        filter_keys=filter_keys,
        pay=annual,
    )


# ---- queries ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Plan:
    """A normalised query: words that must all match, filters (OR within, AND across), ordering."""

    terms: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, filter keys), dimensions sorted
    relevance: bool = False
    prefix_last: bool = True  # the last word is still being typed (no space after it): match prefixes


@dataclass(slots=True)
class Hit:
    job_id: str
    summary: dict[str, Any]  # without "url"
    excerpt: str
    lastmod: str | None
    position: Position


@dataclass(slots=True)
class Page:
    hits: list[Hit]
    has_more: bool
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WordMatch:
    """Where one query word is found: index words as written (its forms, the compounds it makes with a
    neighbour, its synonyms and other names), loosely (prefix completions, typo corrections), as two
    adjacent words (the compounds field: "front end" for `frontend`, "site reliability" for `sre`), and
    as longer runs of adjacent words (every pair of the run must be there)."""

    exact: tuple[str, ...]
    loose: tuple[str, ...]
    compounds: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class TextQuery:
    words: tuple[WordMatch, ...]  # every one must match
    scored: tantivy.Query  # BM25 of the words as written (title boosted) and of their compounds


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    count: int  # live postings it leads to (the typed query's matches)


@dataclass(frozen=True, slots=True)
class Suggestions:
    """What to offer while a query is typed: job titles, companies and places, best first."""

    titles: tuple[Suggestion, ...] = ()
    companies: tuple[Suggestion, ...] = ()
    places: tuple[Suggestion, ...] = ()


class NameIndex:
    """The words of a facet's values (companies, places): which values hold a word, or a word starting
    with a prefix, so a typed prefix finds its candidates without scanning every value."""

    def __init__(self, values: Iterable[str]) -> None:
        self._by_word: dict[str, set[str]] = {}
        for value in values:
            for word in set(analysis.words(value)):
                self._by_word.setdefault(word, set()).add(value)
        self._words = sorted(self._by_word)

    def holding(self, word: str) -> set[str]:
        return self._by_word.get(word, set())

    def starting(self, prefix: str, limit: int) -> set[str]:
        found: set[str] = set()
        start = bisect.bisect_left(self._words, prefix)
        for word in itertools.islice(self._words, start, start + limit):
            if not word.startswith(prefix):
                break
            found |= self._by_word[word]
        return found


@dataclass(frozen=True, slots=True)
class Version:
    """What the engine holds of one posting: enough to decide whether a change is news."""

    changed_ms: int
    fingerprint: int
    slot: int


@dataclass(slots=True)
class _Staged:
    """Changes written since the last `reveal`: slots to show and to hide, and their share of the board's
    fingerprint. Searches see none of them until they are revealed together with the index."""

    shown: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    fingerprint: int = 0

    def show(self, slot: int, fingerprint: int) -> None:
        self.shown.append(slot)
        self.fingerprint ^= fingerprint

    def hide(self, slot: int, fingerprint: int) -> None:
        self.hidden.append(slot)
        self.fingerprint ^= fingerprint


class BoardEngine:
    """The live board of one process, over one snapshot directory plus the changes applied on top:
    tantivy for relevance, stored summaries and the term dictionary; roaring bitmaps for matching,
    filters, totals, facet counts and the newest-first order.

    Not thread-safe: the caller serialises access (one request at a time in Lambda).
    """

    def __init__(
        self, directory: Path, *, fingerprint: int = 0, facet_limit: int = 100, clock: Clock = utcnow
    ) -> None:
        import tantivy

        self.directory = directory
        self._tantivy = tantivy
        self._index = tantivy.Index.open(str(directory))
        analysis.register(self._index)
        self._schema = schema()
        self._searcher = self._index.searcher()
        self._bitmaps = BoardBitmaps(directory)
        self._clock = clock  # `posted_within` is relative to it
        self._writer: tantivy.IndexWriter | None = None
        self._pending: dict[str, Version | None] = {}  # job_id -> version written since the last commit
        self._staged = _Staged()  # what the next `reveal` shows and hides
        self._flushed: tantivy.Searcher | None = None  # the searcher `reveal` puts in service
        self._facet_limit = facet_limit
        self._fingerprint = fingerprint
        self._facet_cache: OrderedDict[Any, tuple[int, dict[str, dict[str, int]]]] = OrderedDict()
        self._names: dict[str, tuple[int, NameIndex]] = {}  # dimension -> (generation, index of its values)
        self.generation = 0

    @classmethod
    def create(
        cls, directory: Path, documents: Iterable[BoardDocument] = (), *, heap_bytes: int = 64_000_000
    ) -> int:
        """Write a new snapshot of `documents` into `directory` (emptied first); returns the board
        fingerprint."""
        from chalicelib.services.board.writer import write_full

        return write_full(directory, documents, name="segment", heap_bytes=heap_bytes).fingerprint

    # ---- reads --------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._bitmaps.live)

    @property
    def fingerprint(self) -> str:
        """Content fingerprint of the whole board (same board, same value, in every process)."""
        return f"{self._fingerprint:016x}{len(self):x}"

    def version(self, job_id: str) -> Version | None:
        if job_id in self._pending:
            return self._pending[job_id]
        found = self._searcher.search(
            self._tantivy.Query.term_query(self._schema, "job_id", job_id), 1, count=False
        ).hits
        if not found:
            return None
        address = [found[0][1]]
        fast = self._searcher.fast_field_values
        changed, fingerprint, slot = (fast(name, address)[0] for name in ("changed_ms", "fp", "slot"))
        return Version(changed_ms=int(changed or 0), fingerprint=int(fingerprint or 0), slot=int(slot or 0))

    def _hit(self, address: Any, position: Position) -> Hit:
        record: list[Any] = orjson.loads(self._searcher.doc(address).get_first("record") or b"[]")
        *values, excerpt, lastmod = record
        summary = dict(zip(summary_fields(), values, strict=True))
        return Hit(summary["job_id"], summary, excerpt, lastmod, position)

    def newest(self, limit: int) -> Iterator[Hit]:
        """Up to `limit` live postings, newest first (the sitemap)."""
        return iter(self.search(Plan(), after=None, limit=limit, facets=False).hits)

    def search(self, plan: Plan, *, after: Position | None, limit: int, facets: bool = True) -> Page:
        """The page after `after` (exclusive) of the plan's results, its total and facet counts."""
        text = self._text_query(plan.terms, prefix_last=plan.prefix_last)
        found = _match(text.words if text else (), plan.filters, _BoardSlots(self))
        results = found.results
        if plan.relevance and text is not None:
            filters = [self._tantivy_filter(dim, keys) for dim, keys in plan.filters]
            exact = results & found.exact
            scored = text.scored if not filters else self._all_of([text.scored, *filters])
            hits, has_more = self._by_relevance(scored, results, exact, after, limit)
        else:
            hits, has_more = self._by_newest(results, after, limit)
        page = Page(hits=hits, has_more=has_more, total=len(results))
        if facets:
            page.facets = self._facets(plan, found.matched, results, found.selected)
        return page

    def suggest(self, terms: tuple[str, ...], typed: list[str], *, prefix: bool, limit: int) -> Suggestions:
        """Titles, companies and places for a query being typed: `terms` as the search reads them (the
        last one a prefix), `typed` the words as typed (folded). Titles come from the best-matching
        postings and must hold every typed word (the last as a prefix); companies and places are the
        values whose names hold the last word (or start with it, or are another name of that place)
        and that the query's matches have, most postings first."""
        text = self._text_query(terms, prefix_last=prefix)
        if text is None or not typed:
            return Suggestions()
        found = _match(text.words, (), _BoardSlots(self))
        results = found.results
        if not results:
            return Suggestions()
        hits, _ = self._by_relevance(text.scored, results, results & found.exact, None, SUGGEST_SCAN)
        *whole, last = typed
        titles: dict[str, list[Any]] = {}  # folded title -> [display, count, first rank]
        for rank, hit in enumerate(hits):
            title = str(hit.summary["title"])
            words = analysis.words(title)
            if not all(word in words for word in whole) or not any(w.startswith(last) for w in words):
                continue
            entry = titles.setdefault(" ".join(words), [title, 0, rank])
            entry[1] += 1
        ranked = sorted(titles.values(), key=lambda entry: (-entry[1], entry[2]))
        return Suggestions(
            titles=tuple(Suggestion(text, count) for text, count, _ in ranked[:limit]),
            companies=self._named("company", results, last, limit),
            places=self._named("location", results, last, limit),
        )

    def _named(self, dim: str, results: BitMap, last: str, limit: int) -> tuple[Suggestion, ...]:
        cached = self._names.get(dim)
        table = self._bitmaps.facets.get(dim, {})
        if cached is None or cached[0] != self.generation:
            cached = self._names[dim] = (self.generation, NameIndex(table))
        names = cached[1]
        candidates = set(names.holding(last))
        if len(last) >= PREFIX_MIN_LENGTH:
            candidates |= names.starting(last, SUGGEST_PREFIX_WORDS)
        for other in expansion.alternatives(last).words:  # "wien" suggests "Vienna, Austria"
            candidates |= names.holding(other)
        counted = [(results.intersection_cardinality(table[value]), value) for value in candidates]
        counted = sorted((pair for pair in counted if pair[0]), key=lambda pair: (-pair[0], pair[1]))
        return tuple(Suggestion(value, count) for count, value in counted[:limit])

    def similar(self, job_id: str, limit: int) -> list[Hit]:
        """Live postings most like `job_id`'s (BM25 of its title's words, title weighted), best first."""
        query, should = self._tantivy.Query, self._tantivy.Occur.Should
        found = self._searcher.search(query.term_query(self._schema, "job_id", job_id), 1, count=False).hits
        if not found:
            return []
        title = str(self._hit(found[0][1], (0.0, 0, 0)).summary["title"])
        words = analysis.words(protect_title(title))
        words = list(dict.fromkeys([*expansion.phrase_words(words), *words]))[:SIMILAR_WORDS]
        if not words:
            return []
        clauses = []
        for word in words:
            clauses.append(
                (should, query.boost_query(query.term_query(self._schema, "title", word), TITLE_BOOST))
            )
            clauses.append((should, query.term_query(self._schema, "body", word)))
        clauses.append((self._tantivy.Occur.MustNot, query.term_query(self._schema, "job_id", job_id)))
        ranked = self._searcher.search(
            query.boolean_query(clauses), limit * 2 + 8, count=False, weight_by_field="recency"
        ).hits
        addresses = [address for _, address in ranked]
        slots = self._searcher.fast_field_values("slot", addresses)
        live = self._bitmaps.live
        chosen = [
            address
            for address, slot in zip(addresses, slots, strict=True)
            if slot is not None and int(slot) in live
        ][:limit]
        return [self._hit(address, (0.0, 0, number + 1)) for number, address in enumerate(chosen)]

    def posted_cutoffs(self) -> dict[str, int]:
        """The lowest sort key of each `posted_within` bucket, now (sort keys start with the second)."""
        now = int(self._clock().timestamp())
        return {bucket: max(now - seconds, 0) << 31 for bucket, seconds in POSTED_WITHIN_SECONDS.items()}

    def time_state(self) -> str:
        """What the clock decides of the board's answers: how many postings each date bucket holds.
        Equal states give equal answers (for ETags)."""
        return ",".join(map(str, self._bitmaps.posted_counts(self.posted_cutoffs().values())))

    def _tantivy_filter(self, dim: str, keys: tuple[str, ...]) -> tantivy.Query:
        """The filter as a tantivy query (for ranked queries: tantivy's top N holds only what the bitmaps
        keep, so one pass fills the page). Same semantics as `filter_bits`."""
        query, occur = self._tantivy.Query, self._tantivy.Occur
        field_type = self._tantivy.FieldType
        if dim == "posted_within":
            cutoffs = self.posted_cutoffs()
            lowest = min((cutoffs[k] for k in keys if k in cutoffs), default=None)
            if lowest is None:
                return query.boolean_query([])
            return query.range_query(self._schema, "sort_key", field_type.Unsigned, lowest, None)
        if dim == "pay_min":
            clauses = []
            for filter_key in keys:
                currency, _, amount = filter_key.partition(":")
                at_least = query.range_query(
                    self._schema, "pay_annual", field_type.Float, float(amount or 0), None
                )
                clauses.append(
                    (
                        occur.Should,
                        self._all_of([query.term_query(self._schema, "pay_currency", currency), at_least]),
                    )
                )
            return query.boolean_query(clauses)
        if dim == "near":
            clauses = []
            for filter_key in keys:
                point, _, remote = filter_key.partition("|")
                lat, lon, radius = (float(part) for part in point.split(","))
                places = self._any_of("f_place", self._bitmaps.places_near(lat, lon, radius))
                remote_posting = query.term_query(self._schema, "f_remote", "true")
                if remote == "remote":
                    places = query.boolean_query([(occur.Should, places), (occur.Should, remote_posting)])
                elif remote == "onsite":
                    places = query.boolean_query([(occur.Must, places), (occur.MustNot, remote_posting)])
                clauses.append((occur.Should, places))
            return query.boolean_query(clauses)
        return self._any_of(f"f_{dim}", list(keys))

    def filter_bits(self, dim: str, keys: tuple[str, ...]) -> BitMap:
        """Slots (replaced ones included) any of `keys` selects in `dim`, computed filters included."""
        bitmaps = self._bitmaps
        if dim == "posted_within":
            cutoffs = self.posted_cutoffs()
            return BitMap.union(BitMap(), *(bitmaps.posted_since(cutoffs[k]) for k in keys if k in cutoffs))
        if dim == "pay_min":
            found = BitMap()
            for filter_key in keys:
                currency, _, amount = filter_key.partition(":")
                found |= bitmaps.pay_at_least(currency, float(amount or 0))
            return found
        if dim == "near":
            found = BitMap()
            for filter_key in keys:
                point, _, remote = filter_key.partition("|")
                lat, lon, radius = (float(part) for part in point.split(","))
                bits = bitmaps.near(lat, lon, radius)
                remote_bits = bitmaps.any_filter("remote", ("true",))
                if remote == "remote":
                    bits = bits | remote_bits
                elif remote == "onsite":
                    bits = bits - remote_bits
                found |= bits
            return found
        return bitmaps.any_filter(dim, keys)

    def part(self, slots: BitMap) -> BoardPart:
        """The board restricted to `slots`: many plans matched against a few postings (job alerts)."""
        return BoardPart(self, slots)

    def first_seen_between(self, after_ms: int, until_ms: int) -> list[tuple[int, int]]:
        """(first seen ms, slot) of the live postings first seen in (after_ms, until_ms], newest first."""
        if until_ms <= after_ms or not len(self):
            return []
        query = self._tantivy.Query.range_query(
            self._schema,
            "first_seen_ms",
            self._tantivy.FieldType.Integer,
            after_ms,
            until_ms,
            include_lower=False,
        )
        found = self._searcher.search(query, len(self._bitmaps.live) + 1, count=False).hits
        addresses = [address for _, address in found]
        seen = self._searcher.fast_field_values("first_seen_ms", addresses)
        slots = self._searcher.fast_field_values("slot", addresses)
        live = self._bitmaps.live
        pairs = [
            (int(ms), int(slot))
            for ms, slot in zip(seen, slots, strict=True)
            if ms is not None and slot is not None and int(slot) in live
        ]
        pairs.sort(reverse=True)
        return pairs

    def hits(self, slots: list[int]) -> list[Hit]:
        """The stored summaries of `slots`, in that order."""
        return self._hits_for_slots([(0, slot) for slot in slots], 0)

    def word_match(self, word: str, *, before: str | None, after: str | None, prefix: bool) -> WordMatch:
        """Where one query word is found on this board: its forms, the compounds it makes with its
        neighbours, and (loosely) its prefix completions when `prefix`, or typo corrections when the
        board does not know it."""
        exact = analysis.forms(word)
        neighbours = [before + word] if before is not None else []
        if after is not None:
            neighbours.append(word + after)
        pairs = sorted({form for joined in neighbours for form in analysis.forms(joined)} - set(exact))
        # Synonyms, abbreviations and other names of a place, as far as this board holds them.
        other = expansion.alternatives(word)
        indexed = expansion.indexed_pairs()  # pairs the index holds as words: no compound lookup
        knows = self._bitmaps.knows
        frequency = self._searcher.doc_freq
        words = [t for t in (*other.words, *other.pairs) if (t in indexed or t in other.words) and knows(t)]
        words = [term for term in dict.fromkeys(words) if term not in exact and term not in pairs]
        adjacent = [term for term in other.pairs if term not in indexed and frequency("compounds", term)]
        phrases = tuple(phrase for phrase in other.phrases if all(self._has_link(link) for link in phrase))
        loose = set(self._prefix_terms(word) if prefix else ())
        if not (self._known(exact) or words or adjacent or phrases):
            loose.update(self._typo_terms(word))
        loose.difference_update(exact)
        return WordMatch(
            exact=(*exact, *pairs, *words),
            loose=tuple(sorted(loose)),
            compounds=(*(form for form in exact if form not in indexed), *adjacent),
            phrases=phrases,
        )

    def _has_link(self, link: str) -> bool:
        if link in expansion.indexed_pairs():
            return self._bitmaps.knows(link)
        return bool(self._searcher.doc_freq("compounds", link))

    def _any_of(self, field_name: str, values: list[Any]) -> tantivy.Query:
        """Postings whose field holds any of `values`. A few term queries cost less than a term set,
        whose fixed cost is about 0.15 ms."""
        query = self._tantivy.Query
        if len(values) > SMALL_SET:
            return query.term_set_query(self._schema, field_name, values)
        should = self._tantivy.Occur.Should
        return query.boolean_query([(should, query.term_query(self._schema, field_name, v)) for v in values])

    def _all_of(self, queries: list[tantivy.Query]) -> tantivy.Query:
        must = self._tantivy.Occur.Must
        return self._tantivy.Query.boolean_query([(must, q) for q in queries])

    def _compounds(self, terms: tuple[str, ...]) -> BitMap:
        """Slots whose text holds one of `terms` as two adjacent words (rare; read from tantivy)."""
        expected = sum(self._searcher.doc_freq("compounds", term) for term in terms)
        if not expected:
            return BitMap()
        query = self._any_of("compounds", list(terms))
        found = self._searcher.search(query, expected, count=False, order_by_field="slot").hits
        return BitMap(int(slot) for slot, _ in found)

    def _text_query(self, words: tuple[str, ...], *, prefix_last: bool = True) -> TextQuery | None:
        """Every word must match, in one of these ways:
        - as written or in its other number ("engineers" = "engineer"), in the title or the body;
        - as a compound: `frontend` finds "front-end"/"front end" (joined pairs), and "front end"
          finds "frontend" (each word is satisfied by the word it forms with its neighbour);
        - loosely: the last word as a prefix ("pyth", the most frequent completions), or, for a word
          of 5+ letters found nowhere on the board, one typo away ("pyhton": the index's own words one
          edit away that are at least a tenth as frequent as the most frequent of them).
        Matching runs on the bitmaps (`WordMatch`); tantivy scores BM25 of the words as written (title
        boosted) and of their compounds, for the postings that have any (see `_by_relevance`).
        """
        if not words:
            return None
        query, should = self._tantivy.Query, self._tantivy.Occur.Should
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        matches_by_word = [
            self.word_match(word, **word_context(words, position, prefix_last=prefix_last))
            for position, word in enumerate(words)
        ]
        for match in matches_by_word:
            for term in match.exact:
                clauses.append(
                    (should, query.boost_query(query.term_query(self._schema, "title", term), TITLE_BOOST))
                )
                clauses.append((should, query.term_query(self._schema, "body", term)))
            for term in match.compounds:
                clauses.append(
                    (
                        should,
                        query.boost_query(query.term_query(self._schema, "compounds", term), COMPOUND_BOOST),
                    )
                )
            for phrase in match.phrases:
                clauses.append((should, query.boost_query(self._phrase(phrase), COMPOUND_BOOST)))
        # Query words next to each other in the posting too rank first ("senior engineer" in the title
        # above "senior" in one place and "engineer" in another).
        for first, second in itertools.pairwise(words):
            adjacent = query.term_query(self._schema, "compounds", first + second)
            clauses.append((should, query.boost_query(adjacent, PHRASE_BOOST)))
        if len(matches_by_word) > 1:
            # Several words: tantivy ranks only postings with every word (scoring nothing for it), or
            # its top N would fill with postings that have one word many times and miss another.
            for match in matches_by_word:
                alternatives = [(should, self._any_of("body", [*match.exact, *match.loose]))]
                if match.compounds:
                    alternatives.append((should, self._any_of("compounds", list(match.compounds))))
                alternatives.extend((should, self._phrase(phrase)) for phrase in match.phrases)
                every = alternatives[0][1] if len(alternatives) == 1 else query.boolean_query(alternatives)
                clauses.append((self._tantivy.Occur.Must, query.const_score_query(every, 0.0)))
        return TextQuery(words=tuple(matches_by_word), scored=query.boolean_query(clauses))

    def _phrase(self, links: tuple[str, ...]) -> tantivy.Query:
        """Postings with every adjacent pair of a run of words (an approximation of the run itself)."""
        indexed = expansion.indexed_pairs()
        return self._all_of(
            [
                self._tantivy.Query.term_query(self._schema, "body" if link in indexed else "compounds", link)
                for link in links
            ]
        )

    def _known(self, terms: list[str]) -> bool:
        frequency = self._searcher.doc_freq
        return any(frequency("body", term) or frequency("compounds", term) for term in terms)

    def _prefix_terms(self, word: str) -> list[str]:
        if len(word) < PREFIX_MIN_LENGTH:
            return []
        found = self._searcher.terms_with_prefix("body", word, limit=MAX_EXPANSIONS)
        return [str(term) for term, _ in found]

    def _typo_terms(self, word: str) -> list[str]:
        if len(word) < FUZZY_MIN_LENGTH or not word.isascii():
            return []
        frequency = self._searcher.doc_freq
        known = [candidate for candidate in analysis.one_edit(word) if self._bitmaps.knows(candidate)]
        found = [(frequency("body", candidate), candidate) for candidate in known]
        found = [pair for pair in found if pair[0] > 0]
        if not found:
            return []
        best = max(count for count, _ in found)
        # The likeliest corrections only: "enginer" means "engineer", not also the rarer "engine".
        found = [pair for pair in found if pair[0] * TYPO_FREQUENCY_RATIO >= best]
        found.sort(key=lambda pair: (-pair[0], pair[1]))
        return [candidate for _, candidate in found[:MAX_EXPANSIONS]]

    def _hits_for_slots(self, chosen: list[tuple[int, int]], seen: int) -> list[Hit]:
        """Hits for (sort key, slot) pairs in that order, their summaries read from tantivy."""
        slots = [slot for _, slot in chosen]
        addresses: dict[int, Any] = {}
        if slots:
            query = self._any_of("slot", slots)
            found = self._searcher.search(query, len(slots), count=False, order_by_field="slot").hits
            addresses = {int(slot): address for slot, address in found}
        return [
            self._hit(addresses[slot], (0.0, sort_key, seen + number + 1))
            for number, (sort_key, slot) in enumerate(chosen)
        ]

    def _by_newest(self, results: BitMap, after: Position | None, limit: int) -> tuple[list[Hit], bool]:
        chosen = self._bitmaps.newest(results, before=after[1] if after else None, count=limit + 1)
        return self._hits_for_slots(chosen[:limit], after[2] if after else 0), len(chosen) > limit

    def _by_relevance(
        self, scored: tantivy.Query, results: BitMap, exact: BitMap, after: Position | None, limit: int
    ) -> tuple[list[Hit], bool]:
        """First the postings with a word as written, by BM25 (weighted by recency, which also orders
        equal scores newest first); then those found only loosely (prefix, typo), newest first.

        tantivy ranks the top N of `scored`; postings outside the result (filtered out, or found only
        loosely) are dropped by their slot. Unless N covers every scored posting, the N-th score is left
        out (it may continue beyond N), so equal scores never split wrongly; N grows until the page is full.
        """
        hits: list[Hit] = []
        in_loose_part = after is not None and after[0] == 0.0
        if exact and not in_loose_part:
            fetch = (after[2] if after else 0) + limit + 33
            while True:
                found = self._searcher.search(scored, fetch, count=False, weight_by_field="recency").hits
                addresses = [address for _, address in found]
                slots = self._searcher.fast_field_values("slot", addresses)
                keys = self._searcher.fast_field_values("sort_key", addresses)
                ranked = sorted(
                    (
                        (float(score), int(key or 0), address)
                        for (score, address), slot, key in zip(found, slots, keys, strict=True)
                        if slot is not None and int(slot) in exact
                    ),
                    key=lambda item: (-item[0], -item[1]),
                )
                complete = len(found) < fetch or len(ranked) >= len(exact)
                if not complete:
                    boundary = float(found[-1][0])
                    ranked = [item for item in ranked if item[0] > boundary]
                start = 0
                if after is not None:
                    start = next(
                        (
                            n
                            for n, (score, key, _) in enumerate(ranked)
                            if (score, key) < (after[0], after[1])
                        ),
                        len(ranked),
                    )
                if complete or len(ranked) - start > limit:
                    break
                fetch *= 4
            hits = [
                self._hit(address, (score, key, start + number + 1))
                for number, (score, key, address) in enumerate(ranked[start : start + limit + 1])
            ]
            if len(hits) > limit or not complete:
                return hits[:limit], True
        # Then the loose part, newest first.
        before = after[1] if in_loose_part and after is not None else None
        seen = after[2] if in_loose_part and after is not None else len(exact)
        chosen = self._bitmaps.newest(results - exact, before=before, count=limit + 1 - len(hits))
        hits += self._hits_for_slots(chosen, seen)
        return hits[:limit], len(hits) > limit

    def _facets(
        self, plan: Plan, matched: BitMap, results: BitMap, selected: dict[str, BitMap]
    ) -> dict[str, dict[str, int]]:
        """Counts per value of each dimension for the query with the *other* dimensions' filters applied.

        Cached per board generation and query (words and filters, not the page): the next pages of a
        query and a popular query's repeats cost only their page.
        """
        cutoffs = self.posted_cutoffs()
        # Which postings are in each date bucket moves with the clock: it is part of the key.
        cache_key = (
            plan.terms,
            plan.prefix_last,
            plan.filters,
            self._bitmaps.posted_counts(cutoffs.values()),
        )
        cached = self._facet_cache.get(cache_key)
        if cached is not None and cached[0] == self.generation:
            self._facet_cache.move_to_end(cache_key)
            return cached[1]
        counts: dict[str, dict[str, int]] = {}
        for dim in DIMENSIONS:
            others = [bits for other, bits in selected.items() if other != dim]
            base = (
                results
                if dim not in selected
                else BitMap.intersection(matched, *others)
                if others
                else matched
            )
            counts[dim] = self._bitmaps.facet_counts(base, dim, self._facet_limit)
        others = [bits for other, bits in selected.items() if other != "posted_within"]
        base = BitMap.intersection(matched, *others) if others else matched
        within = {
            bucket: base.intersection_cardinality(self._bitmaps.posted_since(cutoff))
            for bucket, cutoff in cutoffs.items()
        }
        counts["posted_within"] = {bucket: count for bucket, count in within.items() if count}
        self._facet_cache[cache_key] = (self.generation, counts)
        if len(self._facet_cache) > FACET_CACHE_SIZE:
            self._facet_cache.popitem(last=False)
        return counts

    # ---- changes ------------------------------------------------------------------------------------
    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._index.writer(heap_size=16_000_000, num_threads=1)
        return self._writer

    def upsert(self, document: BoardDocument) -> None:
        """Put a posting on the board or replace its version (searches see it after `commit`)."""
        previous = self.version(document.job_id)
        writer = self._open_writer()
        if previous is not None:
            writer.delete_documents_by_term("job_id", document.job_id)
            self._staged.hide(previous.slot, previous.fingerprint)
        slot = self._bitmaps.stage(document)
        document.document.add_unsigned("slot", slot)
        writer.add_document(document.document)
        self._staged.show(slot, document.fingerprint)
        self._pending[document.job_id] = Version(document.changed_ms, document.fingerprint, slot)

    def remove(self, job_id: str) -> bool:
        """Take a posting off the board (searches see it after `commit`); False if it was not on it."""
        previous = self.version(job_id)
        if previous is None:
            return False
        self._open_writer().delete_documents_by_term("job_id", job_id)
        self._staged.hide(previous.slot, previous.fingerprint)
        self._pending[job_id] = None
        return True

    def commit(self) -> None:
        """Make pending changes visible to searches."""
        self.flush()
        self.reveal()

    def flush(self) -> None:
        """Write the pending changes into the index files and open a searcher over them: the slow part of
        a commit (tantivy works on its own threads, outside the GIL, and may wait for a merge to finish).
        Searches go on meanwhile and see none of it until `reveal`."""
        if self._pending and self._writer is not None:
            self._writer.commit()
            self._index.reload()
            self._flushed = self._index.searcher()

    def reveal(self) -> None:
        """Make the flushed changes visible to searches, all at once (cheap)."""
        if not self._pending or self._writer is None:
            return
        if self._flushed is None:
            self.flush()
        searcher, self._flushed = self._flushed, None
        assert searcher is not None
        self._searcher = searcher
        self._bitmaps.show(self._staged.shown, self._staged.hidden)
        self._fingerprint ^= self._staged.fingerprint
        self._staged = _Staged()
        self._pending.clear()
        self.generation += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None
        self._bitmaps.close()


# ---- matching ----------------------------------------------------------------------------------------
def word_context(words: tuple[str, ...], position: int, *, prefix_last: bool) -> dict[str, Any]:
    """`word_match`'s context of the word at `position`: its neighbours and whether it is a prefix."""
    return {
        "before": words[position - 1] if position > 0 else None,
        "after": words[position + 1] if position + 1 < len(words) else None,
        "prefix": prefix_last and position == len(words) - 1,
    }


class _Slots(Protocol):
    """The bitmaps matching reads: the whole board's, or those of a part of it."""

    live: BitMap

    def any_term(self, words: tuple[str, ...]) -> BitMap: ...
    def any_filter(self, dim: str, keys: tuple[str, ...]) -> BitMap: ...
    def compounds(self, terms: tuple[str, ...]) -> BitMap: ...


def _written(word: WordMatch, slots: _Slots) -> BitMap:
    """Postings with the word as written: a form, a synonym, a compound, or every pair of a run."""
    written = slots.any_term(word.exact) | slots.compounds(word.compounds)
    indexed = expansion.indexed_pairs()
    for phrase in word.phrases:
        links = [slots.any_term((link,)) if link in indexed else slots.compounds((link,)) for link in phrase]
        written |= BitMap.intersection(*links)
    return written


class _BoardSlots:
    def __init__(self, engine: BoardEngine) -> None:
        self._engine = engine
        self.live = engine._bitmaps.live

    def any_term(self, words: tuple[str, ...]) -> BitMap:
        return self._engine._bitmaps.any_term(words)

    def any_filter(self, dim: str, keys: tuple[str, ...]) -> BitMap:
        return self._engine.filter_bits(dim, keys)

    def compounds(self, terms: tuple[str, ...]) -> BitMap:
        return self._engine._compounds(terms)


@dataclass(frozen=True, slots=True)
class _Matching:
    matched: BitMap  # live postings with every word
    exact: BitMap  # postings with at least one word as written: the ones BM25 scores
    selected: dict[str, BitMap]  # dimension -> postings its filter selects
    results: BitMap  # matched and selected by every filter


def _match(
    words: tuple[WordMatch, ...], filters: tuple[tuple[str, tuple[str, ...]], ...], slots: _Slots
) -> _Matching:
    """What a query matches: every word (as written, as a compound or loosely) and every filter.

    Only unions and intersections, so over a part of the board (every bitmap cut to the part first) it
    is exactly the whole board's answer cut to that part: a job alert agrees with `GET /jobs`.
    """
    selected = {dim: slots.any_filter(dim, keys) for dim, keys in filters}
    matched = slots.live
    exact = BitMap()
    for word in words:
        written = _written(word, slots)
        exact |= written
        matched = matched & (written | slots.any_term(word.loose))
    results = BitMap.intersection(matched, *selected.values()) if selected else matched
    return _Matching(matched, exact, selected, results)


class BoardPart:
    """A few postings of the board (the new ones) against which many plans are matched, with the
    board's own semantics: words are resolved on the whole board (its forms, prefixes and typos, as
    `GET /jobs` resolves them), then matched on bitmaps cut to the part. Word resolutions and cut
    bitmaps are remembered, so plans sharing words or filters share the work.
    """

    def __init__(self, engine: BoardEngine, slots: BitMap) -> None:
        self._engine = engine
        self._bitmaps = engine._bitmaps
        self.live = engine._bitmaps.live & slots
        self._terms: dict[str, BitMap] = {}
        self._filters: dict[tuple[str, str], BitMap] = {}
        self._compound_sets: dict[tuple[str, ...], BitMap] = {}
        self._words: dict[tuple[str, str | None, str | None, bool], WordMatch] = {}

    def results(self, plan: Plan) -> BitMap:
        """The part's postings that `plan` matches (what `GET /jobs` with it would show of them)."""
        if not self.live:
            return BitMap()
        words = tuple(
            self._word_match(word, **word_context(plan.terms, position, prefix_last=plan.prefix_last))
            for position, word in enumerate(plan.terms)
        )
        return _match(words, plan.filters, self).results

    def _word_match(self, word: str, *, before: str | None, after: str | None, prefix: bool) -> WordMatch:
        cache_key = (word, before, after, prefix)
        found = self._words.get(cache_key)
        if found is None:
            found = self._words[cache_key] = self._engine.word_match(
                word, before=before, after=after, prefix=prefix
            )
        return found

    def any_term(self, words: tuple[str, ...]) -> BitMap:
        union = BitMap()
        for word in words:
            bits = self._terms.get(word)
            if bits is None:
                bits = self._terms[word] = self._bitmaps.term(word) & self.live
            union |= bits
        return union

    def any_filter(self, dim: str, keys: tuple[str, ...]) -> BitMap:
        union = BitMap()
        for filter_key in keys:
            bits = self._filters.get((dim, filter_key))
            if bits is None:
                bits = self._engine.filter_bits(dim, (filter_key,)) & self.live
                self._filters[(dim, filter_key)] = bits
            union |= bits
        return union

    def compounds(self, terms: tuple[str, ...]) -> BitMap:
        bits = self._compound_sets.get(terms)
        if bits is None:
            bits = self._compound_sets[terms] = self._engine._compounds(terms) & self.live
        return bits
