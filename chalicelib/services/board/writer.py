"""Writing a snapshot directory: the tantivy index and the bitmap segments, together.

- `write_full`: every live posting, streamed: the tantivy writer flushes segments when its heap is full,
  and the bitmaps are written one segment per `SEGMENT_SLOTS` postings, so memory stays flat whatever the
  board's size.
- `write_changes`: the previous snapshot's directory updated in place with the postings that changed since
  it: tantivy deletes the replaced documents and adds the new ones in a segment of its own (and merges its
  segments by its log merge policy); the bitmaps get one new segment, the replaced slots are marked dead
  in the segments that hold them, and small segments are merged (`bitmaps.merge_plan`). Its work grows with
  the changes, not with the board.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyroaring import BitMap

from chalicelib.services.board import analysis
from chalicelib.services.board.bitmaps import (
    KEYS_FILE,
    ORDER_FILE,
    SEGMENT_SLOTS,
    STATE_FILE,
    BitmapState,
    Segment,
    SegmentWriter,
    merge_plan,
    merge_segments,
)
from chalicelib.services.board.engine import BoardDocument, schema


@dataclass(frozen=True, slots=True)
class Change:
    """A posting that changed since the previous snapshot: its new document, or None when it left the board
    (closed, or no longer decodable). `changed_ms` is the change's time: an older one than the snapshot
    holds is skipped."""

    job_id: str
    changed_ms: int
    document: BoardDocument | None


@dataclass(slots=True)
class WriteReport:
    fingerprint: int
    postings: int
    added: int = 0  # documents written
    removed: int = 0  # documents taken off (replaced or closed)
    unchanged: int = 0  # changes the snapshot already held
    segments: int = 0  # bitmap segments after the write
    merged: int = 0  # bitmap segments merged into others


def write_full(
    directory: Path, documents: Iterable[BoardDocument], *, name: str, heap_bytes: int = 64_000_000
) -> WriteReport:
    """A new snapshot of `documents` in `directory` (created, or emptied first)."""
    import shutil

    import tantivy

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(directory))
    analysis.register(index)
    writer = index.writer(heap_size=heap_bytes, num_threads=1)
    state = BitmapState()
    live = BitMap()
    segment = SegmentWriter()
    fingerprint = 0

    def flush() -> None:
        nonlocal segment
        segment_name = f"{name}-{len(state.segments):04d}"
        segment.write(directory, segment_name)
        state.segments.append(segment_name)
        segment = SegmentWriter()

    for document in documents:
        slot = state.slots
        state.slots += 1
        state.keys.append(document.sort_key)
        segment.add(slot, document)
        live.add(slot)
        document.document.add_unsigned("slot", slot)
        writer.add_document(document.document)
        fingerprint ^= document.fingerprint
        if len(segment) >= SEGMENT_SLOTS:
            flush()
    if len(segment):
        flush()
    writer.commit()
    writer.wait_merging_threads()
    state.write(directory, live)
    prune(directory, state)
    return WriteReport(fingerprint, len(live), added=len(live), segments=len(state.segments))


def write_changes(
    directory: Path, changes: Iterable[Change], *, fingerprint: int, name: str, heap_bytes: int = 64_000_000
) -> WriteReport:
    """Apply `changes` (one per posting) to the snapshot in `directory`, in place."""
    import tantivy

    index = tantivy.Index.open(str(directory))
    analysis.register(index)
    searcher = index.searcher()
    table = schema()
    state = BitmapState.read(directory)
    # Each segment shares its dead slots with the state: what a change kills is seen by both.
    segments = [Segment(directory, seg, state.dead.setdefault(seg, BitMap())) for seg in state.segments]
    live = BitMap.union(BitMap(), *(segment.live for segment in segments))
    free: Iterator[int] = iter(BitMap(range(state.slots)) - live)
    writer = index.writer(heap_size=heap_bytes, num_threads=1)
    new_segment = SegmentWriter()
    report = WriteReport(fingerprint, 0)
    for change in changes:
        found = searcher.search(tantivy.Query.term_query(table, "job_id", change.job_id), 1, count=False).hits
        if found:
            address = [found[0][1]]
            slot, old_fingerprint, changed_ms = (
                int(searcher.fast_field_values(field, address)[0] or 0)
                for field in ("slot", "fp", "changed_ms")
            )
            if change.changed_ms <= changed_ms:
                report.unchanged += 1
                continue
            writer.delete_documents_by_term("job_id", change.job_id)
            owner = next(segment for segment in segments if slot in segment.live)
            owner.dead.add(slot)
            owner.live.discard(slot)
            live.discard(slot)
            report.fingerprint ^= old_fingerprint
            report.removed += 1
        document = change.document
        if document is None:
            continue
        reused = next(free, None)
        slot = _new_slot(state) if reused is None else reused
        if slot < len(state.keys):
            state.keys[slot] = document.sort_key
        else:
            state.keys.append(document.sort_key)
        new_segment.add(slot, document)
        live.add(slot)
        document.document.add_unsigned("slot", slot)
        writer.add_document(document.document)
        report.fingerprint ^= document.fingerprint
        report.added += 1
    writer.commit()
    writer.wait_merging_threads()
    if len(new_segment):
        new_name = f"{name}-0000"
        new_segment.write(directory, new_name)
        state.segments.append(new_name)
        segments.append(Segment(directory, new_name))
    report.merged = _merge(directory, state, segments, name)
    state.write(directory, live)
    prune(directory, state)
    for segment in segments:
        segment.close()
    report.postings = len(live)
    report.segments = len(state.segments)
    return report


def prune(directory: Path, state: BitmapState) -> None:
    """Delete the files no longer part of the snapshot: tantivy segments merged away or delete files
    replaced (tantivy collects only the files it wrote in this process), segments of ours merged."""
    import orjson

    meta = orjson.loads((directory / "meta.json").read_bytes())
    keep = {"meta.json", STATE_FILE, KEYS_FILE, ORDER_FILE}
    for segment in state.segments:
        keep.update((f"{segment}.bin", f"{segment}.json"))
    live_segments: dict[str, int | None] = {}
    for segment in meta["segments"]:
        deletes = segment.get("deletes")
        live_segments[segment["segment_id"].replace("-", "")] = deletes["opstamp"] if deletes else None
    for path in directory.iterdir():
        name = path.name
        if name.startswith(".") or name in keep or not path.is_file():
            continue
        stem, _, rest = name.partition(".")
        if stem in live_segments:
            opstamp = live_segments[stem]
            if not rest.endswith("del") or rest == f"{opstamp}.del":
                continue
        path.unlink()


def _new_slot(state: BitmapState) -> int:
    slot = state.slots
    state.slots += 1
    return slot


def _merge(directory: Path, state: BitmapState, segments: list[Segment], name: str) -> int:
    """Merge the runs of segments `merge_plan` picks (dropping empty ones); returns how many were merged."""
    runs = merge_plan([len(segment.live) for segment in segments])
    merged = 0
    numbers = itertools.count(1)
    for start, end in reversed(runs):  # back to front, so earlier positions stay valid
        run = segments[start:end]
        replacement: list[Segment] = []
        if any(segment.live for segment in run):
            merged_name = f"{name}-{next(numbers):04d}"
            merge_segments(directory, run, merged_name)
            replacement = [Segment(directory, merged_name)]
        for segment in run:
            segment.close()
            state.dead.pop(segment.name, None)
            for suffix in (".bin", ".json"):
                (directory / f"{segment.name}{suffix}").unlink(missing_ok=True)
        segments[start:end] = replacement
        merged += len(run)
    state.segments = [segment.name for segment in segments]
    return merged
