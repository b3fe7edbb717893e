"""One fresh API process of OUR board, for `bench.board`: cold open + first GET /jobs, warm mix, catch-up.

    python -m bench.board_cold --snapshot DIR --manifest FILE --work DIR --mix FILE --changes FILE --out FILE

The snapshot is already on local disk (its download from S3 is timed by `bench.board`); here the store's
`download` hard-links the files into the service's directory, timed and reported but excluded from the
cold budget. The process first imports `app` as a Lambda's init phase does (the import baseline: Python,
boto3, Chalice, Powertools, pydantic, the routes), then the cold first request is timed from the import
of the board's modules (tantivy, the service, the query model) and the service's construction through
`list_jobs_response({}, None).to_dict()`: download, open, catch-up (the feed is a fake with no changes:
in production add one DynamoDB Query per shard, in parallel, and the pointer's GetItem) and the request.
Then the warm mix (refresh_seconds is huge, so no request refreshes); with `--profile`, the same queries
again with each step timed (`bench.board_profile`); then one catch-up that applies the changes file
(updates and closures), timed in process. Results go to `--out` as one JSON object.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from bench.board_common import (  # noqa: E402
    DecodeTimer,
    Monotonic,
    Params,
    bench_environment,
    current_rss_mb,
    load_mix,
    measure_mix,
    peak_rss_mb,
    probe_totals,
    read_items,
    resolve,
    ru_maxrss_mb,
    write_result,
)

if TYPE_CHECKING:
    from chalicelib.services.board.records import ApplyFlags, ChangePage, PostingRecord
    from chalicelib.services.board.service import BoardService
    from chalicelib.services.board.snapshot import SnapshotFile, SnapshotManifest


class LocalSnapshotStore:
    """SnapshotStore over a snapshot already downloaded to local disk: `download` hard-links its files."""

    def __init__(self, manifest: SnapshotManifest, directory: Path) -> None:
        self._manifest = manifest
        self._directory = directory

    def current(self) -> SnapshotManifest | None:
        return self._manifest

    def download(
        self, manifest: SnapshotManifest, directory: Path, files: Sequence[SnapshotFile] | None = None
    ) -> None:
        for file in manifest.files if files is None else files:
            source, target = self._directory / file.name, directory / file.name
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)

    def upload(self, manifest: SnapshotManifest, packed: Path) -> None:
        raise NotImplementedError("the benchmark's API process never uploads")

    def publish(self, manifest: SnapshotManifest) -> bool:
        raise NotImplementedError("the benchmark's API process never publishes")


class FakeFeed:
    """BoardSource with an empty change feed, unless `pending` holds records (each returned once)."""

    def __init__(self, shards: int) -> None:
        self.shards = shards
        self.pending: dict[int, list[PostingRecord]] = {}

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        from chalicelib.services.board.records import ChangePage

        return ChangePage(records=self.pending.pop(shard, []), resume=None)

    def posting(self, job_id: str) -> PostingRecord | None:
        return None

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        from chalicelib.services.board.records import ApplyFlags

        return ApplyFlags()


class OurEngine:
    """The benchmark's Engine: the real GET /jobs handler over the service."""

    def __init__(self, service: BoardService) -> None:
        from chalicelib.api.board import list_jobs_response

        self._service = service
        self._handler = list_jobs_response
        self.cache_reset_supported = True

    def request(self, params: Params) -> dict[str, Any]:
        answer: dict[str, Any] = self._handler(params, None).to_dict([])
        return answer

    def reset_query_caches(self) -> None:
        # The engine caches totals and facet counts per query (and board generation); forgetting them
        # makes the next request a first-time query. Private: if it moves, say so rather than fail.
        cache = getattr(self._service.board(), "_facet_cache", None)
        if cache is None:
            self.cache_reset_supported = False
            return
        cache.clear()


def suggest_and_similar(mix: Any, *, repeats: int) -> dict[str, Any]:
    """`GET /jobs/suggest` (the prefix kind's texts, and three-letter starts of places and companies)
    and `GET /jobs/{job_id}/similar` (the newest postings), through their handlers: wall time of each
    first request, then of `repeats` passes again."""
    from chalice import Response

    from bench.board_common import summary_ms, timed
    from bench.board_data import CITIES, companies
    from chalicelib.api.board import list_jobs_response, similar_jobs_response, suggest_jobs_response

    texts = [str(query.params["q"][0]) for query in mix["prefix"]]
    texts += [city[:3] for city in CITIES[:: max(1, len(CITIES) // 10)]]
    texts += [company[:4] for company in companies()[:: max(1, len(companies()) // 10)]]
    newest = json.loads(list_jobs_response({"limit": ["50"]}, None).to_dict([])["body"])["data"]
    job_ids = [job["job_id"] for job in newest]

    def suggest(text: str) -> Callable[[], Response]:
        return lambda: suggest_jobs_response({"q": [text]}, None)

    def similar(job_id: str) -> Callable[[], Response]:
        return lambda: similar_jobs_response(job_id, {}, None)

    calls = {"suggest": [suggest(text) for text in texts], "similar": [similar(job) for job in job_ids]}
    figures: dict[str, Any] = {}
    for name, requests in calls.items():
        first: list[float] = []
        first_cpu: list[float] = []
        again: list[float] = []
        for request in requests:
            wall, cpu, response = timed(request)
            assert response.status_code == 200, response.body
            first.append(wall)
            first_cpu.append(cpu)
        for _ in range(repeats):
            for request in requests:
                again.append(timed(request)[0])
        figures[name] = {
            "requests": len(requests),
            "first": summary_ms(first),
            "first_cpu": summary_ms(first_cpu),
            "repeated": summary_ms(again),
        }
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    bench_environment()
    result: dict[str, Any] = {}

    # The Lambda init phase: importing the app (not part of the cold budget; reported as the baseline).
    started = time.perf_counter()
    import boto3  # noqa: F401

    import app  # noqa: F401
    from chalicelib import deps
    from chalicelib.api.board import list_jobs_response
    from chalicelib.aws.posting_items import board_shard
    from chalicelib.aws.table_schema import BOARD_SHARDS
    from chalicelib.settings import get_settings

    settings = get_settings()
    result["init_import_app_seconds"] = round(time.perf_counter() - started, 4)
    result["process_start_to_init_done_seconds"] = round(time.perf_counter() - PROCESS_STARTED, 4)
    result["import_baseline_rss_mb"] = peak_rss_mb()
    manifest_data = json.loads(args.manifest.read_text())
    feed = FakeFeed(BOARD_SHARDS)
    monotonic = Monotonic()

    # ---- the cold first request -------------------------------------------------------------------
    began = time.perf_counter()
    import tantivy  # noqa: F401  (BoardEngine imports it on open; counted here, not in "open")

    from chalicelib.services.board.query import BoardQuery  # noqa: F401  (parse_query imports it)
    from chalicelib.services.board.service import BoardService
    from chalicelib.services.board.snapshot import SnapshotManifest

    imported = time.perf_counter()
    manifest = SnapshotManifest.from_dict(manifest_data)
    service = BoardService(
        feed,
        LocalSnapshotStore(manifest, args.snapshot),
        local_directory=args.work,
        public_base_url=settings.public_base_url,
        board_name=settings.board_name,
        cursor_key=f"{settings.table_name}\n{settings.public_base_url}".encode(),
        embloy_providers=settings.embloy_supported_providers,
        refresh_seconds=1e9,
        snapshot_check_seconds=1e12,
        facet_limit=settings.board_facet_limit,
        monotonic=monotonic,
    )
    setattr(deps, "get_board_service", lambda: service)  # noqa: B010  (what list_jobs_response calls)
    constructed = time.perf_counter()
    answer = list_jobs_response({}, None).to_dict([])
    answered = time.perf_counter()
    assert answer["statusCode"] == 200, answer
    extra = dict(service.stats.extra)
    download = extra.get("download_seconds", 0.0)
    open_ = extra.get("open_seconds", 0.0)
    catch_up = extra.get("catch_up_seconds", 0.0)
    request = (answered - constructed) - download - open_ - catch_up
    result["cold"] = {
        "imports_seconds": round(imported - began, 4),
        "construct_seconds": round(constructed - imported, 4),
        "download_seconds_excluded": round(download, 4),
        "open_seconds": round(open_, 4),
        "catch_up_seconds": round(catch_up, 4),
        "first_request_seconds": round(request, 4),
        "cold_open_first_request_seconds": round((answered - began) - download, 4),
        "process_start_to_first_answer_seconds": round(answered - PROCESS_STARTED, 4),
        "postings": json.loads(answer["body"])["total"],
        "first_answer_bytes": len(answer["body"]),
    }
    result["peak_rss_mb_first_request"] = peak_rss_mb()
    result["rss_mb_first_request"] = current_rss_mb()

    # ---- warm ---------------------------------------------------------------------------------------
    engine = OurEngine(service)
    mix, probes = load_mix(args.mix)
    samples = measure_mix(
        engine, mix, queries_per_kind=args.queries, deep_queries=args.deep_queries, repeats=args.repeats
    )
    result["warm"] = {kind: kind_samples.to_json() for kind, kind_samples in samples.items()}
    result["facet_cache_reset_supported"] = engine.cache_reset_supported
    result["peak_rss_mb_warm"] = peak_rss_mb()
    result["rss_mb_warm"] = current_rss_mb()
    result["probes"] = probe_totals(engine, probes)
    result["suggest_similar"] = suggest_and_similar(mix, repeats=args.repeats)

    # ---- where the time goes (timers wrapped around the steps; after the clean warm figures) -----------
    profiler = None
    if args.profile:
        from bench.board_profile import Profiler, instrument, profile_kind, summarise

        profiler = Profiler()
        instrument(service, profiler)
        profile: dict[str, Any] = {}
        for kind, queries in mix.items():
            wanted = args.deep_queries if kind.startswith("deep_") else args.queries
            resolved: list[Params] = []
            for query in queries:
                params = resolve(engine, query) if len(resolved) < wanted else None
                if params is not None:
                    resolved.append(params)
            profile[kind] = summarise(profile_kind(engine, profiler, resolved))
            profile[kind]["slowest_params"] = profiler.slowest_params
        result["profile"] = profile
        result["profile_missing"] = profiler.missing
        profiler.reset()

    # ---- one catch-up applying a batch of changes -----------------------------------------------------
    timer = DecodeTimer()
    changes = timer.records(read_items(args.changes, 10**9))
    for record in changes:
        feed.pending.setdefault(board_shard(record.job_id), []).append(record)
    applied = service.stats.applied_changes
    monotonic.offset += 2e9  # the next request finds its last catch-up older than refresh_seconds
    started = time.perf_counter()
    answer = engine.request({})
    # The catch-up runs beside the request, which waits for at most one batch of it: the request's own
    # time, then the time until the catch-up is done too.
    request_wall = time.perf_counter() - started
    assert service.settle(timeout=600)
    wall = time.perf_counter() - started
    assert answer["statusCode"] == 200, answer
    after_total = json.loads(engine.request({})["body"])["total"]
    started = time.perf_counter()
    engine.request({"q": ["python"]})
    next_request = time.perf_counter() - started
    result["catch_up"] = {
        "changes": len(changes),
        "applied": service.stats.applied_changes - applied,
        "catch_up_seconds": round(service.stats.extra.get("catch_up_seconds", 0.0), 4),
        "decode_seconds": round(timer.seconds, 4),
        "request_with_catch_up_seconds": round(request_wall, 4),
        "catch_up_done_seconds": round(wall, 4),
        "next_request_seconds": round(next_request, 4),
        "total_after": after_total,
    }
    if profiler is not None:
        result["catch_up"]["profile_ms"] = {
            label: round(seconds * 1000, 2)
            for label, seconds in profiler.seconds.items()
            if label.startswith("catch_up.")
        }
        result["catch_up"]["profile_calls"] = {
            label: calls for label, calls in profiler.calls.items() if label.startswith("catch_up.")
        }
    result["peak_rss_mb_after_catch_up"] = peak_rss_mb()
    result["ru_maxrss_mb_incl_parent"] = ru_maxrss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--snapshot", type=Path, required=True, help="the downloaded snapshot's files")
    parser.add_argument("--manifest", type=Path, required=True, help="its manifest (JSON)")
    parser.add_argument("--work", type=Path, required=True, help="the service's local directory")
    parser.add_argument("--mix", type=Path, required=True)
    parser.add_argument("--changes", type=Path, required=True, help="changed items (JSON lines)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--deep-queries", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="also time each step (bench.board_profile)")
    args = parser.parse_args()
    write_result(args.out, run(args))


if __name__ == "__main__":
    main()
