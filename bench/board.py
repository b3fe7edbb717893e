"""Board read-path benchmark: `python -m bench.board` (or `make bench-board`; `--quick` for a smoke run).

One run, one set of generated postings (`bench.board_data.generate`, deterministic, ~8.5 KB items written
with the sync's codec `posting_to_item`), for each size N (`--sizes`, default 10,000 and 100,000; the
first N postings of one generated list):

1. Snapshot build: `SnapshotBuilder` over an in-memory LiveSource yielding the N items as PostingRecords
   (decoded on `load`, as the DynamoDB repository does), into `S3SnapshotStore` on moto's S3 and DynamoDB
   in process (`moto.mock_aws`: no network, so upload/download times are moto's, not S3's). moto's
   DynamoDB is not used as the source: its Query emulation walks every item in Python and would be the
   bottleneck. Reported: index build time (of which decoding the items), snapshot size, hashing, upload,
   pointer read and download times, separately.
2. Cold: a FRESH process (`bench.board_cold`) with the snapshot already on local disk: import `app`
   (the Lambda init phase; its peak RSS is the import baseline: Python, boto3, Chalice, Powertools,
   pydantic), then the first `GET /jobs` through `list_jobs_response` + `Response.to_dict()`, split into
   board imports (tantivy, service, query model), download (hard links here; excluded from the budget,
   the S3 download is item 1's figure), open, catch-up (a fake feed with no changes: production adds one
   DynamoDB Query per shard in parallel) and the request. Peak RSS (`ru_maxrss`) after the first request
   and after the warm mix. Budgets at 100k: cold open + first request <= 1 s, peak RSS <= 512 MB.
3. Warm in-handler latency, same process: `list_jobs_response(params, None)` + `Response.to_dict()` per
   query kind (`bench.board_queries`), over distinct queries. The engine caches each query's total and
   facet counts, so every query is timed twice: "first time" (the cache reset before it, untimed: what a
   new query, or any query after a catch-up that changed the board, costs) and "repeated" (the same
   queries again, cache warm). Refreshes are off (refresh_seconds huge, empty feed). Then one catch-up
   applying `--changes` changed postings (a quarter closed, the rest retitled), timed in process.
   Budgets: worst kind's warm p99 <= 2 ms at 10k, <= 5 ms at 100k.
4. Baselines on the same items, each in its own fresh process (so each RSS is its own):
   (a) legacy: the previous implementation (`bench.baselines.legacy_index`, vendored from fc7c2db): the
   rebuild-from-items cold load every API process did (decode, tokenise, bitset index, gc.freeze; the
   items read from a local file stand in for the DynamoDB fetch, which is NOT timed and came on top),
   its peak RSS, first request and warm mix (whole words only: prefixes and typos find 0);
   (b) SQLite FTS5 (`bench.baselines.fts5`, stdlib sqlite3): build time and DB size (built in one
   process), then a fresh process opening it: first request and warm mix (porter stemming, last word as
   a prefix, no typos, facets by GROUP BY, no facet cache).
   Ratios are ours / baseline (< 1: ours is faster or smaller), over the same first queries of each kind.
5. Result counts per kind (mean total per query, queries with no result) and per probe query, for ours,
   legacy and FTS5.

Dropped from the previous version of this benchmark, on purpose: the "naive" baseline (one DynamoDB Query
with a FilterExpression per request) was timed through moto's in-process Query emulation, which measures
moto, not DynamoDB; and the live fan-out baseline listed the StackOne sandbox's demo accounts, not the same
postings, so its ratio compared different work. Neither is comparable to an engine over the same postings;
the legacy index and FTS5 are.

All figures are from one machine (see `machine` in the JSON: CPU count and load average); the processes
run one at a time. Prints the figures, then ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.board_common import (
    PROJECT_DIR,
    KindSamples,
    bench_environment,
    child,
    save_mix,
    say,
    summary_ms,
)

if TYPE_CHECKING:
    pass

QUICK_SIZES = (2_000,)
COLD_BUDGET_SECONDS = 1.0
RSS_BUDGET_MB = 512.0
SUGGEST_BUDGET_MS = 5.0  # GET /jobs/suggest and GET /jobs/{job_id}/similar, p99 at every size


BUILDER_RSS_BUDGET_MB = 1024.0
COLD_DOWNLOAD_BUDGET_SECONDS = 1.5  # at 100k: the first GET /jobs of a fresh process, download included
INCREMENTAL_BUDGET_RATIO = 0.10  # an incremental build after 1 % changed, over a full build
SNAPSHOT_BUDGET_BYTES_PER_POSTING = 500
MEMORY_BASELINES_MAX = 200_000  # the legacy index and FTS5 baselines read every item into memory


def warm_budget_ms(size: int) -> float:
    return 2.0 if size <= 10_000 else 5.0 if size <= 100_000 else 20.0


def code_version() -> dict[str, Any]:
    """The commit the figures were taken on, and whether the board's code differs from it."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "chalicelib/services/board", "chalicelib/aws")
    return {"commit": git("rev-parse", "--short", "HEAD"), "board_code_uncommitted": changed.splitlines()}


# ---- steps ----------------------------------------------------------------------------------------------
def generate_items(count: int, path: Path) -> dict[str, Any]:
    """`count` generated postings as stored items, one JSON object a line, streamed to `path`."""
    import orjson

    from bench.board_data import postings
    from chalicelib.aws.posting_items import posting_to_item
    from chalicelib.clock import utcnow

    started = time.perf_counter()
    doc_bytes = 0
    with path.open("wb") as handle:
        for posting in postings(count, now=utcnow() - timedelta(minutes=5)):
            item = posting_to_item(posting)
            doc_bytes += len(item["doc"])
            handle.write(orjson.dumps(item) + b"\n")
    seconds = time.perf_counter() - started
    info = {"generate_seconds": round(seconds, 1), "mean_doc_kb": round(doc_bytes / count / 1024, 2)}
    say(f"generated {count:,} postings as stored items in {seconds:.1f}s (mean doc {info['mean_doc_kb']} KB)")
    return info


def write_changes(items_path: Path, size: int, count: int, path: Path) -> None:
    """`count` changed postings spread over the first `size` items, stamped now: a quarter closed, the
    rest retitled."""
    import orjson

    from chalicelib.aws.posting_items import item_to_posting, posting_to_item
    from chalicelib.clock import utcnow

    at = utcnow()
    step = max(1, size // max(count, 1))
    written = 0
    with items_path.open("rb") as items, path.open("wb") as handle:
        for number, line in enumerate(items):
            if number >= size or written >= count:
                break
            if number % step:
                continue
            posting = item_to_posting(orjson.loads(line))
            moment = at + timedelta(milliseconds=written)
            if written % 4 == 0:
                update: dict[str, Any] = {"status": "closed", "closed_at": moment, "changed_at": moment}
            else:
                update = {"title": posting.title + " (m/f/d)", "changed_at": moment, "updated_at": moment}
            handle.write(orjson.dumps(posting_to_item(posting.model_copy(update=update))) + b"\n")
            written += 1


def build_figures(size: int, items_path: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The builder's figures, each build in its own process: ours in full, ours after 1 % of the postings
    changed (a new builder process: it downloads the current snapshot first), and the builder as it was."""
    store = work / f"store-{size}"
    common = ["--items", str(items_path), "--count", str(size)]
    full = child(
        "bench.board_build",
        f"build-full-{size}",
        work,
        "full",
        *common,
        "--store",
        str(store),
        "--work",
        str(work / f"builder-{size}-full"),
    )
    changed = max(1, size // 100)
    feed = work / f"feed-{size}.jsonl"
    write_changes(items_path, size, changed, feed)
    incremental = child(
        "bench.board_build",
        f"build-changes-{size}",
        work,
        "changes",
        *common,
        "--changes",
        str(feed),
        "--store",
        str(store),
        "--work",
        str(work / f"builder-{size}-changes"),
    )
    feed.unlink()
    baseline: dict[str, Any] | None = None
    if not args.skip_baseline_builder:
        baseline = child(
            "bench.board_build",
            f"build-baseline-{size}",
            work,
            "baseline",
            *common,
            "--work",
            str(work / f"builder-{size}-baseline"),
            "--memory-limit-mb",
            str(args.baseline_memory_mb),
            allow_failure=True,
        )
    per_posting = full["snapshot_bytes"] / max(full["postings"], 1)
    figures: dict[str, Any] = {
        "full": full,
        "incremental": incremental,
        "baseline": baseline,
        "snapshot_bytes_per_posting": round(per_posting, 1),
        "disk_bytes_per_posting": round(full["disk_bytes"] / max(full["postings"], 1), 1),
        "incremental_over_full": ratio(incremental["seconds"], full["seconds"]),
    }
    stats = incremental["stats"]
    say(
        f"1. builder, full: {full['seconds']:.1f}s for {full['postings']:,} postings "
        f"({full['seconds'] / max(full['postings'], 1) * 1000:.2f} ms each), peak RSS "
        f"{full['peak_rss_mb']:.0f} MB [budget {BUILDER_RSS_BUDGET_MB:.0f} MB], snapshot "
        f"{full['snapshot_bytes'] / 1e6:.1f} MB stored = {per_posting:.0f} B/posting [budget "
        f"{SNAPSHOT_BUDGET_BYTES_PER_POSTING} B] ({full['disk_bytes'] / 1e6:.1f} MB on disk) in "
        f"{full['files']} files; "
        f"items read {full['live_records_read']:,}"
    )
    say(
        f"   incremental after {changed:,} changes (1 %): {incremental['seconds']:.2f}s = "
        f"{fmt_ratio(figures['incremental_over_full'])} of the full build [budget 0.10], peak RSS "
        f"{incremental['peak_rss_mb']:.0f} MB; change feed read: "
        f"{incremental['feed_records_read']:,} records "
        f"in {incremental['feed_pages_read']} pages (the live index: 0); downloaded "
        f"{stats.get('downloaded_bytes', 0) / 1e6:.1f} MB (a cold builder), uploaded "
        f"{stats['uploaded_bytes'] / 1e6:.1f} MB of {incremental['snapshot_bytes'] / 1e6:.1f} MB; "
        f"{stats['added']:.0f} documents written, {stats['removed']:.0f} removed, bitmap segments "
        f"{stats['segments']:.0f} ({stats['merged_segments']:.0f} merged)"
    )
    if baseline is None:
        say("   baseline builder: skipped")
    elif baseline.get("failed"):
        say(
            f"   baseline (the builder as it was), under {args.baseline_memory_mb} MB: FAILED "
            f"(exit code {baseline['exit_code']}, after {baseline['process_wall_seconds']:.0f}s): "
            f"{baseline['error']}"
        )
    else:
        figures["full_over_baseline"] = {
            "seconds": ratio(full["seconds"], baseline["seconds"]),
            "peak_rss": ratio(full["peak_rss_mb"], baseline["peak_rss_mb"]),
            "snapshot_bytes": ratio(full["snapshot_bytes"], baseline["snapshot_bytes"]),
        }
        figures["incremental_over_baseline"] = ratio(incremental["seconds"], baseline["seconds"])
        say(
            f"   baseline (the builder as it was): {baseline['seconds']:.1f}s, peak RSS "
            f"{baseline['peak_rss_mb']:.0f} MB, snapshot {baseline['snapshot_bytes'] / 1e6:.1f} MB "
            f"({baseline['snapshot_bytes'] / max(baseline['postings'], 1):.0f} B/posting, uncompressed). "
            f"ours / baseline: full build {fmt_ratio(figures['full_over_baseline']['seconds'])}, peak RSS "
            f"{fmt_ratio(figures['full_over_baseline']['peak_rss'])}, size "
            f"{fmt_ratio(figures['full_over_baseline']['snapshot_bytes'])}; incremental "
            f"{fmt_ratio(figures['incremental_over_baseline'])}"
        )
    return figures


def unpack_current(size: int, work: Path) -> tuple[Path, Path]:
    """The current snapshot of the size's store, unpacked for the API process (and its manifest file)."""
    from bench.board_build import DirectoryStore
    from chalicelib.services.board.snapshot import materialize

    store = DirectoryStore(work / f"store-{size}")
    manifest = store.current()
    directory = work / f"snapshot-{size}"
    directory.mkdir()
    materialize(manifest, directory, store)
    manifest_path = work / f"manifest-{size}.json"
    manifest_path.write_text(json.dumps(manifest.to_dict()))
    return directory, manifest_path


# ---- figures ---------------------------------------------------------------------------------------
def kinds_of(raw: dict[str, Any], head: tuple[int, int] | None = None) -> dict[str, KindSamples]:
    """The warm samples of a process's result; with `head`, of the first (queries, deep queries) only."""
    kinds = {kind: KindSamples.from_json(data) for kind, data in raw["warm"].items()}
    if head is None:
        return kinds
    return {kind: s.head(head[1] if kind.startswith("deep_") else head[0]) for kind, s in kinds.items()}


def pooled(kinds: dict[str, KindSamples], which: str) -> dict[str, float]:
    if which == "first":
        return summary_ms([s for k in kinds.values() for s in k.first_wall])
    return summary_ms([s for k in kinds.values() for passes in k.repeated_wall for s in passes])


def ratio(ours: float, theirs: float) -> float | None:
    """ours / theirs to three significant digits (None when theirs is 0)."""
    return float(f"{ours / theirs:.3g}") if theirs > 0 else None


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "  n/a "
    if value >= 0.01 or value <= 0:
        return f"{value:6.3f}"
    return f"{value:.3g} (1/{1 / value:,.0f})"


def warm_table(title: str, kinds: dict[str, KindSamples]) -> dict[str, Any]:
    say(title)
    say(
        f"   {'kind':<20}{'queries':>8} | {'first p50':>9} {'p99':>7} {'cpu p99':>8} | "
        f"{'repeated p50':>12} {'p99':>7} | {'mean total':>10} {'zero':>5}"
    )
    table: dict[str, Any] = {}
    for kind, samples in kinds.items():
        s = samples.summary()
        table[kind] = {
            "queries": s["queries"],
            "skipped": s["skipped"],
            "first_p50_ms": s["first"]["p50_ms"],
            "first_p99_ms": s["first"]["p99_ms"],
            "first_cpu_p99_ms": s["first_cpu"]["p99_ms"],
            "repeated_p50_ms": s["repeated"]["p50_ms"],
            "repeated_p99_ms": s["repeated"]["p99_ms"],
            "total_mean": s["total_mean"],
            "zero_result_queries": s["zero_result_queries"],
        }
        row = table[kind]
        skipped = f" ({s['skipped']} skipped: < 20 pages)" if s["skipped"] else ""
        say(
            f"   {kind:<20}{s['queries']:>8} | {row['first_p50_ms']:9.3f} {row['first_p99_ms']:7.3f} "
            f"{row['first_cpu_p99_ms']:8.3f} | {row['repeated_p50_ms']:12.3f} "
            f"{row['repeated_p99_ms']:7.3f} | {row['total_mean']:10.1f} "
            f"{row['zero_result_queries']:>5}{skipped}"
        )
    first, repeated = pooled(kinds, "first"), pooled(kinds, "repeated")
    say(
        f"   {'all kinds':<20}{'':>8} | {first['p50_ms']:9.3f} {first['p99_ms']:7.3f} {'':>8} | "
        f"{repeated['p50_ms']:12.3f} {repeated['p99_ms']:7.3f} |"
    )
    return {"kinds": table, "all_first": first, "all_repeated": repeated}


PROFILE_COLUMNS = (
    ("request", "request"),
    ("handler_rest", "handler"),
    ("service_rest", "service"),
    ("text_query", "text q"),
    ("prefix_terms", "prefix"),
    ("typo_terms", "typo"),
    ("compounds", "compounds"),
    ("bitmaps.terms", "bm.terms"),
    ("bitmaps.filters", "bm.filter"),
    ("rank", "rank"),
    ("hits", "hits"),
    ("bitmaps.newest", "bm.newest"),
    ("facets", "facets"),
    ("bitmaps.facet_counts", "bm.facets"),
    ("tantivy.search", "tv.search"),
    ("tantivy.aggregate", "tv.aggr"),
    ("tantivy.doc", "tv.doc"),
)


def print_profile(ours: dict[str, Any]) -> None:
    """Where the time of a first-time request goes, per kind (bench.board_profile)."""
    say(
        "   where the time goes (first-time requests, ms, mean / p99 per step, see bench/board_profile.py; "
        "steps nest: text q includes prefix and typo expansion, rank includes hits (stored records) and "
        "bm.newest, facets includes bm.facets (or tantivy aggregations, aggr n per request); tv.* = inside "
        "tantivy, whichever step called it):"
    )
    columns = [
        (label, title)
        for label, title in PROFILE_COLUMNS
        if any(label in s for s in ours["profile"].values())
    ]
    aggregations = any(s["aggregate_calls"]["mean"] for s in ours["profile"].values())
    say(
        f"   {'kind':<19}"
        + "".join(f"{title:>13}" for _, title in columns)
        + (f"{'aggr n':>8}" if aggregations else "")
        + f"{'search n (max)':>16}"
    )
    for kind, steps in ours["profile"].items():
        cells = []
        for label, _ in columns:
            step = steps.get(label)
            cells.append(f"{step['mean_ms']:5.2f}/{step['p99_ms']:<6.2f}" if step else f"{'-':>12}")
        searches = steps.get("search_calls", {"mean": 0, "max": 0})
        say(
            f"   {kind:<19}"
            + "".join(f"{cell:>13}" for cell in cells)
            + (f"{steps['aggregate_calls']['mean']:>8}" if aggregations else "")
            + f"{searches['mean']:>10} ({searches['max']:.0f})"
        )
    for kind, steps in ours["profile"].items():
        slowest = steps["slowest"]
        parts = ", ".join(f"{title} {slowest[label]:.2f}" for label, title in columns if label in slowest)
        say(f"   slowest {kind} {steps.get('slowest_params', {})}: {parts}")
    if ours.get("profile_missing"):
        say(f"   (not found, so not timed: {', '.join(ours['profile_missing'])})")
    catch = ours["catch_up"]
    if catch.get("profile_ms"):
        parts = ", ".join(
            f"{label.removeprefix('catch_up.')} {ms:.1f} ms x{catch['profile_calls'].get(label, 0)}"
            for label, ms in catch["profile_ms"].items()
        )
        say(
            f"   catch-up of {catch['changes']} changes, steps (inclusive; an upsert includes a version "
            f"lookup): {parts}"
        )


def run_size(
    size: int, items_path: Path, work: Path, mix_path: Path, args: argparse.Namespace
) -> dict[str, Any]:
    say(f"\n==== N = {size:,} postings ====")
    result: dict[str, Any] = {"postings": size}
    build = build_figures(size, items_path, work, args)
    result["build"] = build
    snapshot_dir, manifest_path = unpack_current(size, work)
    changes_path = work / f"changes-{size}.jsonl"
    write_changes(items_path, size, args.changes, changes_path)
    skip_memory_baselines = size > MEMORY_BASELINES_MAX
    if skip_memory_baselines:
        say(
            "   (the legacy and FTS5 baselines hold every item in memory: skipped above "
            f"{MEMORY_BASELINES_MAX:,})"
        )

    budget_ms = warm_budget_ms(size)
    ours_args = ["--mix", str(mix_path), "--changes", str(changes_path)]
    ours = child(
        "bench.board_cold",
        f"ours-{size}",
        work,
        *("--snapshot", str(snapshot_dir), "--manifest", str(manifest_path), "--work", str(work / "api")),
        *ours_args,
        *("--queries", str(args.queries), "--deep-queries", str(args.deep_queries)),
        *("--repeats", str(args.repeats)),
        *(["--profile"] if args.profile else []),
    )
    cold = ours["cold"]
    peak = max(ours["peak_rss_mb_first_request"], ours["peak_rss_mb_warm"])
    result["cold"] = cold
    result["cold_open_first_request_seconds"] = cold["cold_open_first_request_seconds"]
    result["init_import_app_seconds"] = ours["init_import_app_seconds"]
    result["import_baseline_rss_mb"] = ours["import_baseline_rss_mb"]
    result["peak_rss_mb"] = {
        "first_request": ours["peak_rss_mb_first_request"],
        "warm": ours["peak_rss_mb_warm"],
        "after_catch_up": ours["peak_rss_mb_after_catch_up"],
    }
    say(
        f"2. cold, fresh process: init (import app) {ours['init_import_app_seconds'] * 1000:.0f} ms, import "
        f"baseline peak RSS {ours['import_baseline_rss_mb']:.0f} MB. First GET /jobs: board imports "
        f"{cold['imports_seconds'] * 1000:.1f} ms + construct {cold['construct_seconds'] * 1000:.1f} ms "
        f"+ open {cold['open_seconds'] * 1000:.1f} ms + catch-up {cold['catch_up_seconds'] * 1000:.1f} ms "
        f"(fake feed) + request {cold['first_request_seconds'] * 1000:.1f} ms = "
        f"{cold['cold_open_first_request_seconds'] * 1000:.1f} ms "
        f"[budget {COLD_BUDGET_SECONDS * 1000:.0f} ms] (download, excluded: "
        f"{cold['download_seconds_excluded'] * 1000:.1f} ms of hard links; from S3: item 1)"
    )
    say(
        f"   peak RSS: {ours['peak_rss_mb_first_request']:.0f} MB after the first request, "
        f"{ours['peak_rss_mb_warm']:.0f} MB after the warm mix, {ours['peak_rss_mb_after_catch_up']:.0f} MB "
        f"after the catch-up [budget {RSS_BUDGET_MB:.0f} MB]; of which the import baseline "
        f"{ours['import_baseline_rss_mb']:.0f} MB (current RSS after warm: {ours['rss_mb_warm']:.0f} MB)"
    )
    download: dict[str, Any] | None = None
    if size <= args.download_max:
        from bench.board_download import cold_start_with_download

        say("   with the download, over a throttled link (fresh processes; bench/board_download.py):")
        download = cold_start_with_download(
            snapshot_dir,
            manifest_path,
            work / f"download-{size}",
            repeats=args.download_repeats,
            report=lambda line: say(f"   {line}"),
        )
        result["cold_with_download"] = download
    else:
        say(f"   (the throttled download is measured up to {args.download_max:,} postings: --download-max)")
    if not ours["facet_cache_reset_supported"]:
        say("   NOTE: the engine's facet cache could not be reset: 'first time' figures are cached ones")
    ours_kinds = kinds_of(ours)
    ours_table = warm_table(
        f"3. warm GET /jobs in-handler (list_jobs_response + to_dict), ours, ms [budget p99 {budget_ms} ms]. "
        "first = facet counts not cached; repeated = same queries again:",
        ours_kinds,
    )
    worst_first = max(row["first_p99_ms"] for row in ours_table["kinds"].values())
    worst_repeated = max(row["repeated_p99_ms"] for row in ours_table["kinds"].values())
    result["warm"] = ours_table
    result["warm_worst_p99_ms"] = {"first": worst_first, "repeated": worst_repeated}
    catch = ours["catch_up"]
    result["catch_up"] = catch
    say(
        f"   worst kind p99: first time {worst_first:.3f} ms, repeated {worst_repeated:.3f} ms. "
        f"Catch-up of {catch['changes']} changes ({catch['applied']} applied): "
        f"{catch['catch_up_seconds'] * 1000:.1f} ms in process (decoding "
        f"{catch['decode_seconds'] * 1000:.1f} ms); the request that started it "
        f"{catch['request_with_catch_up_seconds'] * 1000:.1f} ms (the catch-up done after "
        f"{catch['catch_up_done_seconds'] * 1000:.1f} ms), the next "
        f"(new generation, facets recomputed) {catch['next_request_seconds'] * 1000:.1f} ms"
    )

    extra = ours["suggest_similar"]
    result["suggest_similar"] = extra
    say(f"   suggest and similar, in-handler, ms [budget p99 {SUGGEST_BUDGET_MS:.0f} ms]:")
    for name, row in extra.items():
        say(
            f"   {name:<20}{row['requests']:>8} | first p50 {row['first']['p50_ms']:.3f} p99 "
            f"{row['first']['p99_ms']:.3f} cpu p99 {row['first_cpu']['p99_ms']:.3f} | repeated p50 "
            f"{row['repeated']['p50_ms']:.3f} p99 {row['repeated']['p99_ms']:.3f}"
        )

    if "profile" in ours:
        result["profile"] = ours["profile"]
        result["catch_up_profile_ms"] = catch.get("profile_ms", {})
        print_profile(ours)

    # ---- baselines -------------------------------------------------------------------------------------
    head = args.baseline_queries
    ours_head = kinds_of(ours, (head, args.baseline_deep_queries))
    baselines: dict[str, dict[str, KindSamples]] = {}
    base_args = ["--mix", str(mix_path), "--queries", str(args.baseline_queries)]
    base_args += ["--deep-queries", str(args.baseline_deep_queries), "--repeats", str(args.baseline_repeats)]
    legacy: dict[str, Any] | None = None
    if not args.skip_legacy and not skip_memory_baselines:
        legacy = child(
            "bench.baselines.run",
            f"legacy-{size}",
            work,
            *("legacy", "--items", str(items_path), "--count", str(size), "--changes", str(changes_path)),
            *base_args,
        )
        parts = legacy["cold_load_parts"]
        result["legacy"] = {
            "cold_load_seconds": legacy["cold_load_seconds"],
            "cold_load_parts": parts,
            "first_request_seconds": legacy["first_request_seconds"],
            "peak_rss_mb": max(legacy["peak_rss_mb_cold_load"], legacy["peak_rss_mb_warm"]),
            "rss_mb_after_cold_load": legacy["rss_mb_after_cold_load"],
            "import_baseline_rss_mb": legacy["import_baseline_rss_mb"],
            "catch_up": legacy["catch_up"],
        }
        say(
            f"4a. legacy (previous in-memory index, rebuilt from items by every cold process): cold load "
            f"{legacy['cold_load_seconds']:.2f}s = decode {parts['decode_items_seconds']:.2f}s + tokenise "
            f"{parts['tokenise_seconds']:.2f}s + index {parts['index_seconds']:.2f}s + gc.freeze "
            f"{parts['gc_freeze_seconds']:.2f}s, plus the DynamoDB fetch of the items (not timed; read "
            f"from a file here in {legacy['read_items_seconds_not_timed']:.1f}s), first request "
            f"{legacy['first_request_seconds'] * 1000:.1f} ms; peak RSS "
            f"{result['legacy']['peak_rss_mb']:.0f} MB (items held: {legacy['rss_mb_items_held']:.0f} MB, "
            f"after load {legacy['rss_mb_after_cold_load']:.0f} MB, import baseline "
            f"{legacy['import_baseline_rss_mb']:.0f} MB); applying the "
            f"{legacy['catch_up']['changes']} changes {legacy['catch_up']['apply_seconds'] * 1000:.1f} ms"
        )
        baselines["legacy"] = kinds_of(legacy)
        result["legacy"]["warm"] = warm_table(
            "    legacy warm, ms (whole words only: prefix/typo queries find 0; first = its unfiltered facet "
            "cache reset):",
            baselines["legacy"],
        )
    fts5: dict[str, Any] | None = None
    if not args.skip_fts5 and not skip_memory_baselines:
        db = work / f"fts5-{size}.sqlite"
        built = child(
            "bench.baselines.run",
            f"fts5-build-{size}",
            work,
            *("fts5-build", "--items", str(items_path), "--count", str(size), "--db", str(db)),
        )
        fts5 = child("bench.baselines.run", f"fts5-{size}", work, "fts5", "--db", str(db), *base_args)
        result["fts5"] = {
            "build_seconds": built["build_seconds"],
            "build_decode_seconds": built["decode_items_seconds"],
            "db_bytes": built["db_bytes"],
            "open_seconds": fts5["open_seconds"],
            "first_request_seconds": fts5["first_request_seconds"],
            "peak_rss_mb": max(fts5["peak_rss_mb_first_request"], fts5["peak_rss_mb_warm"]),
        }
        say(
            f"4b. SQLite FTS5 {sqlite_version()}: build {built['build_seconds']:.1f}s (of which decoding the "
            f"items {built['decode_items_seconds']:.1f}s), DB {built['db_bytes'] / 1e6:.1f} MB; "
            f"fresh process: open {fts5['open_seconds'] * 1000:.1f} ms, first request "
            f"{fts5['first_request_seconds'] * 1000:.1f} ms, peak RSS {result['fts5']['peak_rss_mb']:.0f} MB"
        )
        baselines["fts5"] = kinds_of(fts5)
        result["fts5"]["warm"] = warm_table(
            "    FTS5 warm, ms (no facet cache: first and repeated differ only by SQLite's page cache):",
            baselines["fts5"],
        )
        db.unlink(missing_ok=True)

    # ---- ratios ---------------------------------------------------------------------------------------
    ratios: dict[str, Any] = {}
    for name, kinds in baselines.items():
        per_kind: dict[str, Any] = {}
        say(
            f"   ratios ours / {name} (first time, over the same first {head} queries of each kind; "
            "< 1: ours faster):"
        )
        for kind, theirs in kinds.items():
            mine = ours_head[kind].summary()
            other = theirs.summary()
            per_kind[kind] = {
                "p50": ratio(mine["first"]["p50_ms"], other["first"]["p50_ms"]),
                "p99": ratio(mine["first"]["p99_ms"], other["first"]["p99_ms"]),
            }
            pair = f"p50 {fmt_ratio(per_kind[kind]['p50'])}  p99 {fmt_ratio(per_kind[kind]['p99'])}"
            say(f"     {kind:<20} {pair}")
        shared = {kind: samples for kind, samples in ours_head.items() if kind in kinds}
        mine_all, theirs_all = pooled(shared, "first"), pooled(kinds, "first")
        ratios[name] = {
            "per_kind": per_kind,
            "all_p50": ratio(mine_all["p50_ms"], theirs_all["p50_ms"]),
            "all_p99": ratio(mine_all["p99_ms"], theirs_all["p99_ms"]),
        }
        say(
            f"     {'all kinds':<20} p50 {fmt_ratio(ratios[name]['all_p50'])}  "
            f"p99 {fmt_ratio(ratios[name]['all_p99'])}"
        )
    if legacy is not None:
        legacy_cold = legacy["cold_load_seconds"] + legacy["first_request_seconds"]
        ratios["legacy"]["cold_first_request"] = ratio(cold["cold_open_first_request_seconds"], legacy_cold)
        ratios["legacy"]["peak_rss"] = ratio(peak, result["legacy"]["peak_rss_mb"])
        say(
            "   ours / legacy: cold open + first request "
            f"{fmt_ratio(ratios['legacy']['cold_first_request'])} (legacy without its DynamoDB fetch), "
            f"peak RSS {fmt_ratio(ratios['legacy']['peak_rss'])}"
        )
    if fts5 is not None:
        ratios["fts5"]["build"] = ratio(build["full"]["seconds"], result["fts5"]["build_seconds"])
        ratios["fts5"]["size"] = ratio(build["full"]["snapshot_bytes"], result["fts5"]["db_bytes"])
        ratios["fts5"]["peak_rss"] = ratio(peak, result["fts5"]["peak_rss_mb"])
        say(
            f"   ours / fts5: build {fmt_ratio(ratios['fts5']['build'])}, "
            f"size {fmt_ratio(ratios['fts5']['size'])}, peak RSS {fmt_ratio(ratios['fts5']['peak_rss'])}"
        )
    result["ratios"] = ratios

    # ---- result counts ---------------------------------------------------------------------------------
    say(
        "5. result counts: mean total per query (queries with none) over the first "
        f"{head} queries of each kind"
    )
    engines = {"ours": ours_head, **baselines}
    counts: dict[str, dict[str, Any]] = {}
    say("   " + f"{'kind':<20}" + "".join(f"{name:>18}" for name in engines))
    for kind in ours_head:
        counts[kind] = {}
        cells = []
        for name, kinds in engines.items():
            if kind not in kinds:  # pay, date and distance: ours only
                cells.append("-")
                continue
            s = kinds[kind].summary()
            counts[kind][name] = {"mean": s["total_mean"], "zero": s["zero_result_queries"]}
            cells.append(f"{s['total_mean']:>11.1f} ({s['zero_result_queries']:>3})")
        say(f"   {kind:<20}" + "".join(f"{cell:>18}" for cell in cells))
    result["result_counts"] = counts
    runs = {"ours": ours, "legacy": legacy, "fts5": fts5}
    probes = {
        probe: {name: run["probes"][probe] for name, run in runs.items() if run} for probe in ours["probes"]
    }
    result["probes"] = probes
    say("   probe totals: " + "".join(f"{name:>10}" for name, run in runs.items() if run))
    for probe, totals in probes.items():
        say(f"   {probe!r:<26}" + "".join(f"{total:>10}" for total in totals.values()))

    # ---- budgets ----------------------------------------------------------------------------------------
    budgets = {
        "builder_peak_rss_le_1gb": build["full"]["peak_rss_mb"] <= BUILDER_RSS_BUDGET_MB,
        "incremental_le_10pct_of_full": build["incremental_over_full"] <= INCREMENTAL_BUDGET_RATIO,
        "snapshot_le_500b_per_posting": build["snapshot_bytes_per_posting"]
        <= SNAPSHOT_BUDGET_BYTES_PER_POSTING,
        "cold_open_first_request_le_1s": cold["cold_open_first_request_seconds"] <= COLD_BUDGET_SECONDS,
        **(
            {"cold_with_download_le_1_5s": download["ranged"]["cold_seconds"] <= COLD_DOWNLOAD_BUDGET_SECONDS}
            if download is not None and size <= 100_000
            else {}
        ),
        "peak_rss_le_512mb": peak <= RSS_BUDGET_MB,
        f"warm_p99_first_time_le_{budget_ms:g}ms": worst_first <= budget_ms,
        f"warm_p99_repeated_le_{budget_ms:g}ms": worst_repeated <= budget_ms,
    }
    result["budgets"] = budgets
    say("   budgets: " + ", ".join(f"{name}: {'ok' if ok else 'FAIL'}" for name, ok in budgets.items()))
    if not args.keep:
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        shutil.rmtree(work / "api", ignore_errors=True)
    return result


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.board_queries import PROBES, build_mix

    bench_environment()
    sizes = list(QUICK_SIZES) if args.quick else sorted({int(s) for s in args.sizes.split(",") if s})
    work = Path(tempfile.mkdtemp(prefix="bench-board-", dir=args.work))
    code = code_version()
    say(
        f"code: commit {code['commit']}; uncommitted board changes: "
        f"{code['board_code_uncommitted'] or 'none'}"
    )
    results: dict[str, Any] = {
        "code": code,
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2)},
        "quick": args.quick,
        "settings": {
            "queries_per_kind": args.queries,
            "deep_queries": args.deep_queries,
            "repeats": args.repeats,
            "baseline_queries_per_kind": args.baseline_queries,
            "baseline_deep_queries": args.baseline_deep_queries,
            "baseline_repeats": args.baseline_repeats,
            "changes": args.changes,
        },
    }
    try:
        items_path = work / "items.jsonl"
        results["data"] = generate_items(max(sizes), items_path)
        mix_path = work / "mix.json"
        mix = build_mix(
            max(args.queries, args.baseline_queries), max(args.deep_queries, args.baseline_deep_queries)
        )
        save_mix(mix_path, mix, PROBES)
        results["sizes"] = {str(size): run_size(size, items_path, work, mix_path, args) for size in sizes}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept {work}")
    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated posting counts")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: N={QUICK_SIZES}, few queries")
    parser.add_argument("--queries", type=int, default=200, help="distinct queries per kind (ours)")
    parser.add_argument("--deep-queries", type=int, default=30, help="distinct deep-cursor queries (ours)")
    parser.add_argument("--repeats", type=int, default=2, help="repeated passes over the queries (ours)")
    parser.add_argument("--baseline-queries", type=int, default=60)
    parser.add_argument("--baseline-deep-queries", type=int, default=10)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    parser.add_argument("--changes", type=int, default=200, help="changed postings for the catch-up figure")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the step timing")
    parser.add_argument("--skip-legacy", action="store_true")
    parser.add_argument("--skip-fts5", action="store_true")
    parser.add_argument("--skip-baseline-builder", action="store_true")
    parser.add_argument(
        "--download-max", type=int, default=200_000, help="largest size with the throttled download"
    )
    parser.add_argument("--download-repeats", type=int, default=3)
    parser.add_argument(
        "--baseline-memory-mb",
        type=int,
        default=10_240,
        help="address-space limit of the baseline builder (Lambda's largest: 10,240 MB)",
    )
    parser.add_argument("--work", default=None, help="parent directory of the scratch directory")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    if args.quick:
        args.queries, args.deep_queries, args.repeats = 40, 6, 1
        args.baseline_queries, args.baseline_deep_queries = 20, 4
    started = time.perf_counter()
    results = run(args)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    say(f"\ndone in {results['wall_seconds']:.0f}s")
    print(json.dumps(results, separators=(",", ":"), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
