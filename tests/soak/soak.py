"""Fault soak: many sync rounds against the StackOne sandbox under injected faults, then an exact check.

Each round mutates the sandbox (postings edited, closed, reopened, deleted, added; poison postings that
cannot be stored; accounts losing and regaining credentials), delivers webhooks for some of those changes,
arms random faults (429 with Retry-After, 408, 5xx, dropped connections, empty pages that still carry a
cursor), and syncs every account: either through `SyncService` directly (with a no-op sleep and a virtual
monotonic clock, so retries and budgets run without waiting) or through the real handlers: the
`sync_all` schedule (its account listing fails too, and is retried) and then `sync_account` for every
queued message, each delivered two or three times with distinct message ids, some of them concurrently.

Then the faults stop, every account regains its credentials (its employer reconnects) and one ordinary
scheduled tick runs (deltas plus the existence sweep: `SYNC_EXISTENCE_SWEEP_SECONDS=0` compresses the
hour into one tick). The board must now equal the sandbox, field by field, for every posting: the set of
live postings, and title, company, locations, content, compensation, employment type, remote, department,
questionnaires, apply URLs and apply flags of each, as `GET /jobs/{job_id}` shows them. Only then does a
forced clean full sync run, and the same comparison must hold again (it must not have been needed).
Poison postings must be on neither side of the comparison, and named in their account's sync state.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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
    concurrent_deliveries: int = 0
    webhooks: Counter[str] = field(default_factory=Counter)
    comparisons: dict[str, str] = field(
        default_factory=dict
    )  # phase -> "N postings x F fields, 0 mismatches"
    poison_named: int = 0

    def line(self) -> str:
        return (
            f"soak: survived {self.rounds} rounds, {sum(self.faults.values())} injected faults "
            f"{dict(sorted(self.faults.items()))}, {sum(self.mutations.values())} mutations "
            f"{dict(sorted(self.mutations.items()))}, webhooks {dict(sorted(self.webhooks.items()))}, "
            f"{self.syncs} account syncs ({self.sqs_deliveries} SQS deliveries, {self.duplicate_deliveries} "
            f"duplicates, {self.concurrent_deliveries} concurrent), "
            f"outcomes {dict(sorted(self.outcomes.items()))}; "
            f"board = sandbox before the forced full sync: {self.comparisons.get('before', '-')}; after it: "
            f"{self.comparisons.get('after', '-')}; {self.poison_named} poison postings skipped and named; "
            f"{self.board_postings} live postings"
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
    from chalicelib.services.sync import RepositoryEmployerRegistry, SyncService

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
        departments=deps.get_sync_state_repository(),
        employers=RepositoryEmployerRegistry(deps.get_employers_repository()),
    )


def is_poison(posting: dict[str, Any]) -> bool:
    """Postings no board can store: text that is not valid Unicode, or over DynamoDB's item size."""
    title = posting.get("title") or ""
    if isinstance(title, str) and any(0xD800 <= ord(char) <= 0xDFFF for char in title):
        return True
    return len(json.dumps(posting)) > 390_000


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

    def register_employers(self) -> None:
        """Every linked account's owner is an employer of the board (only those are published)."""
        from tests.sync_support import register_employer

        for account in list(self.state.accounts.values()):
            register_employer(account["origin_owner_id"], account["origin_owner_name"])

    # ---- faults and mutations --------------------------------------------------------------------------

    def arm_faults(self, *, sqs_safe: bool) -> None:
        """Random failure rules for this round. `sqs_safe`: only faults whose retry needs no real sleep
        (the handler's client sleeps for real: 429/408 with Retry-After 0, and credential loss)."""
        from sandbox.stackone import FailureRule

        # The handlers' client really sleeps: backoff is short in the soak (STACKONE_BACKOFF_BASE_SECONDS)
        # and Retry-After is 0 on their path.
        kinds = ["429", "408", "500", "502", "503", "504", "drop"]
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
        actions = ["edit", "edit", "close", "reopen", "delete", "delete", "add", "credentials", "poison"]
        for _ in range(rng.randint(1, 6)):
            account_id = rng.choice(self.account_ids())
            postings = list(state.postings.get(account_id, {}).values())
            action = rng.choice(actions)
            if action == "add" or not postings:
                added = state.add_posting(account_id, None)
                self.report.mutations["added"] += 1
                self.webhook("refresh", account_id, added["id"])
                continue
            if action == "poison":
                kind = rng.choice(["lone_surrogate", "oversized", "not_an_object"])
                poison = state.add_poison_posting(account_id, kind)
                self.report.mutations[f"poison_{kind}"] += 1
                if poison is not None:
                    self.webhook("refresh", account_id, poison["id"])
                continue
            posting = rng.choice(postings)
            if action == "edit":
                state.edit_posting(account_id, posting["id"], {"title": f"Edited {uuid.uuid4().hex[:8]}"})
                self.report.mutations["edited"] += 1
                self.webhook("refresh", account_id, posting["id"])
            elif action == "close":
                state.close_posting(account_id, posting["id"])
                self.report.mutations["closed"] += 1
            elif action == "reopen":
                state.reopen_posting(account_id, posting["id"])
                self.report.mutations["reopened"] += 1
            elif action == "delete":
                state.delete_posting(account_id, posting["id"])
                self.report.mutations["deleted"] += 1
                self.webhook("deleted", account_id, posting["id"])
            elif state.accounts[account_id]["status"] == "active":
                state.expire_account(account_id)
                self.report.faults["credentials_lost"] += 1
            else:
                state.set_account_status(account_id, "active")
                self.report.mutations["credentials_regained"] += 1

    def webhook(self, kind: str, account_id: str, posting_id: str) -> None:
        """Half of the changes also arrive as StackOne webhooks (what the webhook route dispatches to);
        a webhook that fails (StackOne down) is simply lost, as when StackOne gives up retrying."""
        from chalicelib import deps
        from chalicelib.errors import AppError

        if self.rng.random() < 0.5:
            return
        try:
            if kind == "deleted":
                deps.get_sync_service().close_posting(account_id, posting_id)
            else:
                deps.get_sync_service().refresh_posting(account_id, posting_id)
            self.report.webhooks[kind] += 1
        except AppError:
            self.report.webhooks[f"{kind}_failed"] += 1

    # ---- syncing -----------------------------------------------------------------------------------------

    def sync_direct(self, mode: str) -> None:
        service = direct_sync_service(self.time)
        for account_id in self.account_ids():
            report = service.sync_account(account_id, uuid.uuid4().hex, mode)
            self.report.syncs += 1
            self.report.outcomes[report.outcome] += 1

    def schedule(self) -> list[str]:
        """The `sync_all` handler (retries its account listing), then every message it queued. A tick
        that fails outright is followed by the next tick, as EventBridge would."""
        import boto3

        for _ in range(3):
            event = self.client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
            event["id"] = str(uuid.uuid4())  # each EventBridge tick has its own id (the run id)
            try:
                self.client.lambda_.invoke("sync_all", event)
                break
            except Exception:  # the listing failed past its retry budget: the next tick runs
                self.report.faults["sync_all_failed"] += 1
        sqs = boto3.client("sqs")
        bodies: list[str] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.world.queue_url, MaxNumberOfMessages=10)
            for message in batch.get("Messages", []):
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=self.world.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if not batch.get("Messages"):
                return bodies

    def deliver(self, payload: str, copies: int, *, concurrent: bool) -> None:
        """SQS at-least-once: `copies` deliveries with distinct ids; a delivery that raises (e.g. the
        duplicate still in progress) comes back later, like after the visibility timeout."""

        def invoke(_: int) -> bool:
            try:
                self.client.lambda_.invoke("sync_account", sqs_event(self.world, payload))
                return True
            except Exception:
                return False

        if concurrent:
            with ThreadPoolExecutor(max_workers=copies) as pool:
                results = list(pool.map(invoke, range(copies)))
            self.report.concurrent_deliveries += copies
        else:
            results = [invoke(n) for n in range(copies)]
        self.report.sqs_deliveries += copies
        self.report.duplicate_deliveries += copies - 1
        for ok in results:
            if not ok:
                self.report.faults["redelivered"] += 1
                invoke(0)
                self.report.sqs_deliveries += 1

    def sync_via_sqs(self) -> None:
        """The real handlers: the schedule's fan-out, then each message two or three times."""
        for payload in self.schedule():
            self.deliver(payload, self.rng.choice([2, 2, 3]), concurrent=self.rng.random() < 0.3)
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

    def settle(self) -> None:
        """No more faults; every employer reconnects; one ordinary scheduled tick."""
        for account_id in self.account_ids():
            if self.state.accounts[account_id]["status"] != "active":
                self.state.set_account_status(account_id, "active")
                self.report.mutations["credentials_regained"] += 1
        for payload in self.schedule():
            self.deliver(payload, 1, concurrent=False)
            self.report.syncs += 1

    def final_clean_sync(self) -> None:
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
            if is_on_board(posting) and not is_poison(posting)
        }

    def expected_view(self, account_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        """What `GET /jobs/{job_id}` must show for a sandbox posting: the fields the board shows."""
        from chalicelib.services.board.shaping import compensation_summary
        from chalicelib.services.mapping import AccountInfo, map_posting

        account = self.state.accounts[account_id]
        info = AccountInfo(
            account_id, account["origin_owner_id"], account["origin_owner_name"], account["provider"]
        )
        department = (raw.get("unified_custom_fields") or {}).get("department")  # the sandbox's truth
        posting = map_posting(json.loads(json.dumps(raw)), info, department)
        return {
            "title": (raw.get("title") or "").strip() or "Untitled position",
            "company": account["origin_owner_name"],
            "department": department,
            "locations": [loc["name"] for loc in raw.get("locations") or [] if loc.get("name")],
            "remote": posting.remote,
            "employment_type": posting.employment_type,
            "contract_type": posting.contract_type,
            "compensation": [c.model_dump(mode="json") for c in posting.compensation],
            "compensation_summary": compensation_summary(posting),
            "content_html": posting.content_html,
            "content_plain": posting.content_plain,
            "questionnaires": [q.model_dump(mode="json") for q in posting.questionnaires],
            "external_url": raw.get("external_url"),
            # No employer in the soak set up Embloy, and every ATS takes native applications.
            "apply": {
                "embloy": False,
                "native": True,
                "external_url": raw.get("external_apply_url") or raw.get("external_url"),
            },
        }

    def compare_every_field(self, phase: str) -> None:
        """The board (a cold process) against the sandbox, posting by posting and field by field."""
        from chalicelib.models.posting import make_job_id

        self.verify()  # the set: nothing lost, nothing stale, nothing duplicated
        mismatches: list[str] = []
        compared = 0
        fields = 0
        for (account_id, posting_id), _title in sorted(self.expected_board().items()):
            raw = self.state.postings[account_id][posting_id]
            expected = self.expected_view(account_id, raw)
            response = self.client.http.get(f"/jobs/{make_job_id(account_id, posting_id)}")
            assert response.status_code == 200, (phase, account_id, posting_id, response.status_code)
            shown = json.loads(response.body)
            compared += 1
            for name, value in expected.items():
                fields += 1
                if shown.get(name) != value:
                    mismatches.append(
                        f"{account_id}/{posting_id}.{name}: board {shown.get(name)!r} != {value!r}"
                    )
        assert not mismatches, f"{phase}: {len(mismatches)} stale fields, e.g. {mismatches[:5]}"
        self.report.comparisons[phase] = (
            f"{compared} postings x {fields // max(compared, 1)} fields, 0 mismatches"
        )

    def check_poison_named(self) -> None:
        """After a full sweep every poison posting of an account is named in its sync state."""
        from chalicelib import deps
        from sandbox.stackone.seed import is_on_board

        named = 0
        for account_id, postings in self.state.postings.items():
            # Only visible ones: a closed posting is never mapped or stored, poison or not.
            poison = sorted(p["id"] for p in postings.values() if is_on_board(p) and is_poison(p))
            if not poison:
                continue
            state = deps.get_sync_state_repository().get(account_id)
            assert state is not None
            listed = {entry.posting_id for entry in state.skipped_postings}
            assert set(poison[:20]) <= listed or len(listed) == 20, (account_id, poison, listed)
            assert state.skipped >= len(poison)
            named += len(poison)
        self.report.poison_named = named

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

    def states_of(self, keys: list[tuple[str, str]]) -> dict[str, Any]:
        """The sync states of the accounts named in a failed check (what the last run of each did)."""
        from chalicelib import deps

        states = deps.get_sync_state_repository().get_many({account_id for account_id, _ in keys})
        fields = (
            "last_outcome",
            "last_mode",
            "last_error",
            "attention_reason",
            "account_status",
            "live_postings",
        )
        return {account_id: {f: getattr(state, f) for f in fields} for account_id, state in states.items()}

    def verify(self) -> None:
        expected = self.expected_board()
        live = self.stored_live()
        keys = [key for key, _, _ in live]
        duplicates = [key for key, n in Counter(keys).items() if n > 1]
        assert not duplicates, f"duplicated on the board: {duplicates}"
        lost = sorted(set(expected) - set(keys))
        stale = sorted(set(keys) - set(expected))
        assert not lost, f"lost (live in the sandbox, not on the board): {lost}; {self.states_of(lost)}"
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
    soak.register_employers()
    soak.sync_direct("full")
    for _ in range(rounds):
        soak.round()
    soak.settle()
    soak.compare_every_field("before")  # ordinary operation alone got the board right
    soak.final_clean_sync()
    soak.compare_every_field("after")
    soak.check_poison_named()
    return soak.report
