"""The StackOne sandbox's in-memory store and knobs (thread-safe; tests may inspect and mutate it)."""

from __future__ import annotations

import copy
import random
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import seed

FAILURE_STATUSES = {400, 401, 403, 404, 408, 409, 412, 422, 429, 500, 501, 502, 503, 504}
DROP = "drop"  # a failure "status" that closes the connection without an answer


class SandboxError(Exception):
    """A bad admin call (unknown account, bad knob value); the admin API answers 400/404 with it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FailureRule:
    """Answer matching requests with `status` (or drop them), `count` times or with `probability`."""

    status: int | str
    count: int | None = None  # None: unlimited (use with probability)
    probability: float | None = None
    account_id: str | None = None  # only requests with this x-account-id
    method: str | None = None
    path_prefix: str | None = None  # e.g. "/unified/ats/job_postings"
    retry_after: int | None = 1  # seconds, sent on 429/408/503
    id: int = 0

    def matches(self, method: str, path: str, account_id: str | None) -> bool:
        if self.account_id and self.account_id != account_id:
            return False
        if self.method and self.method.upper() != method:
            return False
        return not (self.path_prefix and not path.startswith(self.path_prefix))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "count": self.count,
            "probability": self.probability,
            "account_id": self.account_id,
            "method": self.method,
            "path_prefix": self.path_prefix,
            "retry_after": self.retry_after,
        }


@dataclass
class Pagination:
    """Early-cursor behaviour: cap pages at `short_page_size`, and/or answer an empty page (with `next`)
    before every real page. `repeat_cursor`: every page answers `next` = the cursor it was asked with
    (the first page a fixed one), so a client that trusts cursors pages forever (the spec allows any
    string)."""

    short_page_size: int | None = None
    empty_pages: bool = False
    account_id: str | None = None  # None: every account
    repeat_cursor: bool = False

    def applies_to(self, account_id: str) -> bool:
        return self.account_id is None or self.account_id == account_id


@dataclass
class Quirks:
    """Answers the spec allows but a careless client cannot read.

    null_application_id: a create answers 201 with `data.id: null` (the application still exists).
    fractional_session_ids: connect-session ids are numbers with a fraction (the spec types them `number`).
    duplicate_applications_conflict: like ATSs that keep one application per candidate and job, a
    create for a posting that already has an application with the same candidate email
    (case-insensitive) answers 409 `ConflictResponse` and creates nothing.
    """

    null_application_id: bool = False
    fractional_session_ids: bool = False
    duplicate_applications_conflict: bool = False


# Poison postings: real-world data that breaks naive code (see `add_poison_posting`).
POISON_KINDS = ("lone_surrogate", "oversized", "not_an_object")


@dataclass
class ConnectSession:
    id: int
    token: str
    origin_owner_id: str
    origin_owner_name: str
    origin_username: str | None
    categories: list[str]
    provider: str | None
    account_id: str | None
    label: str | None
    metadata: dict[str, Any] | None
    multiple: bool
    type: str
    created_at: datetime
    expires_at: datetime
    used_by_account_id: str | None = None


@dataclass
class Application:
    id: str
    remote_id: str
    account_id: str
    received: dict[str, Any]  # the body exactly as POSTed
    candidate_id: str
    remote_candidate_id: str
    job_id: str | None
    remote_job_id: str | None
    status: str
    created_at: datetime
    updated_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StackOneState:
    """Accounts, postings, sessions, applications and knobs. Every public method takes the lock."""

    api_key: str
    seed_value: int = 42
    public_url: str = "http://127.0.0.1:4010"
    latency_ms: int = 0
    clock: Callable[[], datetime] = _now
    seed_demo_data: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    postings: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # account -> id -> posting
    deleted_postings: dict[str, set[str]] = field(default_factory=dict)
    posting_seq: dict[str, int] = field(default_factory=dict)  # posting id -> insertion order (cursors)
    sessions: dict[str, ConnectSession] = field(default_factory=dict)
    applications: dict[str, Application] = field(default_factory=dict)
    failures: list[FailureRule] = field(default_factory=list)
    pagination: Pagination = field(default_factory=Pagination)
    quirks: Quirks = field(default_factory=Quirks)
    # Raw list items that are not postings (e.g. `null`), served first on every page of the account.
    junk_items: dict[str, list[Any]] = field(default_factory=dict)
    requests_total: int = 0
    requests_by_path: Counter[str] = field(default_factory=Counter)
    requests_by_account: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)
    _failure_rng: random.Random = field(init=False)
    _last_stamp: datetime = field(init=False)
    _next_ids: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.reset(keep_knobs=True)

    # Lifecycle ----------------------------------------------------------------------------------------

    def reset(self, *, keep_knobs: bool = False) -> None:
        """Back to the seeded demo data; knobs and counters are cleared unless `keep_knobs`."""
        with self.lock:
            self._rng = random.Random(self.seed_value)
            self._failure_rng = random.Random(self.seed_value + 1)
            self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
            self.accounts.clear()
            self.postings.clear()
            self.deleted_postings.clear()
            self.posting_seq.clear()
            self.sessions.clear()
            self.applications.clear()
            self._next_ids.clear()
            self.junk_items.clear()
            if not keep_knobs:
                self.latency_ms = 0
                self.failures.clear()
                self.pagination = Pagination()
                self.quirks = Quirks()
            self.reset_counters()
            if self.seed_demo_data:
                for position, employer in enumerate(DEMO_EMPLOYERS):
                    created = seed.SEED_EPOCH - timedelta(days=90) + timedelta(hours=position)
                    self._insert_account(
                        account_id=employer.account_id,
                        provider=employer.provider,
                        origin_owner_id=employer.employer_id,
                        origin_owner_name=employer.name,
                        created_at=created,
                    )
                    for posting in seed.demo_postings(employer, self._rng):
                        self._store_posting(employer.account_id, posting)

    def reset_counters(self) -> None:
        with self.lock:
            self.requests_total = 0
            self.requests_by_path.clear()
            self.requests_by_account.clear()

    def count_request(self, method: str, path_template: str, account_id: str | None) -> None:
        with self.lock:
            self.requests_total += 1
            self.requests_by_path[f"{method} {path_template}"] += 1
            if account_id:
                self.requests_by_account[account_id] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests_total": self.requests_total,
                "by_path": dict(self.requests_by_path),
                "by_account": dict(self.requests_by_account),
                "accounts": len(self.accounts),
                "postings": sum(len(items) for items in self.postings.values()),
                "applications": len(self.applications),
            }

    def stamp(self) -> datetime:
        """Now, but strictly later than the previous stamp (deltas must see every edit)."""
        with self.lock:
            now = self.clock()
            if now <= self._last_stamp:
                now = self._last_stamp + timedelta(milliseconds=1)
            self._last_stamp = now
            return now

    def _sequence(self, name: str) -> int:
        self._next_ids[name] += 1
        return self._next_ids[name]

    # Accounts -----------------------------------------------------------------------------------------

    def _insert_account(
        self,
        *,
        account_id: str,
        provider: str,
        origin_owner_id: str,
        origin_owner_name: str,
        created_at: datetime,
        label: str | None = None,
        origin_username: str | None = None,
        account_type: str = "production",
    ) -> dict[str, Any]:
        account: dict[str, Any] = {
            "id": account_id,
            "provider": provider,
            "provider_name": seed.PROVIDER_NAMES.get(provider, provider.title()),
            "status": "active",
            "status_reasons": [],
            "origin_owner_id": origin_owner_id,
            "origin_owner_name": origin_owner_name,
            "origin_username": origin_username,
            "credentials": {},
            "setup_information": {},
            "label": label,
            "type": account_type,
            "created_at": seed.iso(created_at),
            "updated_at": seed.iso(created_at),
        }
        self.accounts[account_id] = account
        self.postings.setdefault(account_id, {})
        self.deleted_postings.setdefault(account_id, set())
        return account

    def add_account(
        self,
        *,
        origin_owner_id: str,
        origin_owner_name: str,
        provider: str,
        account_id: str | None = None,
        postings: int = 0,
        label: str | None = None,
        origin_username: str | None = None,
    ) -> dict[str, Any]:
        """A new active linked account (optionally with `postings` generated live postings)."""
        with self.lock:
            if account_id is None:
                account_id = f"acc_{provider}_{self._rng.getrandbits(48):012x}"
            if account_id in self.accounts:
                raise SandboxError(f"Account {account_id} already exists.", 409)
            account = self._insert_account(
                account_id=account_id,
                provider=provider,
                origin_owner_id=origin_owner_id,
                origin_owner_name=origin_owner_name,
                created_at=self.stamp(),
                label=label,
                origin_username=origin_username,
            )
            if postings:
                self.generate_postings(account_id, postings)
            return copy.deepcopy(account)

    def generate_accounts(
        self,
        count: int,
        postings_per_account: int,
        *,
        providers: list[str] | None = None,
        prefix: str = "bench",
    ) -> list[dict[str, Any]]:
        """`count` accounts, each with its own owner and `postings_per_account` postings (benchmarks)."""
        providers = providers or ["greenhouse", "ashby", "workday", "lever"]
        created = []
        with self.lock:
            start = self._sequence(f"generated_accounts_{prefix}")
            self._next_ids[f"generated_accounts_{prefix}"] += count - 1
            for n in range(start, start + count):
                provider = providers[n % len(providers)]
                created.append(
                    self.add_account(
                        origin_owner_id=f"emp_{prefix}_{n:04d}",
                        origin_owner_name=f"{prefix.title()} Employer {n}",
                        provider=provider,
                        account_id=f"acc_{prefix}_{provider}_{n:04d}",
                        postings=postings_per_account,
                    )
                )
        return created

    def account(self, account_id: str) -> dict[str, Any]:
        with self.lock:
            if account_id not in self.accounts:
                raise SandboxError(f"No account {account_id}.", 404)
            return self.accounts[account_id]

    def set_account_status(self, account_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            now = self.stamp()
            account["status"] = status
            account["status_reasons"] = (
                [{"code": status, "description": reason, "timestamp": seed.iso(now)}] if reason else []
            )
            account["updated_at"] = seed.iso(now)
            return copy.deepcopy(account)

    def expire_account(self, account_id: str) -> dict[str, Any]:
        """The provider credentials expired: unified calls answer 401 AccountExpiredCredentialsError."""
        return self.set_account_status(
            account_id, "expired", "The provider rejected the stored credentials: they have expired."
        )

    def delete_account(self, account_id: str) -> dict[str, Any]:
        with self.lock:
            account = self.account(account_id)
            del self.accounts[account_id]
            self.postings.pop(account_id, None)
            return account

    # Postings -----------------------------------------------------------------------------------------

    def posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        """A posting by StackOne id or by the provider's remote_id (as StackOne accepts both)."""
        with self.lock:
            items = self.postings.get(account_id, {})
            if posting_id in items:
                return items[posting_id]
            for posting in items.values():
                if posting.get("remote_id") == posting_id:
                    return posting
            raise SandboxError(f"No posting {posting_id} in account {account_id}.", 404)

    def generate_postings(self, account_id: str, count: int) -> list[dict[str, Any]]:
        with self.lock:
            account = self.account(account_id)
            if not 0 < count <= 100_000:
                raise SandboxError("count must be between 1 and 100000.")
            start_index = self._sequence(f"postings_{account_id}")
            self._next_ids[f"postings_{account_id}"] += count - 1
            created = seed.generated_postings(
                self._rng,
                provider=account["provider"],
                company=account["origin_owner_name"],
                count=count,
                start=self.stamp(),
                start_index=start_index,
            )
            now = seed.iso(self.stamp())
            for posting in created:
                posting["updated_at"] = now
                self._store_posting(account_id, posting)
            return created  # the stored objects: callers only read or serialise them

    def add_posting(self, account_id: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """One new generated posting, with `fields` overriding the generated values."""
        with self.lock:
            posting = self.generate_postings(account_id, 1)[0]
            if fields:
                return self.edit_posting(account_id, posting["id"], fields)
            return copy.deepcopy(posting)

    def edit_posting(self, account_id: str, posting_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge `fields` into the posting (top-level keys) and bump `updated_at`."""
        with self.lock:
            posting = self.posting(account_id, posting_id)
            for key, value in fields.items():
                if key in ("id", "created_at", "updated_at"):
                    continue
                posting[key] = copy.deepcopy(value)
            posting["updated_at"] = seed.iso(self.stamp())
            return copy.deepcopy(posting)

    def set_posting_status(self, account_id: str, posting_id: str, status: str) -> dict[str, Any]:
        return self.edit_posting(
            account_id, posting_id, {"status": {"value": status, "source_value": status}}
        )

    def close_posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        return self.set_posting_status(account_id, posting_id, "closed")

    def reopen_posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        return self.set_posting_status(account_id, posting_id, "live")

    def delete_posting(self, account_id: str, posting_id: str) -> None:
        """Gone from listings and gets; deletions never show up in `filter[updated_after]` deltas."""
        with self.lock:
            posting = self.posting(account_id, posting_id)
            del self.postings[account_id][posting["id"]]
            self.deleted_postings[account_id].add(posting["id"])

    def add_poison_posting(self, account_id: str, kind: str) -> dict[str, Any] | None:
        """A posting (or list item) real data has produced and naive code cannot take:

        lone_surrogate: a title with a lone UTF-16 surrogate (valid JSON, not valid Unicode text);
        oversized: a body of ~500 KB (over DynamoDB's 400 KB item limit once stored);
        not_an_object: a `null` among the listed postings.
        Returns the posting (None for not_an_object).
        """
        with self.lock:
            if kind not in POISON_KINDS:
                raise SandboxError(f"kind must be one of {', '.join(POISON_KINDS)}.")
            if kind == "not_an_object":
                self.account(account_id)
                self.junk_items.setdefault(account_id, []).append(None)
                return None
            if kind == "lone_surrogate":
                return self.add_posting(account_id, {"title": "Engineer \ud800 (poison)"})
            body = "<p>" + "All work and no play. " * 23_000 + "</p>"
            return self.add_posting(account_id, {"content": {"html": body, "plain": None, "sections": []}})

    def jobs(self, account_id: str) -> list[dict[str, Any]]:
        """The account's jobs (requisitions), derived from its postings' `job_id` and department."""
        with self.lock:
            self.account(account_id)
            jobs: dict[str, dict[str, Any]] = {}
            for posting in self.postings.get(account_id, {}).values():
                job_id = posting.get("job_id")
                if not job_id or job_id in jobs:
                    continue
                name = (posting.get("unified_custom_fields") or {}).get("department")
                jobs[job_id] = {
                    "id": job_id,
                    "remote_id": posting.get("remote_job_id") or posting.get("remote_job_posting_id"),
                    "title": posting.get("title"),
                    "department_ids": [department_id(account_id, name)] if name else [],
                    "job_status": {"value": "open", "source_value": "Open"},
                }
            return list(jobs.values())

    def departments(self, account_id: str) -> list[dict[str, Any]]:
        with self.lock:
            self.account(account_id)
            names = sorted(
                {
                    name
                    for posting in self.postings.get(account_id, {}).values()
                    if (name := (posting.get("unified_custom_fields") or {}).get("department"))
                }
            )
            return [
                {"id": department_id(account_id, name), "remote_id": name, "name": name} for name in names
            ]

    def _store_posting(self, account_id: str, posting: dict[str, Any]) -> None:
        self.postings[account_id][posting["id"]] = posting
        self.posting_seq[posting["id"]] = self._sequence("posting_seq")

    def list_postings(
        self, account_id: str, updated_after: datetime | None = None, after_seq: int = 0
    ) -> list[tuple[int, dict[str, Any]]]:
        """(sequence, posting) in insertion order after `after_seq`, filtered by `updated_after`.

        Cursors carry the sequence of the last posting returned, so deleting or editing postings while a
        client pages never makes it skip or repeat one.
        """
        with self.lock:
            items = [(self.posting_seq[p["id"]], p) for p in self.postings.get(account_id, {}).values()]
        items = [(seq, p) for seq, p in items if seq > after_seq]
        if updated_after is None:
            return items
        return [(seq, p) for seq, p in items if _parse_iso(p["updated_at"]) > updated_after]

    # Connect sessions ---------------------------------------------------------------------------------

    def create_session(
        self,
        *,
        origin_owner_id: str,
        origin_owner_name: str,
        origin_username: str | None = None,
        categories: list[str] | None = None,
        provider: str | None = None,
        account_id: str | None = None,
        label: str | None = None,
        metadata: dict[str, Any] | None = None,
        multiple: bool = False,
        account_type: str = "production",
        expires_in: float = 1800,
    ) -> ConnectSession:
        with self.lock:
            now = self.clock()
            session = ConnectSession(
                id=self._sequence("sessions"),
                token=secrets.token_urlsafe(32),
                origin_owner_id=origin_owner_id,
                origin_owner_name=origin_owner_name,
                origin_username=origin_username,
                categories=categories or ["ats"],
                provider=provider,
                account_id=account_id,
                label=label,
                metadata=metadata,
                multiple=multiple,
                type=account_type,
                created_at=now,
                expires_at=now + timedelta(seconds=expires_in),
            )
            self.sessions[session.token] = session
            return session

    def session_for_token(self, token: str) -> ConnectSession:
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                raise SandboxError("This link is not valid: the token is unknown.", 404)
            if self.clock() >= session.expires_at:
                raise SandboxError("This link has expired. Ask for a new one.", 410)
            if session.used_by_account_id:
                raise SandboxError("This link was already used to link an account.", 410)
            return session

    def link_account(self, token: str, provider: str | None) -> dict[str, Any]:
        """What the Hub does when the person finishes linking: create (or re-activate) the account."""
        with self.lock:
            session = self.session_for_token(token)
            if session.account_id:
                account = self.account(session.account_id)
                linked = self.set_account_status(account["id"], "active")
                session.used_by_account_id = account["id"]
                return linked
            chosen = session.provider or provider
            if not chosen or chosen not in seed.PROVIDER_NAMES:
                raise SandboxError("Choose one of the listed providers.", 400)
            if not session.multiple:
                for existing in self.accounts.values():
                    if (
                        existing["origin_owner_id"] == session.origin_owner_id
                        and existing["provider"] == chosen
                    ):
                        linked = self.set_account_status(existing["id"], "active")
                        session.used_by_account_id = existing["id"]
                        return linked
            account = self.add_account(
                origin_owner_id=session.origin_owner_id,
                origin_owner_name=session.origin_owner_name,
                provider=chosen,
                label=session.label,
                origin_username=session.origin_username,
                postings=6,
            )
            session.used_by_account_id = account["id"]
            return account

    # Applications -------------------------------------------------------------------------------------

    def record_application(
        self, account_id: str, body: dict[str, Any], posting: dict[str, Any] | None
    ) -> Application:
        with self.lock:
            now = self.stamp()
            account = self.account(account_id)
            remote = (
                str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
                if account["provider"] in ("lever", "ashby")
                else str(self._rng.randint(10_000_000, 99_999_999))
            )
            application = Application(
                id=seed.stackone_id(self._rng),
                remote_id=remote,
                account_id=account_id,
                received=copy.deepcopy(body),
                candidate_id=str(body.get("candidate_id") or seed.stackone_id(self._rng)),
                remote_candidate_id=str(self._rng.randint(10_000_000, 99_999_999)),
                job_id=(posting or {}).get("job_id") or body.get("job_id"),
                remote_job_id=(posting or {}).get("remote_job_id")
                or (posting or {}).get("remote_job_posting_id"),
                status="new",
                created_at=now,
                updated_at=now,
            )
            self.applications[application.id] = application
            return application

    def has_application(self, account_id: str, posting: dict[str, Any], email: str) -> bool:
        """Whether the account already holds an application to the posting (named by its id or its
        remote id) from this email."""
        names = {str(posting.get("id")), str(posting.get("remote_id"))}
        wanted = email.strip().lower()
        with self.lock:
            return any(
                a.account_id == account_id
                and str(a.received.get("job_posting_id")) in names
                and str((a.received.get("candidate") or {}).get("email") or "").strip().lower() == wanted
                for a in self.applications.values()
            )

    def set_application_status(self, application_id: str, status: str) -> Application:
        with self.lock:
            application = self.applications.get(application_id)
            if application is None:
                raise SandboxError(f"No application {application_id}.", 404)
            application.status = status
            application.updated_at = self.stamp()
            return application

    # Knobs --------------------------------------------------------------------------------------------

    def add_failure(self, rule: FailureRule) -> FailureRule:
        if rule.status != DROP and rule.status not in FAILURE_STATUSES:
            raise SandboxError(f"status must be one of {sorted(FAILURE_STATUSES)} or 'drop'.")
        if rule.count is None and rule.probability is None:
            rule.count = 1
        if rule.probability is not None and not 0 <= rule.probability <= 1:
            raise SandboxError("probability must be between 0 and 1.")
        with self.lock:
            rule.id = self._sequence("failures")
            self.failures.append(rule)
        return rule

    def clear_failures(self) -> None:
        with self.lock:
            self.failures.clear()

    def take_failure(self, method: str, path: str, account_id: str | None) -> FailureRule | None:
        """The failure to inject for this request, if any (consumes one use of a counted rule)."""
        with self.lock:
            for rule in list(self.failures):
                if not rule.matches(method, path, account_id):
                    continue
                if rule.probability is not None and self._failure_rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.failures.remove(rule)
                return rule
            return None

    def set_pagination(
        self,
        *,
        short_page_size: int | None = None,
        empty_pages: bool = False,
        account_id: str | None = None,
        repeat_cursor: bool = False,
    ) -> None:
        if short_page_size is not None and short_page_size < 1:
            raise SandboxError("short_page_size must be at least 1.")
        with self.lock:
            self.pagination = Pagination(short_page_size, empty_pages, account_id, repeat_cursor)


def department_id(account_id: str, name: str) -> str:
    """A stable StackOne-style id for an account's department name."""
    import hashlib

    return "dep_" + hashlib.sha256(f"{account_id}\n{name}".encode()).hexdigest()[:16]


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 date-time (Z or offset; naive means UTC); ValueError when it is not one."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
