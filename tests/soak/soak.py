"""Fault soak: many sync rounds against the StackOne sandbox under injected faults, then an exact check.

Each round mutates the sandbox (postings edited, closed, reopened, deleted, added; accounts losing and
regaining credentials), arms random faults (429 with Retry-After, 408, 5xx, dropped connections, empty
pages that still carry a cursor), and syncs every account: either through `SyncService` directly (with
a no-op sleep and a virtual monotonic clock, so retries and budgets run without waiting) or through the
real `sync_account` SQS handler, delivering each message twice with distinct message ids. Then the faults
stop, every account regains its credentials, one clean full sync runs, and the board must equal the
sandbox's live, non-internal postings exactly: same set, same titles, no duplicates.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.soak.world import World

SOAK_ACCOUNT_PREFIX = "soak"
PAGE_SIZE = 5
FAULT_PATHS = ("/unified/ats/job_postings", "/accounts")


@dataclass
class SoakReport:
    rounds: int = 0
    syncs: int = 0
    sqs_deliveries: int = 0
    duplicate_deliveries: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    mutations: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    board_postings: int = 0

    def line(self) -> str:
        return (
            f"soak: survived {self.rounds} rounds, {sum(self.faults.values())} injected faults "
            f"{dict(sorted(self.faults.items()))}, {sum(self.mutations.values())} mutations "
            f"{dict(sorted(self.mutations.items()))}, {self.syncs} account syncs "
            f"({self.sqs_deliveries} SQS deliveries, {self.duplicate_deliveries} duplicates), outcomes "
            f"{dict(sorted(self.outcomes.items()))}; board = sandbox: {self.board_postings} live postings"
        )


class VirtualTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        self.slept += max(0.0, seconds)


def direct_sync_service(time: VirtualTime, page_size: int = PAGE_SIZE) -> Any:
    """The production SyncService and repositories, with a StackOne client that never really sleeps."""
    from chalicelib import deps
    from chalicelib.clients.stackone.client import StackOneClient
    from chalicelib.services.sync import SyncService

    client = StackOneClient(
        deps.get_stackone_http(),
        postings_page_size=page_size,
        sleep=time.sleep,
        monotonic=time.monotonic,
        jitter=lambda: 0.5,
    )
    return SyncService(
        client,
        deps.get_postings_repository(),
        deps.get_sync_state_repository(),
        deps.get_sync_publisher(),
        policy=deps.sync_policy(),
        monotonic=time.monotonic,
    )


def sqs_event(world: World, body: str) -> dict[str, Any]:
    """One SQS record with its own message id (Chalice's generator gives every record the same id)."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:eu-central-1:123456789012:{world.queue_name}",
                "awsRegion": "eu-central-1",
            }
        ]
    }


class Soak:
    def __init__(self, world: World, client: Any, *, seed: int) -> None:
        self.world = world
        self.state = world.stackone.state
        self.client = client  # chalice.test.Client over the app
        self.rng = random.Random(seed)
        self.time = VirtualTime()
        self.report = SoakReport()
        self.armed: list[tuple[str, Any, int]] = []

    # ---- setup ---------------------------------------------------------------------------------------

    def account_ids(self) -> list[str]:
        return sorted(self.state.accounts)

    def add_accounts(self, count: int, postings: int) -> None:
        self.state.generate_accounts(count, postings, prefix=SOAK_ACCOUNT_PREFIX)

    # ---- faults and mutations --------------------------------------------------------------------------

    def arm_faults(self, *, sqs_safe: bool) -> None:
        """Random failure rules for this round. `sqs_safe`: only faults whose retry needs no real sleep
        (the handler's client sleeps for real: 429/408 with Retry-After 0, and credential loss)."""
        from sandbox.stackone import FailureRule

        kinds = ["429", "408"] if sqs_safe else ["429", "408", "500", "502", "503", "504", "drop"]
        for kind in self.rng.sample(kinds, k=self.rng.randint(1, len(kinds))):
            count = self.rng.randint(1, 4)
            rule = FailureRule(
                status=kind if kind == "drop" else int(kind),
                count=count,
                probability=self.rng.choice([0.1, 0.25, 0.5]),
                path_prefix=self.rng.choice(FAULT_PATHS),
                retry_after=0 if sqs_safe else self.rng.choice([0, 1, 2, 5]),
            )
            self.state.add_failure(rule)
            self.armed.append((kind, rule, count))
        if self.rng.random() < 0.4:
            account = self.rng.choice([None, *self.account_ids()])
            self.state.set_pagination(
                short_page_size=self.rng.choice([None, 1, 2, 3]), empty_pages=True, account_id=account
            )
            self.report.faults["empty_pages_with_next"] += 1

    def disarm_faults(self) -> None:
        for kind, rule, count in self.armed:
            fired = count - rule.count if rule in self.state.failures else count
            self.report.faults[kind] += fired
        self.armed.clear()
        self.state.clear_failures()
        self.state.set_pagination()

    def mutate(self) -> None:
        state, rng = self.state, self.rng
        for _ in range(rng.randint(1, 6)):
            account_id = rng.choice(self.account_ids())
            postings = list(state.postings.get(account_id, {}).values())
            action = rng.choice(["edit", "edit", "close", "reopen", "delete", "add", "credentials"])
            if action == "add" or not postings:
                state.add_posting(account_id, None)
                self.report.mutations["added"] += 1
                continue
            posting = rng.choice(postings)
            if action == "edit":
                state.edit_posting(account_id, posting["id"], {"title": f"Edited {uuid.uuid4().hex[:8]}"})
                self.report.mutations["edited"] += 1
            elif action == "close":
                state.close_posting(account_id, posting["id"])
                self.report.mutations["closed"] += 1
            elif action == "reopen":
                state.reopen_posting(account_id, posting["id"])
                self.report.mutations["reopened"] += 1
            elif action == "delete":
                state.delete_posting(account_id, posting["id"])
                self.report.mutations["deleted"] += 1
            elif state.accounts[account_id]["status"] == "active":
                state.expire_account(account_id)
                self.report.faults["credentials_lost"] += 1
            else:
                state.set_account_status(account_id, "active")
                self.report.mutations["credentials_regained"] += 1

    # ---- syncing -----------------------------------------------------------------------------------------

    def sync_direct(self, mode: str) -> None:
        service = direct_sync_service(self.time)
        for account_id in self.account_ids():
            report = service.sync_account(account_id, uuid.uuid4().hex, mode)
            self.report.syncs += 1
            self.report.outcomes[report.outcome] += 1

    def sync_via_sqs(self) -> None:
        """The real handler; each message delivered twice (SQS at-least-once), with distinct ids."""
        from chalicelib.models.messages import SyncRequested

        for account_id in self.account_ids():
            body = SyncRequested(account_id=account_id, run_id=uuid.uuid4().hex, reason="schedule")
            payload = body.model_dump_json()
            for delivery in range(self.rng.choice([2, 2, 3])):
                self.client.lambda_.invoke("sync_account", sqs_event(self.world, payload))
                self.report.sqs_deliveries += 1
                self.report.duplicate_deliveries += delivery > 0
            self.report.syncs += 1

    def round(self) -> None:
        self.mutate()
        # Every third round goes through the SQS handler with duplicate deliveries; a few more at random.
        via_sqs = self.report.rounds % 3 == 1 or self.rng.random() < 0.15
        self.arm_faults(sqs_safe=via_sqs)
        try:
            if via_sqs:
                self.sync_via_sqs()
            else:
                self.sync_direct(self.rng.choice(["auto", "auto", "delta", "full"]))
        finally:
            self.disarm_faults()
        self.report.rounds += 1

    def final_clean_sync(self) -> None:
        for account_id in self.account_ids():
            if self.state.accounts[account_id]["status"] != "active":
                self.state.set_account_status(account_id, "active")
                self.report.mutations["credentials_regained"] += 1
        service = direct_sync_service(self.time)
        for account_id in self.account_ids():
            report = service.sync_account(account_id, uuid.uuid4().hex, "full")
            assert report.outcome == "succeeded", f"clean full sync failed: {report}"

    # ---- the check -----------------------------------------------------------------------------------------

    def expected_board(self) -> dict[tuple[str, str], str]:
        from sandbox.stackone.seed import is_on_board

        return {
            (account_id, posting["id"]): posting["title"]
            for account_id, postings in self.state.postings.items()
            for posting in postings.values()
            if is_on_board(posting)
        }

    def stored_live(self) -> list[tuple[tuple[str, str], str, str]]:
        from chalicelib import deps
        from chalicelib.aws.posting_items import item_to_posting

        table = deps.get_table()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        live = []
        for item in items:
            if str(item.get("SK", "")).startswith("POSTING#"):
                posting = item_to_posting(item)
                if posting.status == "live":
                    live.append(((posting.account_id, posting.posting_id), posting.title, posting.job_id))
        return live

    def board_job_ids(self) -> list[str]:
        """Every job id `GET /jobs` pages through (a fresh process' board: cold load)."""
        from chalicelib import deps

        deps.reset_dependencies()
        job_ids: list[str] = []
        cursor: str | None = None
        while True:
            url = "/jobs?limit=100" + (f"&cursor={cursor}" if cursor else "")
            response = self.client.http.get(url)
            assert response.status_code == 200, response.body
            page = json.loads(response.body)
            job_ids.extend(job["job_id"] for job in page["data"])
            cursor = page["next_cursor"]
            if not cursor:
                return job_ids

    def verify(self) -> None:
        expected = self.expected_board()
        live = self.stored_live()
        keys = [key for key, _, _ in live]
        duplicates = [key for key, n in Counter(keys).items() if n > 1]
        assert not duplicates, f"duplicated on the board: {duplicates}"
        lost = sorted(set(expected) - set(keys))
        stale = sorted(set(keys) - set(expected))
        assert not lost, f"lost (live in the sandbox, not on the board): {lost}"
        assert not stale, f"stale (on the board, not live in the sandbox): {stale}"
        outdated = [key for key, title, _ in live if expected[key] != title]
        assert not outdated, f"stale content: {outdated}"
        board = self.board_job_ids()
        assert sorted(board) == sorted(job_id for _, _, job_id in live), "GET /jobs differs from the table"
        assert len(board) == len(set(board)), "GET /jobs repeats a posting across pages"
        self.report.board_postings = len(board)


def run_soak(world: World, client: Any, *, rounds: int, seed: int, extra_accounts: int = 2) -> SoakReport:
    soak = Soak(world, client, seed=seed)
    if extra_accounts:
        soak.add_accounts(extra_accounts, 30)
    soak.sync_direct("full")
    for _ in range(rounds):
        soak.round()
    soak.final_clean_sync()
    soak.verify()
    return soak.report
