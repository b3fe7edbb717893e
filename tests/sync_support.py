"""Shared test support for the sync area: a respx StackOne stub and a DynamoDB write counter."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

BASE = "https://api.stackone.test"


def raw_posting(posting_id: str, *, title: str | None = None, status: str = "live") -> dict[str, Any]:
    return {
        "id": posting_id,
        "remote_id": f"r-{posting_id}",
        "title": title or f"Job {posting_id}",
        "status": {"value": status},
        "internal": "false",
        "locations": [{"name": "Berlin"}],
        "content": {"html": f"<p>About {posting_id}</p>"},
        "updated_at": "2026-02-01T00:00:00.000Z",
    }


@dataclass
class StackOneStub:
    """Routes a respx router like StackOne: accounts, paged postings (x-account-id), single postings."""

    router: respx.MockRouter
    page_size: int = 100
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    postings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status_for_account: dict[str, int] = field(default_factory=dict)  # forced error status per account
    jobs: list[dict[str, Any]] = field(default_factory=list)  # every account's jobs (id, department_ids)
    departments: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.router.get("/accounts").mock(side_effect=self._list_accounts)
        self.router.get(url__regex=r"/accounts/(?P<account_id>[^/]+)$").mock(side_effect=self._get_account)
        self.router.get("/unified/ats/job_postings").mock(side_effect=self._list_postings)
        self.router.get(url__regex=r"/unified/ats/job_postings/(?P<posting_id>[^/?]+)").mock(
            side_effect=self._get_posting
        )
        self.router.get("/unified/ats/jobs").mock(
            side_effect=lambda request: httpx.Response(200, json={"data": self.jobs, "next": None})
        )
        self.router.get("/unified/ats/departments").mock(
            side_effect=lambda request: httpx.Response(200, json={"data": self.departments, "next": None})
        )

    def add_account(
        self,
        account_id: str,
        postings: int = 0,
        *,
        status: str = "active",
        provider: str = "greenhouse",
        register_owner: bool = True,
    ) -> None:
        """A linked account; its owner becomes a registered employer (only those are synced) unless
        `register_owner` is False."""
        self.accounts[account_id] = {
            "id": account_id,
            "provider": provider,
            "status": status,
            "origin_owner_id": f"emp-{account_id}",
            "origin_owner_name": f"Company {account_id}",
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
        }
        self.postings[account_id] = [raw_posting(f"{account_id}-p{i}") for i in range(postings)]
        if register_owner:
            register_employer(f"emp-{account_id}", f"Company {account_id}")

    def calls(self, path_prefix: str) -> int:
        return sum(1 for call in self.router.calls if call.request.url.path.startswith(path_prefix))

    def _error(self, account_id: str) -> httpx.Response | None:
        status = self.status_for_account.get(account_id)
        if status:
            return httpx.Response(status, json={"statusCode": status, "message": "nope"})
        return None

    def _list_accounts(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=list(self.accounts.values()))

    def _get_account(self, request: httpx.Request, account_id: str) -> httpx.Response:
        if account_id not in self.accounts:
            return httpx.Response(404, json={"statusCode": 404, "message": "not found"})
        return httpx.Response(200, json=self.accounts[account_id])

    def _list_postings(self, request: httpx.Request) -> httpx.Response:
        account_id = request.headers.get("x-account-id", "")
        error = self._error(account_id)
        if error is not None:
            return error
        start = int(request.url.params.get("next") or 0)
        rows = self.postings.get(account_id, [])
        chunk = rows[start : start + self.page_size]
        following = start + self.page_size
        return httpx.Response(
            200, json={"data": chunk, "next": str(following) if following < len(rows) else None}
        )

    def _get_posting(self, request: httpx.Request, posting_id: str) -> httpx.Response:
        account_id = request.headers.get("x-account-id", "")
        error = self._error(account_id)
        if error is not None:
            return error
        for row in self.postings.get(account_id, []):
            if row["id"] == posting_id:
                return httpx.Response(200, json={"data": row})
        return httpx.Response(404, json={"statusCode": 404, "message": "not found"})


def register_employer(employer_id: str, name: str) -> None:
    """Register an employer in the (moto) table, as `python -m chalicelib.cli employers create` does."""
    from datetime import UTC, datetime

    import boto3

    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
    from chalicelib.errors import ConflictError
    from chalicelib.services.employers import Employer
    from chalicelib.settings import get_settings

    # Its own boto3 resource: the app's clients are built later, after tests register their hooks.
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    with contextlib.suppress(ConflictError):
        DynamoDBEmployersRepository(table).put_employer(
            Employer(employer_id=employer_id, name=name, created_at=datetime.now(UTC))
        )


def stackone_stub() -> Generator[StackOneStub]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield StackOneStub(router)


@dataclass
class WriteCounter:
    """Counts DynamoDB write requests and items (BatchWriteItem, PutItem, UpdateItem) by table."""

    requests: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    rate_budget_writes: int = 0

    def register(self, session: Any) -> None:
        for operation in ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"):
            session.events.register(f"provide-client-params.dynamodb.{operation}", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if str((params.get("Key") or {}).get("PK", "")).startswith("RATE#"):
            self.rate_budget_writes += 1  # the shared StackOne request budget, not the sync's data
            return
        if model.name == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                self._add(table, len(requests))
        else:
            self._add(str(params.get("TableName")), 1)

    def _add(self, table: str, items: int) -> None:
        self.requests[table] = self.requests.get(table, 0) + 1
        self.items[table] = self.items.get(table, 0) + items

    def posting_items(self, table_name: str) -> int:
        """Items written to the application table, sync-state puts excluded (counted by the caller)."""
        return self.items.get(table_name, 0)


def sqs_event(bodies: list[dict[str, Any]], message_ids: list[str]) -> dict[str, Any]:
    """An SQS event whose records carry distinct messageIds (chalice's generator repeats one id)."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"rh-{message_id}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:job-board-sync",
                "awsRegion": "eu-central-1",
            }
            for body, message_id in zip(bodies, message_ids, strict=True)
        ]
    }
