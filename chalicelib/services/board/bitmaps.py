"""The board's compressed bitmaps (pyroaring): which postings hold a word, a facet value or a filter key,
and which are live. Matching, totals, facet counts and the newest-first order run on them.

Slots: every posting of a snapshot has a number (its slot), also stored in the tantivy document. Slots are
given in any order and a slot freed by a closed or replaced posting is given again by a later build, so
they stay about as many as the live postings. Postings a process adds on top (from the change feed) get
numbers above the snapshot's, and are ordered by their sort key when a page needs them.

A snapshot's bitmaps are segments: a full build writes one per `SEGMENT_SLOTS` postings, an incremental
build adds one for the postings it changed, and marks the slots it replaced or closed as dead in the
segments that hold them; a merge policy (`merge_plan`) folds small segments together. Files:
- `board.json`: `{"format", "slots": how many slot numbers are in use, "segments": [names], "dead":
  {segment: base64 of the serialized bitmap of its dead slots}}`;
- `{segment}.bin` + `{segment}.json`: the segment's serialized bitmaps, back to back, and their index
  `{"slots": [offset, length], "terms": {word: [offset, length]}, "facets": {dimension: {value: [...]}},
  "filters": {dimension: {key: [...]}}, "pay": {currency: [amounts span, slots span]}}`;
- `keys.bin`: the sort key of every slot (unsigned 64-bit, little-endian; 0 for a free slot);
- `order.bin`: the live slots, newest first (descending sort key), as unsigned 32-bit.
Word bitmaps are read from the memory-mapped blobs when a query first needs them.

Beyond the bitmaps, three filters read sorted arrays, so any threshold costs a binary search:
- pay: per currency and segment, the postings' annual amounts ascending (doubles) and their slots; "at
  least X" is the tail after X, a union of a precomputed tail bitmap (every `PAY_STEP` entries) and a
  short slice;
- date posted: the newest-first order, so "posted since T" is the order's head before T's binary-search
  position (whole blocks of the order are stored bitmaps), plus the added postings newer than T;
- distance: the distinct coordinates postings are placed at (the `place` filter keys, "lat,lon"),
  sorted by latitude; a radius reads the latitude band, measures each place in it, and unions their
  bitmaps.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import math
import mmap
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pyroaring import BitMap

if TYPE_CHECKING:
    from chalicelib.services.board.engine import BoardDocument

_Numbers = TypeVar("_Numbers", "array[int]", "array[float]")
STATE_FILE = "board.json"
KEYS_FILE = "keys.bin"
ORDER_FILE = "order.bin"
STATE_FORMAT = 1
SEGMENT_SLOTS = 131_072  # postings per segment of a full build (and most a merge makes)
MERGE_FACTOR = 4  # segments up to this many times smaller than their older neighbour are merged into it
ORDER_BLOCK = 65_536  # the newest-first order is also stored as bitmaps of this many slots
_SORT_HITS = 2_048  # a block with at most this many hits sorts them; a denser one is walked in order
_TERM_CACHE_SIZE = 20_000
PAY_STEP = 2048  # a pay threshold's tail is a stored tail bitmap plus at most this many slots
_KM_PER_DEGREE = 111.2  # of latitude (and of longitude at the equator)
_NEAR_CACHE_SIZE = 256
_POSTED_CACHE_SIZE = 16


def _little_endian(values: _Numbers) -> _Numbers:
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _read_array(path: Path, typecode: str) -> array[Any]:
    values = array(typecode)
    values.frombytes(path.read_bytes())
    return _little_endian(values)


def _write_array(path: Path, values: array[Any]) -> None:
    copy = array(values.typecode, values)
    path.write_bytes(_little_endian(copy).tobytes())


# ---- segments ------------------------------------------------------------------------------------------
class SegmentWriter:
    """Collects one segment's bitmaps while its postings are added (in any slot order)."""

    def __init__(self) -> None:
        self._slots = array("I")
        self._terms: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
        self._facets: defaultdict[str, defaultdict[str, array[int]]] = defaultdict(
            lambda: defaultdict(lambda: array("I"))
        )
        self._filters: defaultdict[str, defaultdict[str, array[int]]] = defaultdict(
            lambda: defaultdict(lambda: array("I"))
        )
        self._pay: defaultdict[str, list[tuple[float, int]]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._slots)

    def add(self, slot: int, document: BoardDocument) -> None:
        self._slots.append(slot)
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

    def write(self, directory: Path, name: str) -> None:
        _write_segment(
            directory,
            name,
            slots=BitMap(self._slots),
            terms=((term, BitMap(slots)) for term, slots in self._terms.items()),
            facets={dim: {v: BitMap(s) for v, s in table.items()} for dim, table in self._facets.items()},
            filters={dim: {v: BitMap(s) for v, s in table.items()} for dim, table in self._filters.items()},
            pay=self._pay,
        )


def _write_segment(
    directory: Path,
    name: str,
    *,
    slots: BitMap,
    terms: Iterable[tuple[str, BitMap]],
    facets: dict[str, dict[str, BitMap]],
    filters: dict[str, dict[str, BitMap]],
    pay: dict[str, list[tuple[float, int]]],
) -> None:
    offset = 0
    index: dict[str, Any] = {}
    with (directory / f"{name}.bin").open("wb") as blob:

        def put_bytes(data: bytes) -> list[int]:
            nonlocal offset
            blob.write(data)
            offset += len(data)
            return [offset - len(data), len(data)]

        index["slots"] = put_bytes(slots.serialize())
        index["pay"] = {}
        for currency, entries in pay.items():
            entries.sort()
            amounts = _little_endian(array("d", (amount for amount, _ in entries)))
            entry_slots = _little_endian(array("I", (slot for _, slot in entries)))
            index["pay"][currency] = [put_bytes(amounts.tobytes()), put_bytes(entry_slots.tobytes())]
        index["terms"] = {term: put_bytes(bits.serialize()) for term, bits in terms if bits}
        for section, tables in (("facets", facets), ("filters", filters)):
            index[section] = {
                dim: {value: put_bytes(bits.serialize()) for value, bits in table.items() if bits}
                for dim, table in tables.items()
            }
    (directory / f"{name}.json").write_bytes(orjson.dumps(index))


class Segment:
    """One segment of a snapshot's bitmaps, without its dead slots."""

    def __init__(self, directory: Path, name: str, dead: BitMap | None = None) -> None:
        self.name = name
        self._index: dict[str, Any] = orjson.loads((directory / f"{name}.json").read_bytes())
        with (directory / f"{name}.bin").open("rb") as handle:
            size = handle.seek(0, 2)
            self._blob: mmap.mmap | bytes = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
        self.dead = dead if dead is not None else BitMap()
        self.slots = self._read(self._index["slots"])
        self.live = self.slots - self.dead
        self._terms: dict[str, list[int]] = self._index["terms"]
        self._pay: dict[str, tuple[array[float], array[int], list[BitMap]]] = {}

    def _read(self, span: list[int]) -> BitMap:
        start, length = span
        return BitMap.deserialize(self._blob[start : start + length])

    def _alive(self, bits: BitMap) -> BitMap:
        return bits - self.dead if self.dead else bits

    def knows(self, word: str) -> bool:
        return word in self._terms

    def term(self, word: str) -> BitMap | None:
        span = self._terms.get(word)
        return self._alive(self._read(span)) if span else None

    def terms(self) -> Iterable[str]:
        return self._terms.keys()

    def table(self, section: str) -> dict[str, dict[str, BitMap]]:
        """`facets` or `filters`: every value's live slots."""
        return {
            dim: {value: self._alive(self._read(span)) for value, span in table.items()}
            for dim, table in self._index[section].items()
        }

    def pay_entries(self, currency: str) -> tuple[array[float], array[int]] | None:
        spans = self._index["pay"].get(currency)
        if spans is None:
            return None
        (amount_start, amount_length), (slot_start, slot_length) = spans
        amounts = array("d")
        amounts.frombytes(self._blob[amount_start : amount_start + amount_length])
        slots = array("I")
        slots.frombytes(self._blob[slot_start : slot_start + slot_length])
        return _little_endian(amounts), _little_endian(slots)

    def currencies(self) -> list[str]:
        return list(self._index["pay"])

    def pay_at_least(self, currency: str, amount: float) -> BitMap:
        found = self._pay.get(currency)
        if found is None:
            entries = self.pay_entries(currency)
            if entries is None:
                return BitMap()
            amounts, slots = entries
            # tails[j]: the slots from entry j * PAY_STEP to the end, built back to front.
            blocks = -(-len(slots) // PAY_STEP)
            tails = [BitMap() for _ in range(blocks + 1)]
            for block in range(blocks - 1, -1, -1):
                chunk = BitMap(slots[block * PAY_STEP : (block + 1) * PAY_STEP])
                tails[block] = tails[block + 1] | chunk
            found = self._pay[currency] = (amounts, slots, tails)
        amounts, slots, tails = found
        first = bisect.bisect_left(amounts, amount)
        block = -(-first // PAY_STEP)  # the first stored tail at or after `first`
        return self._alive(tails[block] | BitMap(slots[first : block * PAY_STEP]))

    def close(self) -> None:
        if isinstance(self._blob, mmap.mmap):
            self._blob.close()


def merge_segments(directory: Path, segments: Sequence[Segment], name: str) -> None:
    """Write one segment holding the live postings of `segments` (their dead slots dropped)."""
    terms = sorted({term for segment in segments for term in segment.terms()})

    def merged_terms() -> Iterable[tuple[str, BitMap]]:
        for term in terms:
            found = [bits for segment in segments if (bits := segment.term(term)) is not None]
            yield term, BitMap.union(*found) if len(found) > 1 else found[0]

    tables: dict[str, dict[str, dict[str, BitMap]]] = {"facets": {}, "filters": {}}
    for section, merged in tables.items():
        for segment in segments:
            for dim, table in segment.table(section).items():
                target = merged.setdefault(dim, {})
                for value, bits in table.items():
                    target[value] = target[value] | bits if value in target else bits
    pay: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for segment in segments:
        for currency in segment.currencies():
            entries = segment.pay_entries(currency)
            assert entries is not None
            pay[currency].extend(
                (amount, slot) for amount, slot in zip(*entries, strict=True) if slot not in segment.dead
            )
    _write_segment(
        directory,
        name,
        slots=BitMap.union(*(segment.live for segment in segments)),
        terms=merged_terms(),
        facets=tables["facets"],
        filters=tables["filters"],
        pay=pay,
    )


def merge_plan(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """Which runs of adjacent segments (oldest first, by live postings) to merge: [start, end) pairs.

    Log-structured: a segment at most `MERGE_FACTOR` times smaller than its older neighbour joins it, as
    long as the two hold at most `SEGMENT_SLOTS` postings; so a posting is merged again only when its
    segment grows by that factor, and a board of N postings keeps about N / SEGMENT_SLOTS big segments plus
    a few small ones. Empty segments are dropped (a run of one)."""
    runs: list[list[int]] = []  # [start, end, live postings]
    for position, size in enumerate(sizes):
        runs.append([position, position + 1, size])
        while len(runs) > 1:
            older, newer = runs[-2], runs[-1]
            joined = older[2] + newer[2]
            if (
                newer[2] == 0
                or older[2] == 0
                or (newer[2] * MERGE_FACTOR >= older[2] and joined <= SEGMENT_SLOTS)
            ):
                runs[-2:] = [[older[0], newer[1], joined]]
            else:
                break
    return [(start, end) for start, end, _ in runs if end - start > 1 or sizes[start] == 0]


# ---- the state of a snapshot's bitmaps --------------------------------------------------------------
@dataclass(slots=True)
class BitmapState:
    """What `board.json`, `keys.bin` and `order.bin` hold: the segments, their dead slots and every
    slot's sort key. A builder changes it and writes it back; the order is derived when written."""

    slots: int = 0
    segments: list[str] = field(default_factory=list)
    dead: dict[str, BitMap] = field(default_factory=dict)
    keys: array[int] = field(default_factory=lambda: array("Q"))

    @classmethod
    def read(cls, directory: Path) -> BitmapState:
        state = orjson.loads((directory / STATE_FILE).read_bytes())
        return cls(
            slots=int(state["slots"]),
            segments=list(state["segments"]),
            dead={name: BitMap.deserialize(base64.b64decode(bits)) for name, bits in state["dead"].items()},
            keys=_read_array(directory / KEYS_FILE, "Q"),
        )

    def write(self, directory: Path, live: BitMap) -> None:
        """Write the state and the newest-first order of `live` (every live slot)."""
        keys = self.keys
        order = array("I", sorted(live, key=lambda slot: (keys[slot], slot), reverse=True))
        _write_array(directory / ORDER_FILE, order)
        _write_array(directory / KEYS_FILE, keys)
        state = {
            "format": STATE_FORMAT,
            "slots": self.slots,
            "segments": self.segments,
            "dead": {
                name: base64.b64encode(bits.serialize()).decode()
                for name, bits in self.dead.items()
                if bits and name in self.segments
            },
        }
        (directory / STATE_FILE).write_bytes(orjson.dumps(state))


# ---- the reader ---------------------------------------------------------------------------------------
class BoardBitmaps:
    """A snapshot's bitmaps (all its segments) plus the postings added on top of it in this process."""

    def __init__(self, directory: Path) -> None:
        state = BitmapState.read(directory)
        self.snapshot_slots = state.slots
        self._keys = state.keys
        self._segments = [Segment(directory, name, state.dead.get(name)) for name in state.segments]
        self._order = _read_array(directory / ORDER_FILE, "I")
        self._blocks = [
            BitMap(self._order[start : start + ORDER_BLOCK])
            for start in range(0, len(self._order), ORDER_BLOCK)
        ]
        self._term_cache: dict[str, BitMap] = {}
        self._added_terms: defaultdict[str, BitMap] = defaultdict(BitMap)
        self.facets: dict[str, dict[str, BitMap]] = {}
        self.filters: dict[str, dict[str, BitMap]] = {}
        for segment in self._segments:
            for section, merged in (("facets", self.facets), ("filters", self.filters)):
                for dim, table in segment.table(section).items():
                    target = merged.setdefault(dim, {})
                    for value, bits in table.items():
                        if bits:
                            target[value] = target[value] | bits if value in target else bits
        self.live = BitMap.union(BitMap(), *(segment.live for segment in self._segments))
        self._added_pay: dict[int, tuple[str, float]] = {}  # slot -> (currency, annual amount)
        self._places: tuple[int, list[tuple[float, float, str]]] = (-1, [])  # (table size, sorted by lat)
        self._near_cache: dict[tuple[float, float, float], tuple[int, BitMap]] = {}
        self._posted_cache: dict[int, BitMap] = {}  # order position -> the slots before it
        self._added_keys: dict[int, int] = {}  # slot -> sort key of postings added in this process
        self._added_by_key: list[tuple[int, int]] = []  # (sort key, slot) of the same, ascending
        self._next_slot = self.snapshot_slots
        self._version = 0  # bumped by every change, so board-wide facet counts are recomputed
        self._totals_version = -1
        self._totals_by_dim: dict[str, dict[str, int]] = {}

    def close(self) -> None:
        for segment in self._segments:
            segment.close()

    # ---- reads --------------------------------------------------------------------------------------
    def term(self, word: str) -> BitMap:
        """Slots whose posting holds `word` (replaced ones included: combine with `live`)."""
        found = self._term_cache.get(word)
        if found is None:
            parts = [bits for segment in self._segments if (bits := segment.term(word)) is not None]
            found = BitMap.union(*parts) if len(parts) > 1 else parts[0] if parts else BitMap()
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

    def _order_position(self, threshold: int) -> int:
        """How many of the snapshot's live postings (newest first) have a sort key of at least `threshold`."""
        keys = self._keys
        return bisect.bisect_right(self._order, -threshold, key=lambda slot: -keys[slot])

    def newest(self, bits: BitMap, *, before: int | None, count: int) -> list[tuple[int, int]]:
        """Up to `count` (sort key, slot) of `bits`, newest first, with sort keys below `before`.

        The snapshot's part walks the order block by block: a block with few of `bits` sorts them, a
        dense one is read in order until the page is full."""
        keys, order = self._keys, self._order
        start = 0 if before is None else self._order_position(before)  # the first key below `before`
        head: list[tuple[int, int]] = []
        for number in range(start // ORDER_BLOCK, len(self._blocks)):
            if len(head) >= count:
                break
            hits = bits & self._blocks[number]
            if not hits:
                continue
            first = max(start, number * ORDER_BLOCK)
            if len(hits) <= _SORT_HITS:
                found = sorted(
                    ((keys[slot], slot) for slot in hits if before is None or keys[slot] < before),
                    reverse=True,
                )
                head.extend(found[: count - len(head)])
                continue
            for position in range(first, min(len(order), (number + 1) * ORDER_BLOCK)):
                slot = order[position]
                if slot in bits:
                    head.append((keys[slot], slot))
                    if len(head) >= count:
                        break
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
        position = self._order_position(threshold)
        bits = self._posted_cache.get(position)
        if bits is None:
            whole = position // ORDER_BLOCK
            bits = BitMap.union(BitMap(), *self._blocks[:whole])
            bits.update(self._order[whole * ORDER_BLOCK : position])
            if len(self._posted_cache) >= _POSTED_CACHE_SIZE:
                self._posted_cache.clear()
            self._posted_cache[position] = bits
        added = self._added_by_key
        first = bisect.bisect_left(added, (threshold,))
        if first < len(added):
            bits = bits | BitMap(slot for _, slot in added[first:])
        return bits

    def posted_counts(self, thresholds: Iterable[int]) -> tuple[int, ...]:
        """How many slots are at or after each threshold: what decides `posted_since`."""
        added = self._added_by_key
        return tuple(
            self._order_position(threshold) + len(added) - bisect.bisect_left(added, (threshold,))
            for threshold in thresholds
        )

    def pay_at_least(self, currency: str, amount: float) -> BitMap:
        """Slots whose annual pay in `currency` is at least `amount` (no conversion between currencies)."""
        bits = BitMap.union(BitMap(), *(segment.pay_at_least(currency, amount) for segment in self._segments))
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
        return word in self._added_terms or any(segment.knows(word) for segment in self._segments)

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
