"""Per-job numbers counting benchmark: `python -m bench.numbers` (or `make bench-numbers`).

One run, both paths against the same in-process moto (DynamoDB + SQS; no network, so times are moto's,
not AWS's) and the same events:
- Events: `--events` counted events (default 20,000) on `--jobs` jobs (default 500) of `--employers`
  employers (default 20), job popularity Zipf-like (a few jobs get most views, as on a real board), types
  85 % views, 10 % Apply starts, 3 % applications, 2 % Embloy clicks, over `--days` days (default 2).
- Ours: the request side queues each event (`EventRecorder.record`: one SQS SendMessage); the event
  source's side receives them 10 at a time into batches of `--batch` (default 100, the deployed batch
  size), and `count_events`' aggregator sums each batch per (job, day) and per (employer, day) and writes
  each sum with one UpdateItem (the job owners read through the counter's owner cache, as a warm
  container does).
- Baseline: one UpdateItem (ADD on the job-day item) per event, straight from the request; the employer
  is assumed known (no read), and no per-employer totals are written (they would double its writes).

Counts every DynamoDB and SQS request through botocore's event hooks, checks that both paths stored the
same per-job-day counts, and prints a table and ONE JSON line: writes per event, requests per event, the
request-side time per event and events per second of each path, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.board_common import bench_environment, summary_ms

EVENT_MIX = (("view", 0.85), ("apply_start", 0.10), ("application", 0.03), ("embloy_click", 0.02))
TODAY = date(2026, 12, 7)


def say(text: str) -> None:
    print(text, flush=True)


def generate(
    events: int, jobs: int, employers: int, days: int, seed: int
) -> tuple[list[Any], dict[str, Any]]:
    """(events, owner of each job): deterministic for a seed."""
    from chalicelib.models.numbers import CountedEvent
    from chalicelib.models.posting import make_job_id
    from chalicelib.services.numbers import JobOwner

    rng = random.Random(seed)
    job_ids = [make_job_id(f"acc_bench_{index % employers}", f"post_{index}") for index in range(jobs)]
    owners = {
        job_id: JobOwner(f"emp_bench_{index % employers}", f"Job {index}")
        for index, job_id in enumerate(job_ids)
    }
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(jobs)]  # Zipf-like popularity
    types = [kind for kind, _ in EVENT_MIX]
    type_weights = [share for _, share in EVENT_MIX]
    chosen_jobs = rng.choices(job_ids, weights=weights, k=events)
    chosen_types = rng.choices(types, weights=type_weights, k=events)
    chosen_days = [TODAY - timedelta(days=rng.randrange(days)) for _ in range(events)]
    generated = [
        CountedEvent.model_validate({"job_id": job, "type": kind, "day": day})
        for job, kind, day in zip(chosen_jobs, chosen_types, chosen_days, strict=True)
    ]
    return generated, owners


class RequestCounter:
    """Counts AWS requests by operation (botocore's before-call event on the shared session)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def register(self, session: Any) -> None:
        session.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def snapshot(self) -> Counter[str]:
        return Counter(self.calls)


@contextmanager
def timed(samples: list[float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    samples.append(time.perf_counter() - start)


def stored_job_days(
    table: Any, employer_ids: list[str], sort_prefix: str
) -> dict[tuple[str, str], dict[str, int]]:
    """Every job-day item's counters (ours or the baseline's partition), keyed by (job id, day)."""
    from boto3.dynamodb.conditions import Key

    from chalicelib.models.numbers import COUNTERS

    found: dict[tuple[str, str], dict[str, int]] = {}
    for employer in employer_ids:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"{sort_prefix}{employer}") & Key("SK").begins_with("JOB#")
        }
        while True:
            page = table.query(**kwargs)
            for item in page["Items"]:
                _, job_id, _, day = str(item["SK"]).split("#")
                found[(job_id, day)] = {name: int(item.get(name, 0)) for name in COUNTERS if item.get(name)}
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def _table(name: str) -> Any:
    """A fresh application table on the app's boto3 session (the one whose requests are counted)."""
    from chalicelib import deps
    from chalicelib.aws.table_schema import create_table_kwargs

    session = deps.get_boto3_session()
    session.client("dynamodb").create_table(**create_table_kwargs(name))
    return session.resource("dynamodb").Table(name)


def run(args: argparse.Namespace) -> dict[str, Any]:
    bench_environment()
    from moto import mock_aws

    with mock_aws():
        from chalicelib import deps
        from chalicelib.aws.numbers_queue import SqsEventPublisher
        from chalicelib.aws.numbers_repository import DynamoDBNumbers
        from chalicelib.models.numbers import COUNTER_OF_EVENT, CountedEvent
        from chalicelib.services.numbers import EventRecorder, NumbersAggregator, OwnerCache

        counter = RequestCounter()
        counter.register(deps.get_boto3_session())
        sqs = deps.get_sqs_client()
        queue_url = sqs.create_queue(QueueName="bench-numbers")["QueueUrl"]
        events, owners = generate(args.events, args.jobs, args.employers, args.days, args.seed)
        baseline_table = _table("bench-baseline")

        class Never:
            def is_bot(self, user_agent: str) -> bool:
                return False

        # ---- 1. the request side on a sample: one SendMessage (ours) or one UpdateItem (baseline) ----------
        sample = events[: args.sample]
        days = iter([datetime.combine(e.day, datetime.min.time(), tzinfo=UTC) for e in sample])
        recorder = EventRecorder(SqsEventPublisher(sqs, queue_url), Never(), clock=lambda: next(days))
        send_samples: list[float] = []
        for event in sample:
            with timed(send_samples):
                assert recorder.record(event.job_id, event.type)
        update_samples: list[float] = []

        def baseline_update(event: CountedEvent) -> None:
            baseline_table.update_item(
                Key={
                    "PK": f"NUMBERS#{owners[event.job_id].employer_id}",
                    "SK": f"JOB#{event.job_id}#DAY#{event.day.isoformat()}",
                },
                UpdateExpression="ADD #c :one",
                ExpressionAttributeNames={"#c": COUNTER_OF_EVENT[event.type]},
                ExpressionAttributeValues={":one": 1},
            )

        sample_table = _table("bench-baseline-sample")
        for event in sample:
            with timed(update_samples):
                sample_table.update_item(
                    Key={"PK": f"NUMBERS#{owners[event.job_id].employer_id}", "SK": f"JOB#{event.job_id}"},
                    UpdateExpression="ADD #c :one",
                    ExpressionAttributeNames={"#c": COUNTER_OF_EVENT[event.type]},
                    ExpressionAttributeValues={":one": 1},
                )
        # The event source's side of the sample: 10 messages per receive, one batch delete per receive.
        before = counter.snapshot()
        received = 0
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            received += len(messages)
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        drain_calls = counter.snapshot() - before
        assert received == len(sample), (received, len(sample))

        # ---- 2. the table side on every event: batches summed (ours), or one UpdateItem each (baseline)
        legs: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        for batch_size in args.batch:
            table = _table(f"bench-ours-{batch_size}")
            reads = Counter[str]()

            def owner(job_id: str, table: Any = table, reads: Counter[str] = reads) -> Any:
                reads[job_id] += 1
                table.get_item(Key={"PK": "ACCOUNT#bench", "SK": f"POSTING#{job_id}"})  # the read it costs
                return owners[job_id]

            aggregator = NumbersAggregator(DynamoDBNumbers(table, retention_days=100), OwnerCache(owner))
            before = counter.snapshot()
            start = time.perf_counter()
            for offset in range(0, len(events), batch_size):
                aggregator.apply(events[offset : offset + batch_size])
            seconds = time.perf_counter() - start
            calls = counter.snapshot() - before
            employers = sorted({o.employer_id for o in owners.values()})
            stored[str(batch_size)] = stored_job_days(table, employers, "NUMBERS#")
            legs[str(batch_size)] = {
                "dynamodb_writes": calls["dynamodb:UpdateItem"],
                "writes_per_event": round(calls["dynamodb:UpdateItem"] / len(events), 4),
                "owner_reads": calls["dynamodb:GetItem"],
                "seconds": round(seconds, 2),
                "events_per_second": round(len(events) / seconds, 1),
            }
        start = time.perf_counter()
        before = counter.snapshot()
        for event in events:
            baseline_update(event)
        baseline_seconds = time.perf_counter() - start
        baseline_writes = (counter.snapshot() - before)["dynamodb:UpdateItem"]
        employers = sorted({o.employer_id for o in owners.values()})
        baseline_items = stored_job_days(baseline_table, employers, "NUMBERS#")

    n = len(events)
    sent = len(sample)
    sqs_per_event = (sent + sum(drain_calls.values())) / sent
    baseline_eps = n / baseline_seconds
    return {
        "bench": "numbers",
        "events": n,
        "jobs": args.jobs,
        "employers": args.employers,
        "days": args.days,
        "same_counts": all(items == baseline_items for items in stored.values()),
        "request_side": {
            "sample": sent,
            "ours_send_message": summary_ms(send_samples),
            "baseline_update_item": summary_ms(update_samples),
            "ours_sqs_requests_per_event": round(sqs_per_event, 3),
            "throughput_ours_over_baseline": round(
                statistics.fmean(update_samples) / statistics.fmean(send_samples), 3
            ),
        },
        "ours": {
            f"batch_{size}": {
                **leg,
                "throughput_over_baseline": round(leg["events_per_second"] / baseline_eps, 2),
            }
            for size, leg in legs.items()
        },
        "baseline": {
            "dynamodb_writes": baseline_writes,
            "writes_per_event": round(baseline_writes / n, 4),
            "seconds": round(baseline_seconds, 2),
            "events_per_second": round(baseline_eps, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.numbers", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2_000)
    parser.add_argument("--employers", type=int, default=50)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument(
        "--sample", type=int, default=500, help="events timed through SQS on the request side"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2,000 events, a sample of 100: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.sample = 2_000, 100
    result = run(args)
    request, baseline = result["request_side"], result["baseline"]
    say(
        f"{result['events']:,} events on {result['jobs']:,} jobs of {result['employers']} employers over "
        f"{result['days']} day(s); moto in process (no network: moto's speed, not AWS's)"
    )
    say("table side (every event):")
    say(
        f"  {'path':28} {'writes':>9} {'writes/event':>13} {'owner reads':>12} {'events/s':>10} "
        f"{'vs baseline':>12}"
    )
    for name, leg in result["ours"].items():
        label = "ours, " + name.replace("_", " ")
        say(
            f"  {label:28} {leg['dynamodb_writes']:>9,} {leg['writes_per_event']:>13} "
            f"{leg['owner_reads']:>12,} {leg['events_per_second']:>10} {leg['throughput_over_baseline']:>11}x"
        )
    label = "baseline, UpdateItem/event"
    say(
        f"  {label:28} {baseline['dynamodb_writes']:>9,} {baseline['writes_per_event']:>13} "
        f"{0:>12} {baseline['events_per_second']:>10} {1.0:>11}x"
    )
    say(f"request side ({request['sample']} events):")
    say(f"  ours SendMessage:       {request['ours_send_message']}")
    say(f"  baseline UpdateItem:    {request['baseline_update_item']}")
    say(f"  SQS requests per event (send + receive + delete): {request['ours_sqs_requests_per_event']}")
    say(f"same per-job-day counts on every path: {result['same_counts']}")
    say(json.dumps(result, separators=(",", ":")))
    return 0 if result["same_counts"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
