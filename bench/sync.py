"""Sync benchmark: A accounts x P postings from a latency-injected StackOne into DynamoDB (moto, in-process).

    python -m bench.sync [--accounts 20] [--postings 250] [--latency-ms 50] [--concurrency N]
                         [--edit-fraction 0.05] [--backend auto|sandbox|fake]

Three rounds, each the deployed path minus Lambda itself: the schedule's fan-out enqueues one SQS message
per account, then C workers (the worker's reserved concurrency, `SYNC_WORKER_CONCURRENCY`) each take a
message and run `SyncService.sync_account` (pages sequential per account, accounts in parallel):

1. initial sync (empty table, full sweep);
2. unchanged full resync (must write zero posting items);
3. full resync after editing `edit-fraction` of the postings in StackOne (must write only those).

The latency bound of a round is the makespan of the accounts' request chains (requests x latency) on C
workers: what the round would take if only StackOne's latency cost time. Every request also takes a slot
of the shared StackOne request budget (`STACKONE_RATE_LIMIT_PER_MINUTE`, or `--rate-per-minute`; 0 = off),
so the limit bound is requests / rate: what the round would take if only the budget cost time. A round
is within budget when its wall time is at most 1.2 x max(latency bound, limit bound). DynamoDB write
requests and items are counted with a botocore event hook. Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

API_KEY = "v1.bench.sandbox-key"


def _prepare_environment() -> None:
    """Fake credentials and in-process moto: never touch a real AWS account."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]
    from chalicelib.settings import local_names_environment

    os.environ.update(local_names_environment())
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "APP_STAGE": "bench",
            "POWERTOOLS_SERVICE_NAME": "job-board-bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )


# StackOne backends --------------------------------------------------------------------------------------


class CountingTransport(httpx.BaseTransport):
    """Counts requests per account (x-account-id, or the id in /accounts/{id})."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.by_account: Counter[str] = Counter()
        self.seconds_by_account: dict[str, float] = defaultdict(float)
        self.total = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        account = request.headers.get("x-account-id")
        if account is None and request.url.path.startswith("/accounts/"):
            account = request.url.path.rsplit("/", 1)[-1]
        started = time.perf_counter()
        response = self._inner.handle_request(request)
        response.read()  # the body too: the time StackOne (here: the sandbox) took to answer
        elapsed = time.perf_counter() - started
        with self._lock:
            self.total += 1
            if account:
                self.by_account[account] += 1
                self.seconds_by_account[account] += elapsed
        return response

    def reset(self) -> None:
        with self._lock:
            self.by_account.clear()
            self.seconds_by_account.clear()
            self.total = 0


@dataclass
class Backend:
    name: str
    base_url: str
    transport: httpx.BaseTransport
    account_ids: list[str]
    edit: Callable[[str, str], None]  # (account_id, posting_id) -> change it in StackOne
    posting_ids: Callable[[str], list[str]]
    stop: Callable[[], None] = lambda: None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_backend(accounts: int, postings: int, latency_ms: int) -> Backend:
    """The StackOne sandbox as its own process (its CPU is not the client's), seeded over its admin API."""
    import subprocess

    import sandbox.stackone  # noqa: F401  (ImportError: not available, use the fake)

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.stackone", "--port", str(port), "--api-key", API_KEY,
         "--latency-ms", str(latency_ms), "--no-demo-data"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    admin = httpx.Client(base_url=base_url, timeout=60)

    def stop() -> None:
        admin.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if admin.get("/_sandbox/config").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the StackOne sandbox did not start")
            time.sleep(0.1)
        response = admin.post(
            "/_sandbox/accounts/generate",
            json={"count": accounts, "postings_per_account": postings, "prefix": "bench"},
        )
        response.raise_for_status()
        account_ids = [account["id"] for account in response.json()]
    except Exception:
        stop()
        raise

    def posting_ids(account_id: str) -> list[str]:
        listed = admin.get(f"/_sandbox/accounts/{account_id}/postings")
        listed.raise_for_status()
        return [posting["id"] for posting in listed.json()]

    def edit(account_id: str, posting_id: str) -> None:
        admin.patch(
            f"/_sandbox/accounts/{account_id}/postings/{posting_id}", json={"title": f"Edited {posting_id}"}
        ).raise_for_status()

    return Backend(
        name="sandbox",
        base_url=base_url,
        transport=httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
        ),
        account_ids=account_ids,
        edit=edit,
        posting_ids=posting_ids,
        stop=stop,
    )


def fake_backend(accounts: int, postings: int, latency_ms: int) -> Backend:
    from bench.stackone_fake import LatencyStackOne

    fake = LatencyStackOne(accounts=accounts, postings=postings, latency_ms=latency_ms)

    def edit(account_id: str, posting_id: str) -> None:
        index = next(i for i, row in enumerate(fake.postings[account_id]) if row["id"] == posting_id)
        fake.edit(account_id, index, "2026-06-01T00:00:00.000Z")

    return Backend(
        name="fake-transport",
        base_url="https://stackone.bench",
        transport=fake,
        account_ids=list(fake.accounts),
        edit=edit,
        posting_ids=lambda account_id: [row["id"] for row in fake.postings[account_id]],
    )


# DynamoDB write counting ----------------------------------------------------------------------------------


@dataclass
class DynamoWrites:
    """DynamoDB write requests/items, split into posting items, sync-state items and the rest."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    def register(self, session: Any) -> None:
        for operation in ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"):
            session.events.register(f"provide-client-params.dynamodb.{operation}", self._on_write)

    @staticmethod
    def _kind(table: str, item: dict[str, Any]) -> str:
        sort_key = item.get("SK")
        if isinstance(sort_key, dict):
            sort_key = sort_key.get("S")
        if str(sort_key or "").startswith("POSTING#"):
            return "posting"
        if sort_key == "SYNC":
            return "sync_state"
        if sort_key == "WINDOW":
            return "rate_budget"  # a slot of the shared StackOne request budget, not the sync's data
        return "idempotency" if "idempotency" in table else "other"

    def _on_write(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self.lock:
            if model.name == "BatchWriteItem":
                for table, entries in params.get("RequestItems", {}).items():
                    kinds = Counter(
                        self._kind(
                            table,
                            (e.get("PutRequest") or {}).get("Item")
                            or e.get("DeleteRequest", {}).get("Key", {}),
                        )
                        for e in entries
                    )
                    for kind, count in kinds.items():
                        self.items[kind] += count
                    self.requests["batch_write_item"] += 1
            else:
                item = params.get("Item") or params.get("Key") or {}
                kind = self._kind(str(params.get("TableName")), item)
                self.items[kind] += 1
                self.requests["rate_budget" if kind == "rate_budget" else model.name] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self.lock:
            return dict(self.requests), dict(self.items)


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {
        key: after.get(key, 0) - before.get(key, 0) for key in after if after.get(key, 0) - before.get(key, 0)
    }


# Bench -----------------------------------------------------------------------------------------------------


def latency_bound(request_counts: Sequence[float], latency_s: float, workers: int) -> float:
    """Makespan of the accounts' request chains on `workers` workers, in message order (as SQS feeds them)."""
    finish = [0.0] * max(1, workers)
    heapq.heapify(finish)
    for count in request_counts:
        start = heapq.heappop(finish)
        heapq.heappush(finish, start + count * latency_s)
    return max(finish)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--postings", type=int, default=250)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=None, help="default: SYNC_WORKER_CONCURRENCY")
    parser.add_argument("--edit-fraction", type=float, default=0.05)
    parser.add_argument("--backend", choices=["auto", "sandbox", "fake"], default="auto")
    parser.add_argument(
        "--rate-per-minute",
        type=int,
        default=None,
        help="shared StackOne request budget (default: STACKONE_RATE_LIMIT_PER_MINUTE; 0 = none)",
    )
    parser.add_argument(
        "--dynamodb-latency-ms",
        type=float,
        default=0.0,
        help="per-request latency of the timing rounds' store",
    )
    args = parser.parse_args(argv)
    _prepare_environment()

    from chalicelib.settings import get_settings

    settings = get_settings()
    workers = args.concurrency or settings.sync_worker_concurrency
    total = args.accounts * args.postings
    edits = math.ceil(total * args.edit_fraction)
    if args.rate_per_minute is None:
        args.rate_per_minute = settings.stackone_rate_limit_per_minute
    print(
        f"sync bench: {args.accounts} accounts x {args.postings} postings, "
        f"{args.latency_ms} ms StackOne latency, {workers} workers, page size {settings.sync_page_size}, "
        f"{edits} edits ({args.edit_fraction:.0%}), StackOne request budget "
        f"{args.rate_per_minute or 'off'}/min (shared by all workers)"
    )
    timing = _phase(args, "memory", workers, edits)
    _print_phase(f"timing rounds, {workers} workers in this process (in-memory store)", timing)
    # One worker at a time: each account has the process's CPU to itself, as each Lambda has its own.
    isolated = _phase(args, "memory", 1, edits)
    _print_phase("timing rounds, 1 worker (per-Lambda view: no CPU shared between accounts)", isolated)
    counting = _phase(args, "moto", workers, edits)
    _print_phase("DynamoDB rounds (moto, in-process)", counting)

    by_round = {r["round"]: r for r in timing["rounds"]}
    isolated_rounds = {r["round"]: r for r in isolated["rounds"]}
    moto_rounds = {r["round"]: r for r in counting["rounds"]}
    budget = {
        "wall_ratio_max": 1.2,
        **{f"{name}_within_budget": by_round[name]["wall_over_bound"] <= 1.2 for name in by_round},
        **{
            f"{name}_within_budget_per_worker": isolated_rounds[name]["wall_over_bound"] <= 1.2
            for name in isolated_rounds
        },
        "unchanged_posting_writes_zero": moto_rounds["unchanged"]["posting_items_written"] == 0,
        "edited_writes_only_changes": moto_rounds["edited"]["posting_items_written"] == counting["edited"],
    }
    print(f"budget: {budget}  (machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    summary = {
        "bench": "sync",
        "backend": timing["backend"],
        "accounts": args.accounts,
        "postings_per_account": args.postings,
        "latency_ms": args.latency_ms,
        "workers": workers,
        "page_size": settings.sync_page_size,
        "rate_per_minute": args.rate_per_minute,
        "edited": counting["edited"],
        "timing_store": f"memory (+{args.dynamodb_latency_ms} ms per request)",
        "timing_rounds": timing["rounds"],
        "timing_rounds_one_worker": isolated["rounds"],
        "dynamodb_rounds": counting["rounds"],
        "budget": budget,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary, separators=(",", ":")))
    checks = ("unchanged_posting_writes_zero", "edited_writes_only_changes")
    return 0 if all(budget[check] for check in checks) else 1


def _print_phase(title: str, phase: dict[str, Any]) -> None:
    print(f"{title}, StackOne = {phase['backend']}:")
    for result in phase["rounds"]:
        print(
            f"  {result['round']:<10} wall {result['wall_s'] * 1000:8.1f} ms"
            f"  latency bound {result['latency_bound_s'] * 1000:7.1f} ms"
            f"  limit bound {result['rate_bound_s'] * 1000:7.1f} ms"
            f" ({result['stackone_requests']} requests at {result['rate_per_minute'] or 'no'}/min)"
            f"  ratio to max {result['wall_over_bound']:6.3f}"
            f"  (StackOne took {result['stackone_time_bound_s'] * 1000:6.1f} ms:"
            f" {result['wall_over_stackone_time']:.3f})"
            f"  cpu {result['cpu_s']:5.2f} s  StackOne requests {result['stackone_requests']}"
            f"  write requests {result['write_requests']}"
            + (f" (+{result['rate_budget_writes']} budget writes)" if result["rate_budget_writes"] else "")
            + f"  posting items {result['posting_items_written']}"
            f"  (upserted {result['upserted']}, unchanged {result['unchanged']}, closed {result['closed']})"
        )


def _phase(args: argparse.Namespace, store: str, workers: int, edits: int) -> dict[str, Any]:
    if store == "moto":
        from moto import mock_aws

        with mock_aws():
            return _rounds(args, store, workers, edits)
    return _rounds(args, store, workers, edits)


def _rounds(args: argparse.Namespace, store: str, workers: int, edits: int) -> dict[str, Any]:
    from chalicelib import deps
    from chalicelib.clients.http import build_http_client
    from chalicelib.clients.stackone.auth import StackOneKeyAuth
    from chalicelib.clients.stackone.client import StackOneClient
    from chalicelib.clients.stackone.rate_budget import InMemoryWindowCounter, SharedRateBudget
    from chalicelib.models.messages import SyncRequested
    from chalicelib.services.sync import CountingMetrics, Mode, SyncService
    from chalicelib.settings import get_settings

    deps.reset_dependencies()
    settings = get_settings()
    writes = DynamoWrites()
    api_key: Callable[[], str] = lambda: API_KEY  # noqa: E731
    if store == "moto":
        from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
        from chalicelib.aws.sync_queue import SqsSyncPublisher
        from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
        from chalicelib.aws.table_schema import create_idempotency_table_kwargs, create_table_kwargs

        session = deps.get_boto3_session()
        writes.register(session)  # before any client exists: clients copy the session's event handlers
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(**create_table_kwargs(settings.table_name))
        dynamodb.create_table(**create_idempotency_table_kwargs(settings.idempotency_table_name))
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName=settings.sync_queue_name)["QueueUrl"]
        session.client("secretsmanager").create_secret(
            Name=settings.stackone_api_key_secret_name, SecretString=API_KEY
        )
        store_secret = deps.get_secret_store()
        secret_name = settings.stackone_api_key_secret_name
        api_key = lambda: store_secret.get(secret_name)  # noqa: E731
        moto_lock = threading.Lock()  # moto's in-process DynamoDB is not thread-safe
        from chalicelib.aws.rate_budget import DynamoDBWindowCounter

        counter: Any = _Locked(DynamoDBWindowCounter(deps.get_table(), "stackone#bench"), moto_lock)
        postings: Any = _Locked(DynamoDBPostingsRepository(deps.get_table()), moto_lock)
        states: Any = _Locked(DynamoDBSyncStateRepository(deps.get_table()), moto_lock)
        publisher: Any = SqsSyncPublisher(sqs, queue_url)

        def take_messages() -> list[SyncRequested]:
            messages: list[SyncRequested] = []
            while True:
                batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not batch:
                    return messages
                for message in batch:
                    messages.append(SyncRequested.model_validate_json(message["Body"]))
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    else:
        from tests.services.sync_fakes import InMemoryPostings, InMemoryPublisher, InMemoryStates

        counter = InMemoryWindowCounter()
        postings = InMemoryPostings(args.dynamodb_latency_ms)
        states = InMemoryStates(args.dynamodb_latency_ms)
        publisher = InMemoryPublisher()

        def take_messages() -> list[SyncRequested]:
            messages = list(publisher.messages)
            publisher.messages.clear()
            return messages

    backend = _backend(args)
    transport = CountingTransport(backend.transport)
    http = build_http_client(
        backend.base_url,
        timeout_seconds=settings.stackone_timeout_seconds,
        auth=StackOneKeyAuth(api_key),
        headers={"Accept": "application/json"},
        transport=transport,
    )
    rate_budget = SharedRateBudget(counter, per_minute=args.rate_per_minute) if args.rate_per_minute else None
    service = SyncService(
        StackOneClient(http, postings_page_size=settings.sync_page_size, rate_budget=rate_budget),
        postings,
        states,
        publisher,
        policy=deps.sync_policy(),
        metrics=CountingMetrics(),
        departments=states,
    )
    per_second = rate_budget.per_minute / 60 if rate_budget is not None else None
    latency_s = args.latency_ms / 1000

    def counts() -> tuple[int, int, int]:
        """(write requests, posting items, sync-state items) so far; the request budget's own writes
        (one conditional update per StackOne request) are reported apart."""
        if store == "moto":
            requests, items = writes.snapshot()
            data_requests = sum(n for name, n in requests.items() if name != "rate_budget")
            return data_requests, items.get("posting", 0), items.get("sync_state", 0)
        return postings.write_requests + states.puts, postings.items_written, states.puts

    def budget_writes() -> int:
        return writes.snapshot()[0].get("rate_budget", 0) if store == "moto" else 0

    def round_(label: str, mode: Mode) -> dict[str, Any]:
        before = counts()
        budget_before = budget_writes()
        fan_out_started = time.perf_counter()
        enqueued = service.enqueue_all(f"bench-{label}")
        messages = take_messages()
        fan_out_s = time.perf_counter() - fan_out_started
        transport.reset()
        cpu_started = time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(lambda m: service.sync_account(m.account_id, m.run_id, mode), messages))
        wall_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        chains = [transport.by_account[m.account_id] for m in messages]
        latency_s_bound = latency_bound(chains, latency_s, workers)
        # The shared budget lets `per_second` requests through per second, whatever the workers do.
        rate_bound_s = transport.total / per_second if per_second else 0.0
        bound_s = max(latency_s_bound, rate_bound_s)
        # The same makespan with the time StackOne actually took per request (the sandbox shares this
        # machine's CPUs, so it answers slower than its injected latency): what's left is the sync's own.
        observed_s = latency_bound(
            [transport.seconds_by_account[m.account_id] for m in messages], 1.0, workers
        )
        after = counts()
        return {
            "round": label,
            "accounts": enqueued,
            "stackone_requests": transport.total,
            "fan_out_s": round(fan_out_s, 4),
            "wall_s": round(wall_s, 4),
            "latency_bound_s": round(latency_s_bound, 4),
            "rate_bound_s": round(rate_bound_s, 4),
            "rate_per_minute": round(rate_budget.per_minute) if rate_budget is not None else 0,
            "bound_s": round(bound_s, 4),
            "wall_over_bound": round(wall_s / bound_s, 3) if bound_s else None,
            "stackone_time_bound_s": round(observed_s, 4),
            "wall_over_stackone_time": round(wall_s / observed_s, 3) if observed_s else None,
            "cpu_s": round(cpu_s, 4),
            "write_requests": after[0] - before[0],
            "posting_items_written": after[1] - before[1],
            "sync_state_items_written": after[2] - before[2],
            "rate_budget_writes": budget_writes() - budget_before,
            "upserted": sum(r.upserted for r in reports),
            "unchanged": sum(r.unchanged for r in reports),
            "closed": sum(r.closed for r in reports),
            "outcomes": dict(Counter(report.outcome for report in reports)),
        }

    try:
        initial = round_("initial", "auto")
        unchanged = round_("unchanged", "full")
        per_account = math.ceil(edits / len(backend.account_ids))
        edited = 0
        for account_id in backend.account_ids:
            for posting_id in backend.posting_ids(account_id)[:per_account]:
                if edited < edits:
                    backend.edit(account_id, posting_id)
                    edited += 1
        changed = round_("edited", "full")
    finally:
        backend.stop()
        http.close()
    return {"backend": backend.name, "edited": edited, "rounds": [initial, unchanged, changed]}


class _Locked:
    """Calls the wrapped object's methods under a lock."""

    def __init__(self, target: Any, lock: threading.Lock) -> None:
        self._target = target
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return locked


def _backend(args: argparse.Namespace) -> Backend:
    if args.backend in ("auto", "sandbox"):
        try:
            return sandbox_backend(args.accounts, args.postings, args.latency_ms)
        except ImportError:
            if args.backend == "sandbox":
                raise
    return fake_backend(args.accounts, args.postings, args.latency_ms)


if __name__ == "__main__":
    sys.exit(main())
