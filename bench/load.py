"""Load run: concurrent board reads while a sync writes. `python -m bench.load` (or `make bench-load`).

Everything local: moto (its own server process by default, `--aws inprocess` for `mock_aws`) holds the
table, the StackOne sandbox (in-process, 127.0.0.1) holds
`--accounts` x `--postings` generated postings. After one full sync, `--readers` threads each act as one
warm Lambda container with its own BoardService (built exactly as `deps.get_board_service` builds it)
and run the `GET /jobs` / `GET /jobs/{job_id}` handler path (`list_jobs_response`, `get_job`): search,
filters, facets, paging, details. Meanwhile one writer thread keeps editing, closing, reopening and adding
postings in the sandbox and syncing the accounts (the production SyncService and DynamoDB repositories),
so the readers' change-feed refreshes pick up real writes.

Reports requests, throughput, p50/p99 latency, errors (any exception or a status other than 200/304,
or 404 for a job that was not closed), and one final JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

QUERIES: tuple[dict[str, list[str]], ...] = (
    {},
    {"q": ["engineer"]},
    {"q": ["senior remote"]},
    {"remote": ["true"]},
    {"employment_type": ["full_time"]},
    {"q": ["manager"], "remote": ["false"]},
    {"provider": ["greenhouse", "lever"]},
    {"limit": ["100"]},
    {"sort": ["newest"], "limit": ["50"]},
)


# DynamoDB requests made by the current thread (a botocore hook counts them), to tell in-memory answers
# from the ones that ran a change-feed refresh query.
_dynamodb_calls = threading.local()


def _count_dynamodb_call(**_: Any) -> None:
    _dynamodb_calls.count = getattr(_dynamodb_calls, "count", 0) + 1


@dataclass
class ReaderStats:
    latencies_ms: list[float] = field(default_factory=list)
    refresh_latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_found: int = 0
    pages_followed: int = 0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def reader(stop: threading.Event, warm: threading.Barrier, stats: ReaderStats, seed: int) -> None:
    """One warm container: its own BoardService, requests back to back until told to stop."""
    from chalicelib import deps
    from chalicelib.api.board import http_response
    from chalicelib.errors import NotFoundError

    service = deps.get_board_service.__wrapped__()  # a fresh instance, configured like production
    rng = random.Random(seed)
    job_ids: list[str] = []
    _list(service, {})  # the cold load is not part of the measurement: containers serve warm
    warm.wait()
    while not stop.is_set():
        started = time.perf_counter()
        calls_before = getattr(_dynamodb_calls, "count", 0)
        try:
            if job_ids and rng.random() < 0.3:
                try:
                    response = http_response(service.get_job(rng.choice(job_ids)))
                except NotFoundError:
                    stats.not_found += 1  # closed by the writer since this reader listed it
                    continue
            else:
                params = dict(rng.choice(QUERIES))
                response = _list(service, params)
                body = json.loads(response.body) if isinstance(response.body, str | bytes) else response.body
                job_ids = [job["job_id"] for job in body["data"]] or job_ids
                if body["next_cursor"] and rng.random() < 0.3:
                    _list(service, {**params, "cursor": [body["next_cursor"]]})
                    stats.pages_followed += 1
            if response.status_code not in (200, 304):
                stats.errors.append(f"status {response.status_code}")
        except Exception as exc:  # a load run counts every failure instead of stopping at the first
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            stats.latencies_ms.append(elapsed_ms)
            if getattr(_dynamodb_calls, "count", 0) != calls_before:
                stats.refresh_latencies_ms.append(elapsed_ms)


def _list(service: Any, params: dict[str, list[str]]) -> Any:
    """`list_jobs_response` minus the process-wide service: this container's own one."""
    from chalicelib.api.board import http_response
    from chalicelib.services.board.query import BoardQuery

    return http_response(service.list_jobs(BoardQuery.from_params(params), if_none_match=None))


def writer(stop: threading.Event, world: Any, counters: dict[str, int], seed: int) -> None:
    """Mutate the sandbox and sync every account, round after round, until told to stop."""
    from tests.soak.soak import VirtualTime, direct_sync_service

    rng = random.Random(seed)
    state = world.stackone.state
    service = direct_sync_service(VirtualTime(), page_size=100)
    while not stop.is_set():
        for account_id in sorted(state.accounts):
            postings = list(state.postings.get(account_id, {}).values())
            for posting in rng.sample(postings, k=min(3, len(postings))):
                action = rng.choice(["edit", "edit", "close", "reopen"])
                if action == "edit":
                    state.edit_posting(
                        account_id, posting["id"], {"title": f"Engineer {uuid.uuid4().hex[:6]}"}
                    )
                elif action == "close":
                    state.close_posting(account_id, posting["id"])
                else:
                    state.reopen_posting(account_id, posting["id"])
            state.add_posting(account_id, None)
            try:
                report = service.sync_account(account_id, uuid.uuid4().hex, "auto")
                counters["syncs"] += 1
                counters["postings_written"] += report.upserted + report.closed
                if report.outcome != "succeeded":
                    counters["sync_failures"] += 1
            except Exception:
                counters["sync_failures"] += 1
            if stop.is_set():
                break


def run(
    accounts: int, postings: int, readers: int, seconds: float, refresh_seconds: float, aws_server: bool
) -> dict[str, Any]:
    from tests.soak.soak import VirtualTime, direct_sync_service
    from tests.soak.world import local_world

    # Containers refresh their copy from the change feed every `refresh_seconds` while the sync writes.
    env = {"BOARD_REFRESH_SECONDS": str(refresh_seconds)}
    with local_world(env, aws_server=aws_server, seed_demo_data=False) as world:
        world.stackone.state.generate_accounts(accounts, postings, prefix="load")
        from chalicelib import deps
        from tests.sync_support import register_employer

        for account in list(world.stackone.state.accounts.values()):  # only employers' accounts are synced
            register_employer(account["origin_owner_id"], account["origin_owner_name"])

        deps.get_boto3_session().events.register("before-call.dynamodb", _count_dynamodb_call)
        setup = direct_sync_service(VirtualTime(), page_size=100)
        for account_id in sorted(world.stackone.state.accounts):
            setup.sync_account(account_id, "load-setup", "full")

        stop = threading.Event()
        stats = [ReaderStats() for _ in range(readers)]
        counters = {"syncs": 0, "postings_written": 0, "sync_failures": 0}
        warm = threading.Barrier(readers + 1)
        threads = [
            threading.Thread(target=reader, args=(stop, warm, s, i), daemon=True) for i, s in enumerate(stats)
        ]
        sync_thread = threading.Thread(target=writer, args=(stop, world, counters, 99), daemon=True)
        for thread in threads:
            thread.start()
        warm.wait()
        started = time.perf_counter()
        sync_thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in [*threads, sync_thread]:
            thread.join(timeout=60)
        elapsed = time.perf_counter() - started

    latencies = [ms for s in stats for ms in s.latencies_ms]
    refreshing = [ms for s in stats for ms in s.refresh_latencies_ms]
    in_memory = sorted(latencies)
    for ms in refreshing:
        in_memory.remove(ms)
    errors = [e for s in stats for e in s.errors]
    return {
        "benchmark": "board_load",
        "readers": readers,
        "aws": "moto_server" if aws_server else "moto_inprocess",
        "refresh_seconds": refresh_seconds,
        "accounts": accounts,
        "postings": accounts * postings,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 3),
        "p90_ms": round(percentile(latencies, 0.90), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies, default=0.0), 3),
        "mean_ms": round(statistics.fmean(latencies), 3) if latencies else 0.0,
        "in_memory_requests": len(in_memory),
        "in_memory_p50_ms": round(percentile(in_memory, 0.50), 3),
        "in_memory_p99_ms": round(percentile(in_memory, 0.99), 3),
        "refresh_requests": len(refreshing),
        "refresh_p50_ms": round(percentile(refreshing, 0.50), 3),
        "refresh_p99_ms": round(percentile(refreshing, 0.99), 3),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "closed_while_reading_404": sum(s.not_found for s in stats),
        "syncs_during_run": counters["syncs"],
        "postings_written_during_run": counters["postings_written"],
        "sync_failures": counters["sync_failures"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--postings", type=int, default=100, help="per account")
    parser.add_argument("--readers", type=int, default=4, help="concurrent reader threads")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--refresh-seconds",
        type=float,
        default=5.0,
        help="board change-feed refresh interval (setting default)",
    )
    parser.add_argument(
        "--aws",
        choices=("server", "inprocess"),
        default="server",
        help="moto as its own process (default; like a real DynamoDB) or in this process",
    )
    args = parser.parse_args()
    result = run(
        args.accounts, args.postings, args.readers, args.seconds, args.refresh_seconds, args.aws == "server"
    )
    print(
        f"board load: {result['readers']} readers over {result['postings']} postings for "
        f"{result['seconds']} s while a sync wrote {result['postings_written_during_run']} postings "
        f"in {result['syncs_during_run']} account syncs"
    )
    print(
        f"  {result['requests']} requests, {result['throughput_rps']} req/s, p50 {result['p50_ms']} ms, "
        f"p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']} "
        f"{result['error_samples'] or ''}"
    )
    print(
        f"  answered from memory: {result['in_memory_requests']} (p50 {result['in_memory_p50_ms']} ms, "
        f"p99 {result['in_memory_p99_ms']} ms); with a change-feed refresh query: "
        f"{result['refresh_requests']} (p50 {result['refresh_p50_ms']} ms, p99 {result['refresh_p99_ms']} ms)"
    )
    print(json.dumps(result))
    if result["errors"] or result["sync_failures"] or not result["requests"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
