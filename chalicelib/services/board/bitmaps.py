"""The board's compressed bitmaps (pyroaring): which postings hold a word, a facet value or a filter key,
and which are live. Matching, totals, facet counts and the newest-first order run on them.

Slots: a snapshot's postings are numbered 0..N-1, newest first, so the lowest slots of a set are its
first page. Postings a process adds on top (from the change feed) get N, N+1, ... and are ordered by
their sort key when a page needs them. A replaced or closed posting's slot leaves the live set.

Files (beside the tantivy index of the snapshot):
- `bitmaps.bin`: serialized roaring bitmaps, back to back;
- `bitmaps.json`: `{"slots": N, "terms": {word: [offset, length]}, "facets": {dimension: {value: [...]}},
  "filters": {dimension: {key: [...]}}}`;
- `sort_keys.bin`: the N sort keys (unsigned 64-bit, little-endian), in slot order (descending).
Word bitmaps are read from the memory-mapped blob when a query first needs them.
"""

from __future__ import annotations

import bisect
import heapq
import mmap
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pyroaring import BitMap

if TYPE_CHECKING:
    from chalicelib.services.board.engine import BoardDocument

BLOB_FILE = "bitmaps.bin"
INDEX_FILE = "bitmaps.json"
SORT_KEYS_FILE = "sort_keys.bin"
_TERM_CACHE_SIZE = 20_000


def _little_endian(values: array[int]) -> array[int]:
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

    def write(self, directory: Path) -> None:
        offset = 0
        index: dict[str, Any] = {"slots": len(self._sort_keys), "terms": {}, "facets": {}, "filters": {}}
        with (directory / BLOB_FILE).open("wb") as blob:

            def put(slots: array[int]) -> list[int]:
                nonlocal offset
                data = BitMap(slots).serialize()
                blob.write(data)
                offset += len(data)
                return [offset - len(data), len(data)]

            index["terms"] = {term: put(slots) for term, slots in self._terms.items()}
            for section, tables in (("facets", self._facets), ("filters", self._filters)):
                index[section] = {dim: {v: put(s) for v, s in table.items()} for dim, table in tables.items()}
        (directory / INDEX_FILE).write_bytes(orjson.dumps(index))
        (directory / SORT_KEYS_FILE).write_bytes(_little_endian(self._sort_keys).tobytes())


class BoardBitmaps:
    """A snapshot's bitmaps plus the postings added on top of it in this process."""

    def __init__(self, directory: Path) -> None:
        index = orjson.loads((directory / INDEX_FILE).read_bytes())
        self.snapshot_slots = int(index["slots"])
        keys = array("Q")
        keys.frombytes((directory / SORT_KEYS_FILE).read_bytes())
        self._snapshot_keys = _little_endian(keys)
        with (directory / BLOB_FILE).open("rb") as handle:
            size = handle.seek(0, 2)
            self._blob: mmap.mmap | None = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
            )
        self._term_index: dict[str, list[int]] = index["terms"]
        self._term_cache: dict[str, BitMap] = {}
        self._added_terms: defaultdict[str, BitMap] = defaultdict(BitMap)
        self.facets: dict[str, dict[str, BitMap]] = {
            dim: {value: self._read(span) for value, span in table.items()}
            for dim, table in index["facets"].items()
        }
        self.filters: dict[str, dict[str, BitMap]] = {
            dim: {key: self._read(span) for key, span in table.items()}
            for dim, table in index["filters"].items()
        }
        self.live = BitMap(range(self.snapshot_slots))
        self._added_keys: dict[int, int] = {}  # slot -> sort key of postings added in this process
        self._next_slot = self.snapshot_slots
        self._version = 0  # bumped by every change, so board-wide facet counts are recomputed
        self._totals_version = -1
        self._totals_by_dim: dict[str, dict[str, int]] = {}

    def _read(self, span: list[int]) -> BitMap:
        assert self._blob is not None
        start, length = span
        return BitMap.deserialize(self._blob[start : start + length])

    # ---- reads --------------------------------------------------------------------------------------
    def term(self, word: str) -> BitMap:
        """Slots whose posting holds `word` (replaced ones included: combine with `live`)."""
        found = self._term_cache.get(word)
        if found is None:
            span = self._term_index.get(word)
            found = self._read(span) if span else BitMap()
            if len(self._term_cache) >= _TERM_CACHE_SIZE:
                self._term_cache.clear()
            self._term_cache[word] = found
        added = self._added_terms.get(word)
        return found | added if added else found

    def any_term(self, words: Iterable[str]) -> BitMap:
        return BitMap.union(BitMap(), *(self.term(word) for word in words))

    def any_filter(self, dim: str, keys: Iterable[str]) -> BitMap:
        table = self.filters.get(dim, {})
        return BitMap.union(BitMap(), *(table[key] for key in keys if key in table))

    def newest(self, bits: BitMap, *, before: int | None, count: int) -> list[tuple[int, int]]:
        """Up to `count` (sort key, slot) of `bits`, newest first, with sort keys below `before`."""
        start = 0
        if before is not None:  # the snapshot's keys descend with the slot
            start = bisect.bisect_right(self._snapshot_keys, -before, key=lambda key: -key)
        head: list[tuple[int, int]] = []
        for slot in bits.iter_equal_or_larger(start):
            if slot >= self.snapshot_slots or len(head) >= count:
                break
            head.append((self._snapshot_keys[slot], slot))
        added = [
            (self._added_keys[slot], slot)
            for slot in bits.iter_equal_or_larger(self.snapshot_slots)
            if before is None or self._added_keys[slot] < before
        ]
        if not added:
            return head
        added.sort(reverse=True)
        return list(heapq.merge(head, added, reverse=True))[:count]

    def knows(self, word: str) -> bool:
        """Whether any posting (live or not) holds `word`."""
        return word in self._term_index or word in self._added_terms

    def facet_counts(self, base: BitMap, dim: str, limit: int) -> dict[str, int]:
        """Postings of `base` (live ones) per value of `dim`: values with any, most first, at most `limit`.

        A base covering most of the board is counted by its complement: the board-wide counts (kept
        until the board changes) minus the few postings left out.
        """
        table = self.facets.get(dim, {})
        if len(base) * 2 > len(self.live):
            totals = self._totals(dim)
            rest = self.live - base
            counted = rest.intersection_cardinality
            found = [(counted(bits) - totals[value], value) for value, bits in table.items()]
        else:
            counted = base.intersection_cardinality
            found = [(-counted(bits), value) for value, bits in table.items()]
        found.sort()  # most first, then by value
        return {value: -negative for negative, value in found[:limit] if negative}

    def _totals(self, dim: str) -> dict[str, int]:
        if self._totals_version != self._version:
            self._totals_by_dim = {}
            self._totals_version = self._version
        totals = self._totals_by_dim.get(dim)
        if totals is None:
            counted = self.live.intersection_cardinality
            totals = self._totals_by_dim[dim] = {
                value: counted(bits) for value, bits in self.facets.get(dim, {}).items()
            }
        return totals

    # ---- changes ------------------------------------------------------------------------------------
    def add(self, document: BoardDocument) -> int:
        """Put a posting on the board in a new slot (the caller discards its previous slot, if any)."""
        slot = self._next_slot
        self._next_slot += 1
        self._added_keys[slot] = document.sort_key
        for word in document.words:
            self._added_terms[word].add(slot)
        for section, values_by_dim in ((self.facets, document.facets), (self.filters, document.filter_keys)):
            for dim, values in values_by_dim.items():
                table = section.setdefault(dim, {})
                for value in values:
                    table.setdefault(value, BitMap()).add(slot)
        self.live.add(slot)
        self._version += 1
        return slot

    def discard(self, slot: int) -> None:
        self.live.discard(slot)
        self._version += 1
