"""What the board benchmark's processes share: environment, measurement helpers and the warm-mix driver.

Standard library only at import time, so a fresh benchmark process's import baseline is not inflated.
Every engine (ours, the legacy in-memory index, SQLite FTS5) is driven through the same `Engine` protocol
and the same query mix, and timed the same way: one request = the whole in-handler work up to
`Response.to_dict()` (what Chalice serialises for the Lambda proxy answer); the JSON parse of the body
that follows (to read totals and cursors) is not timed.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

PROJECT_DIR = Path(__file__).resolve().parent.parent

BENCH_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "APP_STAGE": "bench",
    "BOARD_TABLE": "job-board-bench",
    "BOARD_SNAPSHOT_BUCKET": "job-board-bench-snapshots",
    "PUBLIC_BASE_URL": "https://board.example",
    "POWERTOOLS_SERVICE_NAME": "job-board",
    "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

Params = dict[str, list[str]]
DEEP_PAGE = 20  # the deep-cursor kinds time this page (the cursor is obtained by walking pages 1-19)


def say(text: str) -> None:
    print(text, flush=True)


def child(module: str, name: str, work: Path, *argv: str, allow_failure: bool = False) -> dict[str, Any]:
    """Runs one benchmark process (one at a time) and returns its JSON result (with `allow_failure`, a
    failed process's exit code and last error line instead of stopping the benchmark)."""
    out = work / f"{name}.json"
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", module, *argv, "--out", str(out)],
        cwd=PROJECT_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0 and allow_failure:
        lines = [line for line in process.stderr.splitlines() if line.strip()]
        return {
            "failed": True,
            "exit_code": process.returncode,
            "error": lines[-1][-300:] if lines else "(no message: killed)",
            "process_wall_seconds": round(time.perf_counter() - started, 1),
        }
    if process.returncode != 0:
        say(process.stdout[-3000:])
        say(process.stderr[-6000:])
        raise SystemExit(f"{module} {name} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["process_wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def bench_environment() -> None:
    """The benchmark's settings; endpoint overrides removed so nothing can reach a real service."""
    from chalicelib.settings import get_settings, local_names_environment

    os.environ.update({**local_names_environment(), **BENCH_ENV})
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]
    get_settings.cache_clear()  # settings read before came from another environment (a test process's)


# ---- measurement helpers ---------------------------------------------------------------------------
def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0}
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.50) * 1000, 3),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "max_ms": round(max(samples) * 1000, 3),
    }


def peak_rss_mb() -> float:
    """The process's peak resident set so far: VmHWM of /proc/self/status.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: on Linux that carries the parent's peak over fork + exec (a
    child of an 800 MB parent reports 810 MB), so a benchmark child would report the parent's memory.
    VmHWM is the high-water mark of the process's own address space since exec.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return ru_maxrss_mb()


def ru_maxrss_mb() -> float:
    """`getrusage(RUSAGE_SELF).ru_maxrss` (KiB on Linux): includes the parent's peak, see peak_rss_mb."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, this thread's CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = call()
    return time.perf_counter() - wall, time.thread_time() - cpu, result


class Monotonic:
    """time.monotonic plus an offset a benchmark moves forward to make a catch-up or a check due."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.write_text(json.dumps(result, separators=(",", ":")))


# ---- the query mix ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Query:
    params: Params
    page: int = 1  # > 1: time this page, reached by following next_cursor from page 1 (untimed)

    def to_json(self) -> dict[str, Any]:
        return {"params": self.params, "page": self.page}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Query:
        return cls({str(k): [str(v) for v in vs] for k, vs in data["params"].items()}, int(data["page"]))


Mix = dict[str, list[Query]]


def save_mix(path: Path, mix: Mix, probes: Sequence[str]) -> None:
    data: dict[str, Any] = {
        "kinds": {kind: [q.to_json() for q in queries] for kind, queries in mix.items()},
        "probes": list(probes),
    }
    path.write_text(json.dumps(data))


def load_mix(path: Path) -> tuple[Mix, list[str]]:
    data = json.loads(path.read_text())
    mix = {kind: [Query.from_json(q) for q in queries] for kind, queries in data["kinds"].items()}
    return mix, [str(p) for p in data["probes"]]


# ---- the driver ---------------------------------------------------------------------------------------
class Engine(Protocol):
    def request(self, params: Params) -> dict[str, Any]:
        """The whole in-handler GET /jobs: params -> the Lambda proxy answer (`Response.to_dict()`)."""
        ...

    def reset_query_caches(self) -> None:
        """Forget per-query caches (facet counts), so the next request is a first-time query."""
        ...


def body_of(answer: dict[str, Any]) -> dict[str, Any]:
    if answer["statusCode"] != 200:
        raise RuntimeError(f"GET /jobs answered {answer['statusCode']}: {answer['body'][:300]}")
    body: dict[str, Any] = json.loads(answer["body"])
    return body


def resolve(engine: Engine, query: Query) -> Params | None:
    """The params that request `query.page` (following cursors), or None when there are fewer pages."""
    params = dict(query.params)
    for _ in range(query.page - 1):
        body = body_of(engine.request(params))
        if not body["next_cursor"]:
            return None
        params = {**query.params, "cursor": [body["next_cursor"]]}
    return params


@dataclass(slots=True)
class KindSamples:
    """One kind's timings: the first pass (one sample per query, caches reset before each) and each
    repeated pass (same queries, same order, after an untimed pass that fills the caches again), plus
    what the first pass answered."""

    queries: int = 0
    skipped: int = 0  # deep-cursor queries with fewer than DEEP_PAGE pages
    first_wall: list[float] = field(default_factory=list)
    first_cpu: list[float] = field(default_factory=list)
    repeated_wall: list[list[float]] = field(default_factory=list)
    repeated_cpu: list[list[float]] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "skipped": self.skipped,
            "first_wall": self.first_wall,
            "first_cpu": self.first_cpu,
            "repeated_wall": self.repeated_wall,
            "repeated_cpu": self.repeated_cpu,
            "totals": self.totals,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KindSamples:
        return cls(**data)

    def head(self, count: int) -> KindSamples:
        """The same figures over the first `count` queries only (to compare with a shorter run)."""
        return KindSamples(
            queries=min(self.queries, count),
            skipped=self.skipped,
            first_wall=self.first_wall[:count],
            first_cpu=self.first_cpu[:count],
            repeated_wall=[samples[:count] for samples in self.repeated_wall],
            repeated_cpu=[samples[:count] for samples in self.repeated_cpu],
            totals=self.totals[:count],
        )

    def summary(self) -> dict[str, Any]:
        repeated = [s for samples in self.repeated_wall for s in samples]
        repeated_cpu = [s for samples in self.repeated_cpu for s in samples]
        return {
            "queries": self.queries,
            "skipped": self.skipped,
            "first": summary_ms(self.first_wall),
            "first_cpu": summary_ms(self.first_cpu),
            "repeated": summary_ms(repeated),
            "repeated_cpu": summary_ms(repeated_cpu),
            "total_mean": round(statistics.fmean(self.totals), 1) if self.totals else 0.0,
            "zero_result_queries": sum(1 for total in self.totals if total == 0),
        }


def measure_mix(
    engine: Engine, mix: Mix, *, queries_per_kind: int, deep_queries: int, repeats: int, warmup: int = 3
) -> dict[str, KindSamples]:
    """Times every kind of the mix on `engine`: its first `queries_per_kind` queries (`deep_queries` of
    the deep-cursor kinds, skipping those with fewer pages)."""
    for queries in mix.values():  # warm the code paths (and lazily loaded index structures) first
        for query in queries[:warmup]:
            if query.page == 1:
                engine.request(query.params)
    results: dict[str, KindSamples] = {}
    for kind, queries in mix.items():
        samples = KindSamples()
        resolved: list[Params] = []
        wanted = deep_queries if any(query.page > 1 for query in queries) else queries_per_kind
        for query in queries:
            if len(resolved) >= wanted:
                break
            params = resolve(engine, query)
            if params is None:
                samples.skipped += 1
                continue
            resolved.append(params)
        samples.queries = len(resolved)
        for params in resolved:
            engine.reset_query_caches()

            def first(params: Params = params) -> dict[str, Any]:
                return engine.request(params)

            wall, cpu, answer = timed(first)
            samples.first_wall.append(wall)
            samples.first_cpu.append(cpu)
            samples.totals.append(int(body_of(answer)["total"]))
        for params in resolved:  # untimed: put every query's facet counts in the cache again
            body_of(engine.request(params))
        for _ in range(repeats):
            walls: list[float] = []
            cpus: list[float] = []
            for params in resolved:

                def again(params: Params = params) -> dict[str, Any]:
                    return engine.request(params)

                wall, cpu, answer = timed(again)
                body_of(answer)
                walls.append(wall)
                cpus.append(cpu)
            samples.repeated_wall.append(walls)
            samples.repeated_cpu.append(cpus)
        results[kind] = samples
    return results


def probe_totals(engine: Engine, probes: Sequence[str]) -> dict[str, int]:
    """The total each probe query finds (a quick look at matching quality, untimed)."""
    return {probe: int(body_of(engine.request({"q": [probe]}))["total"]) for probe in probes}


# ---- postings as stored items ------------------------------------------------------------------------
def read_items(path: Path, count: int) -> list[dict[str, Any]]:
    """The first `count` stored posting items (one JSON object a line, as `posting_to_item` made them)."""
    import orjson

    items: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for line in handle:
            if len(items) >= count:
                break
            items.append(orjson.loads(line))
    return items


class DecodeTimer:
    """Accumulates the time spent decoding items into postings (`PostingRecord.load`)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def records(self, items: Sequence[dict[str, Any]]) -> list[Any]:
        """PostingRecords of the items, as the DynamoDB repository makes them (decoded on `load`)."""
        from chalicelib.aws.posting_items import item_to_posting
        from chalicelib.models.posting import Posting
        from chalicelib.services.board.records import PostingRecord

        def loader(item: dict[str, Any]) -> Callable[[], Posting]:
            def load() -> Posting:
                started = time.perf_counter()
                try:
                    return item_to_posting(item)
                finally:
                    self.seconds += time.perf_counter() - started
                    self.calls += 1

            return load

        return [
            PostingRecord(
                job_id=str(item["job_id"]),
                status=str(item.get("status", "live")),
                changed_key=str(item["GSI2SK"]),
                content_hash=str(item["content_hash"]),
                load=loader(item),
            )
            for item in items
        ]
