"""The snapshot builder as it was before segments and incremental builds (vendored from ad73d97), the
baseline of `bench.board_build`: every live posting collected into a list first (the records hold their
stored items), sorted newest first, decoded again one at a time into documents that index every adjacent
pair of words, and the bitmaps of the whole board collected in memory before they are written; the files
stored as they are (no compression). Only what the build needs is kept; queries are not served from it.
"""

from __future__ import annotations

import shutil
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pyroaring import BitMap

from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting
from chalicelib.services.board import analysis, expansion, shaping
from chalicelib.services.board.engine import (
    RECENCY_WEIGHT,
    BoardDocument,
    annual_pay,
    changed_ms_of,
    fingerprint_of,
    first_seen_ms_of,
    place_key,
    schema,
    sort_key_of,
)
from chalicelib.services.board.records import PostingRecord
from chalicelib.services.board.technical import protect_text, protect_title
from chalicelib.services.board.text import key as text_key

_Numbers = TypeVar("_Numbers", "array[int]", "array[float]")
BLOB_FILE = "bitmaps.bin"
INDEX_FILE = "bitmaps.json"
SORT_KEYS_FILE = "sort_keys.bin"
_EXCERPT_CHARS = 300


def _little_endian(values: _Numbers) -> _Numbers:
    if sys.byteorder != "little":
        values.byteswap()
    return values


class BitmapWriter:
    """Collects a snapshot's bitmaps while its postings are added, newest first."""

    def __init__(self) -> None:
        self._terms: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
        self._facets: defaultdict[str, defaultdict[str, array[int]]] = defaultdict(
            lambda: defaultdict(lambda: array("I"))
        )
        self._filters: defaultdict[str, defaultdict[str, array[int]]] = defaultdict(
            lambda: defaultdict(lambda: array("I"))
        )
        self._sort_keys = array("Q")
        self._pay: defaultdict[str, list[tuple[float, int]]] = defaultdict(list)

    def add(self, slot: int, document: BoardDocument) -> None:
        if self._sort_keys and document.sort_key > self._sort_keys[-1]:
            raise ValueError("a snapshot's postings must arrive newest first")
        self._sort_keys.append(document.sort_key)
        for word in document.words:
            self._terms[word].append(slot)
        for dim, values in document.facets.items():
            for value in values:
                self._facets[dim][value].append(slot)
        for dim, keys in document.filter_keys.items():
            for key in keys:
                self._filters[dim][key].append(slot)
        if document.pay is not None:
            currency, amount = document.pay
            self._pay[currency].append((amount, slot))

    def write(self, directory: Path) -> None:
        offset = 0
        index: dict[str, Any] = {"slots": len(self._sort_keys), "terms": {}, "facets": {}, "filters": {}}
        with (directory / BLOB_FILE).open("wb") as blob:

            def put_bytes(data: bytes) -> list[int]:
                nonlocal offset
                blob.write(data)
                offset += len(data)
                return [offset - len(data), len(data)]

            def put(slots: array[int]) -> list[int]:
                return put_bytes(BitMap(slots).serialize())

            index["pay"] = {}
            for currency, entries in self._pay.items():
                entries.sort()
                amounts = _little_endian(array("d", (amount for amount, _ in entries)))
                slots = _little_endian(array("I", (slot for _, slot in entries)))
                index["pay"][currency] = [put_bytes(amounts.tobytes()), put_bytes(slots.tobytes())]

            index["terms"] = {term: put(slots) for term, slots in self._terms.items()}
            for section, tables in (("facets", self._facets), ("filters", self._filters)):
                index[section] = {dim: {v: put(s) for v, s in table.items()} for dim, table in tables.items()}
        (directory / INDEX_FILE).write_bytes(orjson.dumps(index))
        (directory / SORT_KEYS_FILE).write_bytes(_little_endian(self._sort_keys).tobytes())


def _excerpt(posting: Posting, locations: list[str]) -> str:
    plain = " ".join(posting.content_plain.split())
    if len(plain) > _EXCERPT_CHARS:
        plain = plain[:_EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
    where = ", ".join(locations) or ("Remote" if posting.remote else "")
    head = " · ".join(part for part in (posting.company, where) if part)
    return f"{head}. {plain}" if plain else head


def board_document(posting: Posting, *, content_hash: str, changed_key: str) -> BoardDocument:
    """The engine's document for a live posting (the summary is stored without its URL)."""
    import tantivy

    summary = shaping.summary(posting, "")
    del summary["url"]
    locations: list[str] = list(dict.fromkeys(summary["locations"]))
    # The sitemap's lastmod: when the stored posting last changed (the sync's change time).
    modified = posting.changed_at or posting.updated_at or shaping.posted_at(posting)
    record = {
        "summary": summary,
        "excerpt": _excerpt(posting, summary["locations"]),
        "lastmod": isoformat(modified) if modified else None,
    }
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
        if len(found) > 1:
            document.add_text("compounds", analysis.joined(found))
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
        keys = dict.fromkeys(text_key(value) for value in values)
        if dim == "location":  # "Berlin, Germany" is also found by "Berlin" and "Germany"
            for value in values:
                keys.update(dict.fromkeys(text_key(part) for part in value.split(",")))
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


def create(directory: Path, documents: Iterable[BoardDocument], *, heap_bytes: int) -> int:
    """`BoardEngine.create` as it was: documents must come newest first (their position is their slot)."""
    import tantivy

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(directory))
    analysis.register(index)
    writer = index.writer(heap_size=heap_bytes, num_threads=1)
    bitmaps = BitmapWriter()
    fingerprint = 0
    for slot, document in enumerate(documents):
        bitmaps.add(slot, document)
        document.document.add_unsigned("slot", slot)
        writer.add_document(document.document)
        fingerprint ^= document.fingerprint
    writer.commit()
    writer.wait_merging_threads()
    bitmaps.write(directory)
    return fingerprint


def build(
    records: Iterable[PostingRecord], directory: Path, *, heap_bytes: int = 256_000_000
) -> dict[str, Any]:
    """`SnapshotBuilder.build`'s indexing as it was: the live records collected, sorted, decoded again."""
    skipped = 0
    count = 0

    def documents() -> Iterator[BoardDocument]:
        nonlocal skipped, count
        live = [record for record in records if record.status == "live"]
        order: list[tuple[int, int]] = []
        for number, record in enumerate(live):
            try:
                order.append((sort_key_of(record.load()), number))
            except Exception:
                skipped += 1
        order.sort(reverse=True)
        for _, number in order:
            record = live[number]
            count += 1
            yield board_document(
                record.load(), content_hash=record.content_hash, changed_key=record.changed_key
            )

    fingerprint = create(directory, documents(), heap_bytes=heap_bytes)
    return {"postings": count, "skipped": skipped, "fingerprint": fingerprint}
