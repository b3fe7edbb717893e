"""One fresh process of a baseline, for `bench.board` (results to `--out` as one JSON object).

    python -m bench.baselines.run legacy     --items F --count N --mix F --changes F --out F
    python -m bench.baselines.run fts5-build --items F --count N --db F --out F
    python -m bench.baselines.run fts5       --db F --mix F --out F

- `legacy`: the previous implementation's cold load (`bench.baselines.legacy_index`) from the same stored
  items: decode + tokenise, build the bitset index, gc.freeze, as every cold API process did. The items
  are read from a local file first, standing in for the DynamoDB fetch (not timed: with real DynamoDB
  that fetch came on top); the process holds them all while it decodes, as the old service did. Then the
  first request, the warm mix, and applying the same batch of changes.
- `fts5-build`: builds the SQLite FTS5 database from the same items (`bench.baselines.fts5`).
- `fts5`: a fresh process opening that database: first request, warm mix.
Every process first imports `app`, as ours does, so the import baselines match.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from bench.board_common import (  # noqa: E402
    DecodeTimer,
    Params,
    bench_environment,
    current_rss_mb,
    load_mix,
    measure_mix,
    peak_rss_mb,
    probe_totals,
    read_items,
    ru_maxrss_mb,
    write_result,
)
from bench.board_queries import FILTER_KINDS  # noqa: E402

if TYPE_CHECKING:
    from bench.baselines.fts5 import FtsBoard
    from bench.baselines.legacy_index import LegacyBoard


class BaselineEngine:
    """GET /jobs the way `list_jobs_response` does it (parse, validate, serve, `http_response`), over a
    baseline's `list_jobs`."""

    def __init__(self, board: LegacyBoard | FtsBoard) -> None:
        from chalicelib.api.board import http_response, parse_query

        self._board = board
        self._parse = parse_query
        self._respond = http_response

    def request(self, params: Params) -> dict[str, Any]:
        answer: dict[str, Any] = self._respond(self._board.list_jobs(self._parse(params))).to_dict([])
        return answer

    def reset_query_caches(self) -> None:
        self._board.reset_query_caches()


def _init(result: dict[str, Any]) -> Any:
    """Import the app like a Lambda init phase; returns the settings."""
    bench_environment()
    started = time.perf_counter()
    import boto3  # noqa: F401

    import app  # noqa: F401
    from chalicelib.settings import get_settings

    result["init_import_app_seconds"] = round(time.perf_counter() - started, 4)
    result["import_baseline_rss_mb"] = peak_rss_mb()
    return get_settings()


def _cursor_key(settings: Any) -> bytes:
    return f"{settings.table_name}\n{settings.public_base_url}".encode()


def _first_and_warm(engine: BaselineEngine, args: argparse.Namespace, result: dict[str, Any]) -> None:
    started = time.perf_counter()
    answer = engine.request({})
    result["first_request_seconds"] = round(time.perf_counter() - started, 4)
    assert answer["statusCode"] == 200, answer
    result["postings"] = json.loads(answer["body"])["total"]
    result["peak_rss_mb_first_request"] = peak_rss_mb()
    result["rss_mb_first_request"] = current_rss_mb()
    mix, probes = load_mix(args.mix)
    mix = {kind: queries for kind, queries in mix.items() if kind not in FILTER_KINDS}  # not theirs
    samples = measure_mix(
        engine, mix, queries_per_kind=args.queries, deep_queries=args.deep_queries, repeats=args.repeats
    )
    result["warm"] = {kind: kind_samples.to_json() for kind, kind_samples in samples.items()}
    result["peak_rss_mb_warm"] = peak_rss_mb()
    result["rss_mb_warm"] = current_rss_mb()
    result["probes"] = probe_totals(engine, probes)
    result["ru_maxrss_mb_incl_parent"] = ru_maxrss_mb()


def run_legacy(args: argparse.Namespace) -> dict[str, Any]:
    from bench.baselines.legacy_index import LegacyBoard

    result: dict[str, Any] = {}
    settings = _init(result)
    started = time.perf_counter()
    items = read_items(args.items, args.count)
    result["read_items_seconds_not_timed"] = round(time.perf_counter() - started, 3)
    result["rss_mb_items_held"] = current_rss_mb()
    timer = DecodeTimer()
    records = timer.records(items)
    board = LegacyBoard(public_base_url=settings.public_base_url, cursor_key=_cursor_key(settings))
    started = time.perf_counter()
    board.cold_load(records)
    result["cold_load_seconds"] = round(time.perf_counter() - started, 3)
    result["cold_load_parts"] = {
        "decode_items_seconds": round(timer.seconds, 3),
        "tokenise_seconds": round(board.timings["decode_tokenise_seconds"] - timer.seconds, 3),
        "index_seconds": round(board.timings["index_seconds"], 3),
        "gc_freeze_seconds": round(board.timings["gc_seconds"], 3),
    }
    del items, records
    result["peak_rss_mb_cold_load"] = peak_rss_mb()
    result["rss_mb_after_cold_load"] = current_rss_mb()
    engine = BaselineEngine(board)
    _first_and_warm(engine, args, result)

    timer = DecodeTimer()
    changes = timer.records(read_items(args.changes, 10**9))
    started = time.perf_counter()
    applied = sum(1 for record in changes if board.apply(record))
    result["catch_up"] = {
        "changes": len(changes),
        "applied": applied,
        "apply_seconds": round(time.perf_counter() - started, 4),
        "decode_seconds": round(timer.seconds, 4),
    }
    return result


def run_fts5_build(args: argparse.Namespace) -> dict[str, Any]:
    from bench.baselines.fts5 import build

    result: dict[str, Any] = {}
    _init(result)
    items = read_items(args.items, args.count)
    timer = DecodeTimer()
    records = timer.records(items)
    started = time.perf_counter()
    counts = build(args.db, records)
    result["build_seconds"] = round(time.perf_counter() - started, 3)
    result["decode_items_seconds"] = round(timer.seconds, 3)
    result["postings"] = counts["postings"]
    result["db_bytes"] = args.db.stat().st_size
    result["peak_rss_mb_build"] = peak_rss_mb()
    return result


def run_fts5(args: argparse.Namespace) -> dict[str, Any]:
    from bench.baselines.fts5 import FtsBoard

    result: dict[str, Any] = {}
    settings = _init(result)
    started = time.perf_counter()
    board = FtsBoard(args.db, public_base_url=settings.public_base_url, cursor_key=_cursor_key(settings))
    result["open_seconds"] = round(time.perf_counter() - started, 4)
    _first_and_warm(BaselineEngine(board), args, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("legacy", "fts5-build", "fts5"))
    parser.add_argument("--items", type=Path)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--mix", type=Path)
    parser.add_argument("--changes", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--deep-queries", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    runs = {"legacy": run_legacy, "fts5-build": run_fts5_build, "fts5": run_fts5}
    write_result(args.out, runs[args.mode](args))


if __name__ == "__main__":
    main()
