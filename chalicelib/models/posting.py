"""The board's posting model: what the sync stores and the board, feeds and apply flows read."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.errors import NotFoundError

# Whitespace, controls and characters browsers treat specially in an href; real URLs percent-encode them.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\\<>\"`]")


def http_url_or_none(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) URL, else None: `javascript:`, `data:` and relative or
    malformed URLs never leave the API (they would run or mislead as a link's href)."""
    if not value:
        return None
    candidate = value.strip()
    if len(candidate) > 2000 or _UNSAFE_IN_URL.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class Location(_Model):
    """A posting's location as StackOne names it, and where the gazetteer places it (set at sync)."""

    name: str
    lat: float | None = None
    lon: float | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 of the resolved place


class Compensation(_Model):
    """One normalised pay element; amounts are numbers, `period` is StackOne's pay_period value."""

    kind: str | None = None  # salary, hourly, commission, bonus, equity, other
    label: str | None = None
    currency: str | None = None
    min: float | None = None
    max: float | None = None
    period: str | None = None  # hour, day, week, month, year, ...
    percent: float | None = None  # a share ("10%", e.g. a bonus), which is not an amount


class QuestionOption(_Model):
    id: str
    text: str


class QuestionCondition(_Model):
    """Show the question only when `parent_question_id`'s answer equals/contains one of `option_ids`."""

    parent_question_id: str
    option_ids: list[str] = Field(default_factory=list)
    condition: str = "equals_to"


class Question(_Model):
    id: str
    remote_id: str | None = None
    text: str
    description: str | None = None
    # short_text, long_text, attachment, multi_select, single_select, boolean, number, date, url, ...
    type: str
    required: bool = False
    options: list[QuestionOption] = Field(default_factory=list)
    condition: QuestionCondition | None = None


class Questionnaire(_Model):
    id: str
    remote_id: str | None = None
    name: str | None = None
    questions: list[Question] = Field(default_factory=list)


class Posting(_Model):
    """A job posting as the board knows it (mapped from StackOne's JobPosting at sync time)."""

    job_id: str  # the board's stable, URL-safe id: make_job_id(account_id, posting_id)
    account_id: str
    posting_id: str  # StackOne's id of the posting
    remote_id: str | None = None  # the ATS's id of the posting
    stackone_job_id: str | None = None  # StackOne's id of the parent job/requisition
    remote_job_id: str | None = None
    employer_id: str  # the account's origin_owner_id
    company: str  # the account's origin_owner_name
    provider: str
    title: str
    department: str | None = None
    locations: list[Location] = Field(default_factory=list)
    remote: bool = False
    employment_type: str | None = None
    contract_type: str | None = None
    compensation: list[Compensation] = Field(default_factory=list)
    content_html: str = ""  # sanitised at sync time
    content_plain: str = ""
    questionnaires: list[Questionnaire] = Field(default_factory=list)
    external_url: str | None = None
    external_apply_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: Literal["live", "closed"] = "live"
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    changed_at: datetime | None = None
    closed_at: datetime | None = None

    @field_validator("external_url", "external_apply_url", mode="after")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        return http_url_or_none(value)


def make_job_id(account_id: str, posting_id: str) -> str:
    """Stable URL-safe board id that decodes back to its DynamoDB key (one GetItem, no lookup table)."""
    raw = f"{account_id}\n{posting_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_job_id(job_id: str) -> tuple[str, str]:
    """(account_id, posting_id) of a board id; NotFoundError for anything that is not one."""
    if not job_id or len(job_id) > 512:
        raise NotFoundError("No such job.", code="job_not_found")
    try:
        raw = base64.urlsafe_b64decode(job_id + "=" * (-len(job_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise NotFoundError("No such job.", code="job_not_found") from exc
    account_id, sep, posting_id = raw.partition("\n")
    if not sep or not account_id or not posting_id or make_job_id(account_id, posting_id) != job_id:
        raise NotFoundError("No such job.", code="job_not_found")
    return account_id, posting_id
