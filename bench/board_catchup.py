"""Catch-ups beside requests: `python -m bench.board_catchup --postings 20000 --changes 5000`.

One run, one set of generated postings (`bench.board_data`, stored items as the sync writes them):

1. Two snapshots are built with the project's builder into a local directory store: the board, and the
   board with the burst applied (complete up to after the burst's last change).
2. Each mode runs in a fresh process, which opens the first snapshot (files hard-linked), answers a loop
   of `GET /jobs` requests through the handler (the "before" figures), then gets a burst of `--changes`
   changed postings (a quarter closed, the rest retitled) through a fake change feed paged like
   DynamoDB's (100 per page, `BOARD_REFRESH_PAGES_PER_SHARD` pages per shard and catch-up). Requests go
   on back to back, one at a time as in Lambda, until the whole burst is applied; then the second
   snapshot is published and the process moves to it.
   - `baseline`: the catch-up as it was (`bench.baselines.locked_catch_up`): decode, build and apply
     everything under the lock, one commit;
   - `batched`: the current service: documents built outside the lock, `--batch` changes applied and
     committed per turn of the lock, the retired engine's memory given back after a switch;
   - `switch`: the current service with the second snapshot published before the burst arrives: the
     burst makes the process move to it instead of applying the changes.
3. Reported per mode: request latency before and during the burst (p50, p99, the longest), the catch-up's
   total time (from the first request of the burst until every change is on the board), changes applied,
   batches and the longest time the catch-up held the lock in one go, and the resident set
   (`/proc/self/statm`) before the burst (the feed's items already loaded), after it and after the switch.

Figures come from one machine (its CPU count and load average are in the JSON). Prints the figures, then
ONE JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.board_build import DirectoryStore
from bench.board_common import (
    DecodeTimer,
    Monotonic,
    bench_environment,
    child,
    current_rss_mb,
    read_items,
    say,
    summary_ms,
    write_result,
)

if TYPE_CHECKING:
    from chalicelib.services.board.records import ApplyFlags, ChangePage, PostingRecord
    from chalicelib.services.board.snapshot import SnapshotManifest

MODES = ("baseline", "batched", "switch")
PAGE_SIZE = 100  # DynamoDB pages of the change feed hold 100 changes (docs/board.md)
QUERIES: tuple[dict[str, list[str]], ...] = (
    {},
    {"q": ["engineer"]},
    {"q": ["python developer"]},
    {"location": ["Berlin"]},
    {"remote": ["true"]},
    {"q": ["manager"], "remote": ["false"]},
    {"q": ["data"], "sort": ["relevance"]},
    {"employment_type": ["full_time"]},
)


def resident_mb() -> dict[str, float]:
    """The resident set and its anonymous (heap) and file-backed (mapped index files) parts."""
    found: dict[str, float] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if name in ("RssAnon", "RssFile"):
                found[name] = round(int(value.split()[0]) / 1024, 1)
    return {"total": current_rss_mb(), "anon": found.get("RssAnon", 0.0), "file": found.get("RssFile", 0.0)}


# ---- collaborators ------------------------------------------------------------------------------------
class PointedStore(DirectoryStore):
    """The build benchmark's store whose current snapshot is whichever one the benchmark points at."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.pointer: SnapshotManifest | None = None

    def current(self) -> SnapshotManifest | None:
        return self.pointer

    def publish(self, manifest: SnapshotManifest) -> bool:
        self.pointer = manifest
        return True


class MemoryLiveSource:
    """LiveSource over records held in memory; every build here is a full one."""

    def __init__(self, records: Sequence[PostingRecord]) -> None:
        from chalicelib.aws.table_schema import BOARD_SHARDS

        self.shards = BOARD_SHARDS
        self._records = records

    def load_live(self) -> Iterator[PostingRecord]:
        return iter(self._records)

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        raise AssertionError("the catch-up benchmark builds every snapshot in full")


class PagedFeed:
    """BoardSource whose change feed holds `records`, ordered and paged like the GSI2 query's."""

    def __init__(self, shards: int) -> None:
        from chalicelib.aws.posting_items import board_shard

        self.shards = shards
        self._shard_of = board_shard
        self._records: dict[int, list[PostingRecord]] = {shard: [] for shard in range(shards)}
        self.read_to_end: set[int] = set()  # shards whose last page was served since `add`

    def add(self, records: Sequence[PostingRecord]) -> None:
        for record in records:
            self._records[self._shard_of(record.job_id)].append(record)
        for shard_records in self._records.values():
            shard_records.sort(key=lambda record: record.changed_key)
        self.read_to_end = set()

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        from chalicelib.services.board.records import ChangePage

        newer = [
            record
            for record in self._records[shard]
            if record.changed_key > after and (resume is None or record.changed_key > resume)
        ]
        page = newer[:PAGE_SIZE]
        if len(newer) <= PAGE_SIZE:
            self.read_to_end.add(shard)
            return ChangePage(records=page, resume=None)
        return ChangePage(records=page, resume=page[-1].changed_key)

    def posting(self, job_id: str) -> PostingRecord | None:
        return None

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        from chalicelib.services.board.records import ApplyFlags

        return ApplyFlags()


# ---- the parent: data, snapshots, one process per mode ---------------------------------------------------
def write_changes(items: list[dict[str, Any]], count: int, path: Path) -> list[dict[str, Any]]:
    """`count` changed postings spread over the board, stamped from now on 0.1 ms apart (a quarter
    closed, the rest retitled), to `path`; returns the board's items with the changes applied. Returns
    once the last stamp is past, so that a snapshot built next is complete up to after the burst."""
    import orjson

    from chalicelib.aws.posting_items import item_to_posting, posting_to_item
    from chalicelib.clock import utcnow

    at = utcnow()
    step = max(1, len(items) // max(count, 1))
    changed: dict[str, dict[str, Any]] = {}
    with path.open("wb") as handle:
        for number, item in enumerate(items[::step][:count]):
            posting = item_to_posting(item)
            moment = at + timedelta(microseconds=100 * number)
            if number % 4 == 0:
                update: dict[str, Any] = {"status": "closed", "closed_at": moment, "changed_at": moment}
            else:
                update = {"title": posting.title + " (m/f/d)", "changed_at": moment, "updated_at": moment}
            stored = posting_to_item(posting.model_copy(update=update))
            changed[str(stored["job_id"])] = stored
            handle.write(orjson.dumps(stored) + b"\n")
    time.sleep(max(0.0, (at + timedelta(microseconds=100 * count) - utcnow()).total_seconds()) + 0.01)
    return [changed.get(str(item["job_id"]), item) for item in items]


def build(items: list[dict[str, Any]], store: PointedStore, work: Path) -> tuple[SnapshotManifest, float]:
    from chalicelib.services.board.snapshot import SnapshotBuilder

    builder = SnapshotBuilder(
        MemoryLiveSource(DecodeTimer().records(items)), store, work_directory=work, overlap_seconds=0
    )
    started = time.perf_counter()
    report = builder.build(full=True)
    assert report.published and report.manifest is not None, report
    return report.manifest, time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.board import generate_items

    bench_environment()
    work = Path(tempfile.mkdtemp(prefix="board-catchup-"))
    try:
        items_path = work / "items.jsonl"
        generate_items(args.postings, items_path)
        items = read_items(items_path, args.postings)
        store = PointedStore(work / "snapshots")
        first, first_seconds = build(items, store, work / "build")
        changes_path = work / "changes.jsonl"
        after = write_changes(items, args.changes, changes_path)
        second, second_seconds = build(after, store, work / "build")
        del items, after
        gc.collect()
        say(
            f"snapshots: {first.postings:,} postings built in {first_seconds:.1f}s; with the burst "
            f"applied, {second.postings:,} postings in {second_seconds:.1f}s"
        )
        (work / "first.json").write_text(json.dumps(first.to_dict()))
        (work / "second.json").write_text(json.dumps(second.to_dict()))
        argv = [
            *("--root", str(store.root), "--first", str(work / "first.json")),
            *("--second", str(work / "second.json"), "--changes-file", str(changes_path)),
            *("--batch", str(args.batch), "--before-requests", str(args.before_requests)),
        ]
        modes = {
            mode: child("bench.board_catchup", mode, work, "--child", mode, *argv) for mode in args.modes
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {
        "postings": args.postings,
        "changes": args.changes,
        "batch": args.batch,
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "modes": modes,
    }
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    say(
        f"{result['changes']:,} changes on a board of {result['postings']:,} postings, batch "
        f"{result['batch']} (machine: {result['machine']['cpus']} CPUs, "
        f"load {result['machine']['load_average']})"
    )
    say(
        f"   {'mode':<9}| {'before p50':>10} {'p99':>7} | {'burst p50':>9} {'p99':>8} {'longest':>8} "
        f"{'requests':>8} | {'catch-up':>8} {'applied':>7} {'batches':>7} {'lock max':>8} | "
        f"{'RSS before':>10} {'burst':>6} {'switch':>6}"
    )
    for mode, figures in result["modes"].items():
        before, burst = figures["before"], figures["burst"]
        say(
            f"   {mode:<9}| {before['p50_ms']:8.1f}ms {before['p99_ms']:5.1f}ms | {burst['p50_ms']:7.1f}ms "
            f"{burst['p99_ms']:6.1f}ms {burst['max_ms']:6.0f}ms {burst['n']:>8} | "
            f"{figures['catch_up_seconds']:7.2f}s {figures['applied']:>7} {figures['apply_batches']:>7} "
            f"{max(figures['longest_hold_ms'].values()):6.1f}ms | {figures['rss_mb_before']:8.1f}MB "
            f"{figures['rss_mb_after_burst']:4.0f}MB {figures['rss_mb_after_switch']:4.0f}MB"
        )
    modes = result["modes"]
    if "baseline" in modes and "batched" in modes:
        base, ours = modes["baseline"]["burst"], modes["batched"]["burst"]
        say(
            f"   batched / baseline during the burst: p99 {ours['p99_ms'] / base['p99_ms']:.3f}, longest "
            f"request {ours['max_ms'] / base['max_ms']:.3f}"
        )


# ---- a child: one mode in a fresh process --------------------------------------------------------------
def measure(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    bench_environment()
    import app  # noqa: F401  (the Lambda init phase: routes, settings, clients)
    from bench.baselines.locked_catch_up import LockedCatchUpBoardService
    from chalicelib import deps
    from chalicelib.api.board import list_jobs_response
    from chalicelib.aws.table_schema import BOARD_SHARDS
    from chalicelib.services.board.service import BoardService
    from chalicelib.services.board.snapshot import SnapshotManifest
    from chalicelib.settings import get_settings

    settings = get_settings()
    first = SnapshotManifest.from_dict(json.loads(args.first.read_text()))
    second = SnapshotManifest.from_dict(json.loads(args.second.read_text()))
    store = PointedStore(args.root)
    store.pointer = first
    feed = PagedFeed(BOARD_SHARDS)
    monotonic = Monotonic()
    local = Path(tempfile.mkdtemp(prefix=f"board-catchup-{mode}-"))
    service_class = LockedCatchUpBoardService if mode == "baseline" else BoardService
    service = service_class(
        feed,
        store,
        local_directory=local,
        public_base_url=settings.public_base_url,
        board_name=settings.board_name,
        cursor_key=b"bench",
        embloy_providers=settings.embloy_supported_providers,
        refresh_seconds=1e9,  # catch-ups happen when the benchmark makes one due
        pages_per_refresh=settings.board_refresh_pages_per_shard,
        read_wait_seconds=settings.board_read_wait_seconds,
        overlap_seconds=settings.board_change_overlap_seconds,
        snapshot_check_seconds=1e12,
        snapshot_switch_changes=settings.board_snapshot_switch_changes,
        apply_batch=args.batch,
        facet_limit=settings.board_facet_limit,
        monotonic=monotonic,
    )
    setattr(deps, "get_board_service", lambda: service)  # noqa: B010  (what list_jobs_response calls)

    def request(params: dict[str, list[str]]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        answer: dict[str, Any] = list_jobs_response(params, None).to_dict([])
        wall = time.perf_counter() - started
        assert answer["statusCode"] == 200, answer
        return wall, answer

    def total() -> int:
        return int(json.loads(request({})[1]["body"])["total"])

    try:
        request({})  # the cold open
        for params in QUERIES:  # warm the code paths
            request(params)
        before = [request(QUERIES[n % len(QUERIES)])[0] for n in range(args.before_requests)]
        if mode == "switch":
            store.pointer = second  # published before the burst arrives
        # The feed's items are the benchmark's, not the service's: loaded before the first figure.
        feed.add(DecodeTimer().records(read_items(args.changes_file, 10**9)))
        gc.collect()
        rss_before = resident_mb()
        monotonic.offset += 2e9  # the next request finds its last catch-up due
        during: list[float] = []
        started = time.perf_counter()
        while True:
            during.append(request(QUERIES[len(during) % len(QUERIES)])[0])
            if len(feed.read_to_end) == feed.shards and service.settle(0):
                break
        catch_up = time.perf_counter() - started
        rss_after_burst = resident_mb()
        stats = service.stats
        figures: dict[str, Any] = {
            "before": summary_ms(before),
            "burst": summary_ms(during),
            "catch_up_seconds": round(catch_up, 3),
            "applied": stats.applied_changes,
            "skipped": stats.skipped_changes,
            "apply_batches": stats.apply_batches,
            "longest_hold_ms": {
                step: round(stats.extra.get(f"longest_{step}_hold_seconds", 0.0) * 1000, 2)
                for step in ("news", "write", "publish")
            },
            "longest_hold_cpu_ms": {
                step: round(stats.extra.get(f"longest_{step}_hold_cpu_seconds", 0.0) * 1000, 2)
                for step in ("news", "write", "publish")
            },
            "flush_ms": {
                "total": round(stats.extra.get("flush_seconds", 0.0) * 1000, 1),
                "longest": round(stats.extra.get("longest_flush_seconds", 0.0) * 1000, 1),
            },
            "switches_during_burst": stats.snapshot_switches,
            "total_after_burst": total(),
            "rss_mb_before": rss_before["total"],
            "rss_mb_after_burst": rss_after_burst["total"],
            "resident_mb": {"before": rss_before, "after_burst": rss_after_burst},
        }
        if mode != "switch":
            store.pointer = second
            monotonic.offset += 2e12  # the next request's catch-up also reads the pointer
            request({})
            assert service.settle(600)
        figures["switches"] = stats.snapshot_switches
        after_switch = resident_mb()
        figures["rss_mb_after_switch"] = after_switch["total"]
        figures["resident_mb"]["after_switch"] = after_switch
        gc.collect()
        figures["rss_mb_after_switch_and_collect"] = current_rss_mb()
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        figures["rss_mb_after_switch_and_trim"] = current_rss_mb()
        figures["total_after_switch"] = total()
        assert figures["total_after_switch"] == second.postings, figures
        assert figures["total_after_burst"] == second.postings, figures  # every change is on the board
        return figures
    finally:
        shutil.rmtree(local, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=None, help="BOARD_APPLY_BATCH (default: the setting)")
    parser.add_argument("--before-requests", type=int, default=400)
    parser.add_argument("--modes", type=lambda text: text.split(","), default=list(MODES))
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    for name in ("--root", "--first", "--second", "--changes-file", "--out"):
        parser.add_argument(name, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch is None:
        bench_environment()
        from chalicelib.settings import get_settings

        args.batch = get_settings().board_apply_batch
    if args.child:
        write_result(args.out, measure(args.child, args))
        return
    result = run(args)
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
