"""One snapshot build in a fresh process, for `bench.board` (its peak RSS is the build's own).

    python -m bench.board_build full --items F --count N --store DIR --work W --out O
    python -m bench.board_build changes --items F --count N --changes C --store DIR --work W --out O
    python -m bench.board_build baseline --items F --count N --work W --out O [--memory-limit-mb M]

- `full`: `SnapshotBuilder.build(full=True)` over the first N stored items of F (one JSON item a line, as
  `posting_to_item` made them), streamed from the file as the DynamoDB repository streams the live index's
  pages, decoded on `load`; published to a directory store (`DirectoryStore`: the S3 layout, packed files
  named by their hash, on local disk: no network, so upload and download are disk copies).
- `changes`: a new builder process (a cold Lambda: it downloads the current snapshot from the store) builds
  the next snapshot from the change feed in C (items stamped after the current snapshot), served by shard
  in pages of 100 as the change index's Query would be; reports the feed records and pages it read.
- `baseline`: the builder as it was (`bench.baselines.full_builder`) over the same items, files as they are;
  with `--memory-limit-mb`, under that address-space limit (a build that needs more fails, as a Lambda of
  that memory size would).

Prints nothing but errors; writes one JSON object to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.board_common import bench_environment, peak_rss_mb

CHANGE_PAGE = 100  # records per page of the change feed (the repository's Limit)


def _record(item: dict[str, Any]) -> Any:
    from chalicelib.aws.posting_items import item_to_posting
    from chalicelib.services.board.records import PostingRecord

    return PostingRecord(
        job_id=str(item["job_id"]),
        status=str(item.get("status", "live")),
        changed_key=str(item["GSI2SK"]),
        content_hash=str(item["content_hash"]),
        load=lambda: item_to_posting(item),
    )


class FileSource:
    """LiveSource over the items file (the live index) and a changes file (the change feed)."""

    shards = 0

    def __init__(self, items: Path, count: int, changes: Path | None = None) -> None:
        from chalicelib.aws.posting_items import board_shard
        from chalicelib.aws.table_schema import BOARD_SHARDS

        self.shards = BOARD_SHARDS
        self._items = items
        self._count = count
        self.live_records = 0
        self.feed_pages = 0
        self.feed_records = 0
        # The change feed by shard: (changed key, offset in the file), oldest first.
        self._feed: dict[int, list[tuple[str, int]]] = defaultdict(list)
        self._changes = changes
        if changes is not None:
            with changes.open("rb") as handle:
                offset = 0
                for line in handle:
                    item = orjson.loads(line)
                    self._feed[board_shard(str(item["job_id"]))].append((str(item["GSI2SK"]), offset))
                    offset += len(line)
            for entries in self._feed.values():
                entries.sort()

    def load_live(self) -> Iterator[Any]:
        with self._items.open("rb") as handle:
            for number, line in enumerate(handle):
                if number >= self._count:
                    return
                self.live_records += 1
                yield _record(orjson.loads(line))

    def changes(self, shard: int, after: str, resume: Any | None) -> Any:
        from chalicelib.services.board.records import ChangePage

        self.feed_pages += 1
        entries = [entry for entry in self._feed.get(shard, []) if entry[0] > (resume or after)]
        page, more = entries[:CHANGE_PAGE], len(entries) > CHANGE_PAGE
        records = []
        if page and self._changes is not None:
            with self._changes.open("rb") as handle:
                for _, offset in page:
                    handle.seek(offset)
                    records.append(_record(orjson.loads(handle.readline())))
        self.feed_records += len(records)
        return ChangePage(records=records, resume=page[-1][0] if more else None)


class DirectoryStore:
    """SnapshotStore on a local directory in the S3 layout (packed files by hash, a pointer file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "files").mkdir(parents=True, exist_ok=True)

    def current(self) -> Any:
        from chalicelib.services.board.snapshot import SnapshotManifest

        pointer = self.root / "pointer.json"
        return SnapshotManifest.from_dict(json.loads(pointer.read_text())) if pointer.exists() else None

    def download(self, manifest: Any, directory: Path, files: Sequence[Any] | None = None) -> None:
        from chalicelib.services.board.snapshot import unpack_stream

        for file in manifest.files if files is None else files:
            with (self.root / "files" / file.sha256).open("rb") as stream:
                unpack_stream(stream, file, directory / file.name)

    def upload(self, manifest: Any, packed: Path) -> None:
        for path in packed.iterdir():
            shutil.copyfile(path, self.root / "files" / path.name)

    def publish(self, manifest: Any) -> bool:
        current = self.current()
        if current is not None and current.changes_after >= manifest.changes_after:
            return False
        (self.root / "pointer.json").write_text(json.dumps(manifest.to_dict()))
        return True


def build_ours(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.board.snapshot import SnapshotBuilder

    source = FileSource(Path(args.items), args.count, Path(args.changes) if args.changes else None)
    store = DirectoryStore(Path(args.store))
    builder = SnapshotBuilder(source, store, work_directory=Path(args.work))
    started = time.perf_counter()
    report = builder.build(full=args.mode == "full")
    seconds = time.perf_counter() - started
    manifest = report.manifest
    assert report.published and manifest is not None, report
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "postings": manifest.postings,
        "snapshot_bytes": manifest.size,
        "disk_bytes": manifest.disk_size,
        "files": len(manifest.files),
        "stats": {name: round(value, 3) for name, value in report.stats.items()},
        "live_records_read": source.live_records,
        "feed_pages_read": source.feed_pages,
        "feed_records_read": source.feed_records,
        "version": manifest.version,
    }


def build_baseline(args: argparse.Namespace) -> dict[str, Any]:
    from bench.baselines.full_builder import build

    if args.memory_limit_mb:
        limit = args.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    source = FileSource(Path(args.items), args.count)
    directory = Path(args.work) / "baseline"
    started = time.perf_counter()
    built = build(source.load_live(), directory)
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    shutil.rmtree(directory, ignore_errors=True)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "postings": built["postings"],
        "snapshot_bytes": size,
        "live_records_read": source.live_records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("full", "changes", "baseline"))
    parser.add_argument("--items", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--changes", default=None)
    parser.add_argument("--store", default=None)
    parser.add_argument("--work", required=True)
    parser.add_argument("--memory-limit-mb", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    bench_environment()
    os.makedirs(args.work, exist_ok=True)
    result = build_baseline(args) if args.mode == "baseline" else build_ours(args)
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
