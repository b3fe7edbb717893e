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

Beyond the bitmaps, three filters read sorted arrays, so any threshold costs a binary search:
- pay: per currency, the postings' annual amounts ascending (doubles) and their slots, in the blob
  (`"pay": {currency: [[offset, length] of amounts, [offset, length] of slots]}`); "at least X" is the
  tail after X, a union of a precomputed tail bitmap (every `PAY_STEP` entries) and a short slice;
- date posted: the sort keys themselves (slots are newest first), so "posted since T" is the slot range
  before T's binary-search position, plus the added postings newer than T;
- distance: the distinct coordinates postings are placed at (the `place` filter keys, "lat,lon"),
  sorted by latitude; a radius reads the latitude band, measures each place in it, and unions their
  bitmaps.
"""

from __future__ import annotations

import bisect
import heapq
import math
import mmap
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pyroaring import BitMap

if TYPE_CHECKING:
    from chalicelib.services.board.engine import BoardDocument

_Numbers = TypeVar("_Numbers", "array[int]", "array[float]")
BLOB_FILE = "bitmaps.bin"
INDEX_FILE = "bitmaps.json"
SORT_KEYS_FILE = "sort_keys.bin"
_TERM_CACHE_SIZE = 20_000
PAY_STEP = 2048  # a pay threshold's tail is a stored tail bitmap plus at most this many slots
_KM_PER_DEGREE = 111.2  # of latitude (and of longitude at the equator)
_NEAR_CACHE_SIZE = 256


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
        self._pay_spans: dict[str, list[list[int]]] = index.get("pay", {})
        self._pay: dict[str, tuple[array[float], array[int], list[BitMap]]] = {}
        self._added_pay: dict[int, tuple[str, float]] = {}  # slot -> (currency, annual amount)
        self._places: tuple[int, list[tuple[float, float, str]]] = (-1, [])  # (table size, sorted by lat)
        self._near_cache: dict[tuple[float, float, float], tuple[int, BitMap]] = {}
        self._added_keys: dict[int, int] = {}  # slot -> sort key of postings added in this process
        self._added_by_key: list[tuple[int, int]] = []  # (sort key, slot) of the same, ascending
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

    def posted_since(self, threshold: int) -> BitMap:
        """Slots whose sort key is at least `threshold` (posted at or after its second)."""
        count = bisect.bisect_right(self._snapshot_keys, -threshold, key=lambda key: -key)
        bits = BitMap(range(count))
        added = self._added_by_key
        first = bisect.bisect_left(added, (threshold,))
        if first < len(added):
            bits.update(slot for _, slot in added[first:])
        return bits

    def posted_counts(self, thresholds: Iterable[int]) -> tuple[int, ...]:
        """How many slots (live or not) are at or after each threshold: what decides `posted_since`."""
        added = self._added_by_key
        return tuple(
            bisect.bisect_right(self._snapshot_keys, -threshold, key=lambda key: -key)
            + len(added)
            - bisect.bisect_left(added, (threshold,))
            for threshold in thresholds
        )

    def _pay_arrays(self, currency: str) -> tuple[array[float], array[int], list[BitMap]] | None:
        found = self._pay.get(currency)
        if found is None:
            spans = self._pay_spans.get(currency)
            if spans is None or self._blob is None:
                return None
            (amount_start, amount_length), (slot_start, slot_length) = spans
            amounts = array("d")
            amounts.frombytes(self._blob[amount_start : amount_start + amount_length])
            slots = array("I")
            slots.frombytes(self._blob[slot_start : slot_start + slot_length])
            _little_endian(amounts), _little_endian(slots)
            # tails[j]: the slots from entry j * PAY_STEP to the end, built back to front.
            blocks = -(-len(slots) // PAY_STEP)
            tails = [BitMap() for _ in range(blocks + 1)]
            for block in range(blocks - 1, -1, -1):
                chunk = BitMap(slots[block * PAY_STEP : (block + 1) * PAY_STEP])
                tails[block] = tails[block + 1] | chunk
            found = self._pay[currency] = (amounts, slots, tails)
        return found

    def pay_at_least(self, currency: str, amount: float) -> BitMap:
        """Slots whose annual pay in `currency` is at least `amount` (no conversion between currencies)."""
        bits = BitMap()
        arrays = self._pay_arrays(currency)
        if arrays is not None:
            amounts, slots, tails = arrays
            first = bisect.bisect_left(amounts, amount)
            block = -(-first // PAY_STEP)  # the first stored tail at or after `first`
            bits = tails[block] | BitMap(slots[first : block * PAY_STEP])
        added = [
            slot for slot, (cur, annual) in self._added_pay.items() if cur == currency and annual >= amount
        ]
        if added:
            bits = bits | BitMap(added)
        return bits

    def near(self, lat: float, lon: float, radius_km: float) -> BitMap:
        """Slots placed at any point within `radius_km` of (lat, lon) (great-circle distance)."""
        table = self.filters.get("place", {})
        cache_key = (lat, lon, radius_km)
        cached = self._near_cache.get(cache_key)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        bits = BitMap.union(BitMap(), *(table[place] for place in self.places_near(lat, lon, radius_km)))
        if len(self._near_cache) >= _NEAR_CACHE_SIZE:
            self._near_cache.clear()
        self._near_cache[cache_key] = (self._version, bits)
        return bits

    def places_near(self, lat: float, lon: float, radius_km: float) -> list[str]:
        """The `place` keys ("lat,lon") postings are placed at within `radius_km` of (lat, lon)."""
        from chalicelib.services.board.gazetteer import distance_km

        table = self.filters.get("place", {})
        if self._places[0] != len(table):  # the table only grows: new places come with added postings
            points = []
            for place in table:
                lat_text, _, lon_text = place.partition(",")
                points.append((float(lat_text), float(lon_text), place))
            points.sort()
            self._places = (len(table), points)
        points = self._places[1]
        band = radius_km / _KM_PER_DEGREE
        start = bisect.bisect_left(points, (lat - band,))
        end = bisect.bisect_right(points, (lat + band, math.inf))
        return [
            place
            for place_lat, place_lon, place in points[start:end]
            if distance_km(lat, lon, place_lat, place_lon) <= radius_km
        ]

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
        slot = self.stage(document)
        self.show([slot], [])
        return slot

    def stage(self, document: BoardDocument) -> int:
        """Index a posting in a new slot that stays off the board (out of `live`) until `show`."""
        slot = self._next_slot
        self._next_slot += 1
        self._added_keys[slot] = document.sort_key
        bisect.insort(self._added_by_key, (document.sort_key, slot))
        if document.pay is not None:
            self._added_pay[slot] = document.pay
        for word in document.words:
            self._added_terms[word].add(slot)
        for section, values_by_dim in ((self.facets, document.facets), (self.filters, document.filter_keys)):
            for dim, values in values_by_dim.items():
                table = section.setdefault(dim, {})
                for value in values:
                    table.setdefault(value, BitMap()).add(slot)
        return slot

    def show(self, added: Iterable[int], removed: Iterable[int]) -> None:
        """Put staged slots on the board and take replaced or closed ones off it, at once."""
        self.live |= BitMap(added)
        self.live -= BitMap(removed)
        self._version += 1

    def discard(self, slot: int) -> None:
        self.live.discard(slot)
        self._version += 1
