"""Where a GET /jobs request of our board spends its time (`bench.board_cold --profile`).

Wraps, on the live objects of one process, the handler's service call, the engine's query steps and the
tantivy searcher's calls with timers, then runs a kind's queries first-time (facet cache reset) and
records per request the inclusive time of each step:

- `request`: the whole in-handler request (as timed in the warm figures);
- `handler_rest` = request - list_jobs: parsing/validating the params, the Response, `to_dict` (JSON);
- `service_rest` = list_jobs - search: plan, cursor check and signing, ETag, summaries with their URLs;
- `search`: the engine's search, made of `text_query` (building the query, of which `prefix_terms`
  and `typo_terms` expand words against the term dictionary), matching (`compounds`, and the roaring
  bitmaps' `bitmaps.terms` / `bitmaps.filters` unions), `rank` (`_by_relevance` or `_by_newest`, of which
  `hits` loads and decodes the stored records of the page, and `bitmaps.newest`) and `facets` (of which
  `bitmaps.facet_counts`, or `aggregate` for an engine that counts with tantivy aggregations);
- `tantivy.*`: time inside the tantivy calls (search, aggregate, doc, fast_field_values, doc_freq,
  terms_with_prefix), whichever step made them.

The engine's private method names are looked up, not assumed: a step that no longer exists is reported
as missing rather than failing the benchmark.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from bench.board_common import Engine, Params, body_of, percentile

ENGINE_STEPS = {
    "search": "search",
    "_text_query": "text_query",
    "_prefix_terms": "prefix_terms",
    "_typo_terms": "typo_terms",
    "_by_relevance": "rank",
    "_by_newest": "rank",
    "_hit": "hits",
    "_compounds": "compounds",
    "_facets": "facets",
    "_aggregate": "aggregate",
    "version": "catch_up.version_lookup",
    "upsert": "catch_up.upsert",
    "remove": "catch_up.remove",
    "commit": "catch_up.commit",
}
BITMAP_STEPS = {
    "any_term": "bitmaps.terms",
    "any_filter": "bitmaps.filters",
    "newest": "bitmaps.newest",
    "facet_counts": "bitmaps.facet_counts",
}
SEARCHER_CALLS = ("search", "aggregate", "doc", "fast_field_values", "doc_freq", "terms_with_prefix")
ORDER = (
    "request",
    "handler_rest",
    "service_rest",
    "search",
    "text_query",
    "prefix_terms",
    "typo_terms",
    "compounds",
    "bitmaps.terms",
    "bitmaps.filters",
    "rank",
    "hits",
    "bitmaps.newest",
    "facets",
    "bitmaps.facet_counts",
    "aggregate",
    *(f"tantivy.{name}" for name in SEARCHER_CALLS),
)


class Profiler:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.missing: list[str] = []
        self.slowest_params: Params = {}  # of the kind profiled last

    def reset(self) -> None:
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)

    def timer(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        return timed

    def wrap(self, target: Any, name: str, label: str) -> None:
        original = getattr(target, name, None)
        if original is None:
            self.missing.append(f"{type(target).__name__}.{name}")
            return
        setattr(target, name, self.timer(label, original))


class SearcherProxy:
    """Stands in for the engine's tantivy Searcher, timing the calls the engine makes."""

    def __init__(self, searcher: Any, profiler: Profiler) -> None:
        self._searcher = searcher
        self._timed = {
            name: profiler.timer(f"tantivy.{name}", getattr(searcher, name))
            for name in SEARCHER_CALLS
            if hasattr(searcher, name)
        }

    def __getattr__(self, name: str) -> Any:
        timed = self._timed.get(name)
        return timed if timed is not None else getattr(self._searcher, name)


def instrument(service: Any, profiler: Profiler) -> None:
    """Wraps the service's `list_jobs`, the engine's steps and its searcher (on these instances only)."""
    from chalicelib.services.board import service as service_module

    profiler.wrap(service, "list_jobs", "list_jobs")
    engine = service.board()
    for name, label in ENGINE_STEPS.items():
        profiler.wrap(engine, name, label)
    bitmaps = getattr(engine, "_bitmaps", None)
    if bitmaps is not None:
        for name, label in BITMAP_STEPS.items():
            profiler.wrap(bitmaps, name, label)
    if hasattr(engine, "_searcher"):
        engine._searcher = SearcherProxy(engine._searcher, profiler)
    else:
        profiler.missing.append("BoardEngine._searcher")
    profiler.wrap(service_module, "board_document", "catch_up.board_document")


def profile_kind(engine: Engine, profiler: Profiler, queries: Sequence[Params]) -> list[dict[str, float]]:
    """Per request (first time: caches reset before each), the seconds of each step."""
    rows: list[dict[str, float]] = []
    for params in queries:
        engine.reset_query_caches()
        profiler.reset()
        started = time.perf_counter()
        answer = engine.request(params)
        total = time.perf_counter() - started
        body_of(answer)
        seconds = dict(profiler.seconds)
        row = {label: value for label, value in seconds.items() if label != "list_jobs"}
        row["request"] = total
        row["handler_rest"] = total - seconds.get("list_jobs", 0.0)
        row["service_rest"] = seconds.get("list_jobs", 0.0) - seconds.get("search", 0.0)
        row["aggregate_calls"] = profiler.calls.get("aggregate", 0)
        row["search_calls"] = profiler.calls.get("tantivy.search", 0)
        rows.append(row)
        slowest = max(rows, key=lambda row: row["request"])
        if slowest is row:
            shown = {name: values for name, values in params.items() if name != "cursor"}
            profiler.slowest_params = {**shown, **({"page": ["deep"]} if "cursor" in params else {})}
    return rows


def summarise(rows: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per step: mean and p99 in ms over the requests (0 for requests that did not run the step)."""
    labels = [label for label in ORDER if any(label in row for row in rows)]
    summary: dict[str, dict[str, float]] = {}
    for label in labels:
        values = [row.get(label, 0.0) for row in rows]
        summary[label] = {
            "mean_ms": round(sum(values) / len(values) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        }
    for name in ("aggregate_calls", "search_calls"):
        calls = [row.get(name, 0.0) for row in rows]
        summary[name] = {"mean": round(sum(calls) / len(calls), 2), "max": max(calls)}
    # The slowest request's own breakdown: what its p99 is made of.
    slowest = max(rows, key=lambda row: row["request"])
    summary["slowest"] = {label: round(slowest.get(label, 0.0) * 1000, 3) for label in labels}
    return summary
