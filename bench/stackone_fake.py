"""A small in-process StackOne for the sync benchmark: an httpx transport with injected latency.

Serves only what the sync reads (`GET /accounts`, `GET /accounts/{id}`, `GET /unified/ats/job_postings`
with cursor paging) from generated, realistic postings. Used when the StackOne sandbox is not available.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import httpx

_TITLES = ["Backend Engineer", "Data Scientist", "Product Designer", "Site Reliability Engineer",
           "Account Executive", "Nurse Practitioner", "Warehouse Lead", "QA Analyst"]  # fmt: skip
_CITIES = ["Berlin, Germany", "London, United Kingdom", "Remote - EU", "New York, NY", "Lisbon, Portugal"]


def generate_posting(rng: random.Random, account_id: str, index: int) -> dict[str, Any]:
    title = rng.choice(_TITLES)
    paragraphs = "".join(
        f"<p>{title} paragraph {n}: you will build, ship and own meaningful work with a kind team.</p>"
        for n in range(6)
    )
    return {
        "id": f"{account_id}-jp{index:05d}",
        "remote_id": f"r{index}",
        "title": f"{title} {index}",
        "status": {"value": "live", "source_value": "open"},
        "internal": "false",
        "job_id": f"{account_id}-job{index}",
        "remote_job_id": f"rj{index}",
        "locations": [{"id": f"l{index}", "name": rng.choice(_CITIES)}],
        "content": {
            "html": f"<h2>About the role</h2>{paragraphs}<ul><li>Benefit one</li><li>Benefit two</li></ul>",
            "plain": None,
        },
        "employment_type": {"value": "permanent", "source_value": "Permanent"},
        "employment_contract_type": {"value": "full_time", "source_value": "FT"},
        "compensation": [
            {
                "title": "Base salary",
                "type": {"value": "salary"},
                "pay_period": {"value": "year"},
                "currency": "EUR",
                "min_value_range": str(40000 + 1000 * (index % 30)),
                "max_value_range": str(60000 + 1000 * (index % 30)),
            }
        ],
        "questionnaires": [
            {
                "id": f"{account_id}-q{index}",
                "name": "Screening",
                "internal": "false",
                "questions": [
                    {"id": "work_permit", "text": "Do you have a work permit?", "type": {"value": "boolean"},
                     "required": "true"},
                    {"id": "start", "text": "Earliest start date", "type": {"value": "date"},
                     "required": False},
                ],
            }
        ],
        "external_url": f"https://jobs.example/{account_id}/{index}",
        "external_apply_url": f"https://jobs.example/{account_id}/{index}/apply",
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-02T00:00:00.000Z",
    }  # fmt: skip


class LatencyStackOne(httpx.BaseTransport):
    """Answers like StackOne after sleeping `latency_ms` per request; counts requests per account."""

    def __init__(self, *, accounts: int, postings: int, latency_ms: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.latency = latency_ms / 1000
        self.accounts: dict[str, dict[str, Any]] = {}
        self.postings: dict[str, list[dict[str, Any]]] = {}
        for a in range(accounts):
            account_id = f"bench-acc-{a:03d}"
            self.accounts[account_id] = {
                "id": account_id,
                "provider": ["greenhouse", "ashby", "workday", "lever"][a % 4],
                "status": "active",
                "origin_owner_id": f"bench-emp-{a:03d}",
                "origin_owner_name": f"Bench Company {a}",
            }
            self.postings[account_id] = [generate_posting(rng, account_id, i) for i in range(postings)]
        self._lock = threading.Lock()
        self.requests = 0
        # Encoded pages, so serving a page costs this process (the client's) next to nothing, as with a
        # remote StackOne; dropped on every edit.
        self._pages: dict[tuple[str, int, int, str | None], bytes] = {}

    def edit(self, account_id: str, index: int, stamp: str) -> None:
        posting = self.postings[account_id][index]
        posting["title"] = f"{posting['title']} (updated)"
        posting["updated_at"] = stamp
        self._pages.clear()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.latency)
        with self._lock:
            self.requests += 1
        path = request.url.path
        if path == "/accounts":
            return self._json(200, list(self.accounts.values()))
        if path.startswith("/accounts/"):
            account = self.accounts.get(path.rsplit("/", 1)[-1])
            return self._json(200, account) if account else self._json(404, {"statusCode": 404})
        if path == "/unified/ats/job_postings":
            account_id = request.headers.get("x-account-id", "")
            rows = self.postings.get(account_id)
            if rows is None:
                return self._json(404, {"statusCode": 404})
            updated_after = request.url.params.get("filter[updated_after]")
            if updated_after:
                rows = [r for r in rows if r["updated_at"] > updated_after]
            size = int(request.url.params.get("page_size", "25"))
            start = int(request.url.params.get("next") or 0)
            following = start + size
            return self._json(
                200,
                {"data": rows[start:following], "next": str(following) if following < len(rows) else None},
            )
        return self._json(404, {"statusCode": 404})

    @staticmethod
    def _json(status: int, body: Any) -> httpx.Response:
        return httpx.Response(
            status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
