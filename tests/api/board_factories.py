"""Realistic board postings, stored with the sync's own codec (`posting_to_item`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.aws.posting_items import posting_to_item
from chalicelib.clock import utcnow
from chalicelib.models.posting import (
    Compensation,
    Posting,
    Question,
    Questionnaire,
    QuestionOption,
    make_job_id,
)
from chalicelib.services.mapping import geocode

BASE_TIME = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
_counter = itertools.count(1)

_PROVIDERS = {
    "acc_lever": ("emp_initech", "Initech Software", "lever"),
    "acc_gh": ("emp_acme", "Acme Robotics", "greenhouse"),
}


def make_posting(
    title: str = "Backend Engineer",
    *,
    account_id: str = "acc_gh",
    posting_id: str | None = None,
    company: str | None = None,
    employer_id: str | None = None,
    provider: str | None = None,
    locations: tuple[str, ...] = ("Berlin, Germany",),
    remote: bool = False,
    employment_type: str | None = "permanent",
    contract_type: str | None = "full_time",
    department: str | None = "Engineering",
    content: str = "We build reliable services and run them in the cloud.",
    salary: tuple[float, float, str, str] | None = (60000, 80000, "EUR", "year"),
    posted_days_ago: float = 1.0,
    changed_at: datetime | None = None,
    status: str = "live",
    **extra: Any,
) -> Posting:
    """A posting as the sync would store it (defaults fill what the test does not care about)."""
    default_employer, default_company, default_provider = _PROVIDERS.get(
        account_id, (f"emp_{account_id}", f"Company {account_id}", "workday")
    )
    posting_id = posting_id or f"post_{next(_counter)}"
    posted = BASE_TIME - timedelta(days=posted_days_ago)
    compensation = []
    if salary:
        low, high, currency, period = salary
        compensation.append(
            Compensation(
                kind="salary", label="Base salary", currency=currency, min=low, max=high, period=period
            )
        )
    fields: dict[str, Any] = {
        "external_url": f"https://jobs.example.com/{posting_id}",
        "external_apply_url": f"https://jobs.example.com/{posting_id}/apply",
        **extra,
    }
    return Posting(
        job_id=make_job_id(account_id, posting_id),
        account_id=account_id,
        posting_id=posting_id,
        remote_id=f"r-{posting_id}",
        employer_id=employer_id or default_employer,
        company=company or default_company,
        provider=provider or default_provider,
        title=title,
        department=department,
        locations=[geocode(name) for name in locations],
        remote=remote,
        employment_type=employment_type,
        contract_type=contract_type,
        compensation=compensation,
        content_html=f"<p>{content}</p>",
        content_plain=content,
        questionnaires=[
            Questionnaire(
                id="qn1",
                name="Application",
                questions=[
                    Question(
                        id="q1",
                        text="Do you need a visa?",
                        type="single_select",
                        required=True,
                        options=[QuestionOption(id="o1", text="Yes"), QuestionOption(id="o2", text="No")],
                    )
                ],
            )
        ],
        created_at=posted,
        updated_at=posted,
        first_seen_at=posted,
        last_seen_at=posted,
        changed_at=changed_at or posted,
        status=status,
        **fields,
    )


def put_posting(posting: Posting) -> Posting:
    deps.get_table().put_item(Item=posting_to_item(posting))
    return posting


def put_postings(*postings: Posting) -> list[Posting]:
    with deps.get_table().batch_writer() as batch:
        for posting in postings:
            batch.put_item(Item=posting_to_item(posting))
    return list(postings)


def close_posting(posting: Posting, at: datetime | None = None) -> Posting:
    """What the sync writes when a posting leaves its ATS: status closed, a new changed_at, no GSI1."""
    at = at or utcnow()
    closed = posting.model_copy(update={"status": "closed", "closed_at": at, "changed_at": at})
    deps.get_table().put_item(Item=posting_to_item(closed))
    return closed


def update_posting(posting: Posting, at: datetime | None = None, **changes: Any) -> Posting:
    """A content change as the sync writes it, stamped with the writer's clock (now by default)."""
    at = at or utcnow()
    updated = posting.model_copy(update={**changes, "changed_at": at, "updated_at": at})
    deps.get_table().put_item(Item=posting_to_item(updated))
    return updated


@pytest.fixture(autouse=True)
def board_refreshes_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Import into a test module: the board reads every shard's change feed on every request (no waiting)."""
    monkeypatch.setenv("BOARD_REFRESH_SECONDS", "0")
