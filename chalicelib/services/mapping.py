"""StackOne `JobPosting` (a raw dict) -> the board's `Posting`, tolerant of drift and unknown enums.

Everything here is defensive: StackOne's fields are all nullable, were renamed over time
(`remote_job_posting_id` -> `remote_job_id`, compensation `name/min_value/max_value` ->
`title/min_value_range/max_value_range`), `internal` is a string enum that some providers send as a
bool, and every enum is open. A posting that cannot be mapped is skipped by the caller, never fatal.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nh3
import orjson

from chalicelib.models.posting import (
    Compensation,
    Location,
    Posting,
    Question,
    QuestionCondition,
    Questionnaire,
    QuestionOption,
    http_url_or_none,
    make_job_id,
)
from chalicelib.services import pay
from chalicelib.services.board import gazetteer
from chalicelib.services.board.countries import is_remote_name

# Allow-list for posting bodies: structure and emphasis only, no media, forms, scripts or styles.
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_URL_SCHEMES = {"http", "https"}
# Dropped together with their content (not just unwrapped).
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg"}

_REMOTE_LOCATION = re.compile(r"\b(remote|anywhere|work from home|wfh|home[- ]based)\b", re.IGNORECASE)
_REMOTE_TITLE = re.compile(r"\bremote\b", re.IGNORECASE)
_REMOTE_CONTENT = re.compile(
    r"\b(fully remote|100% remote|remote[- ]first|remote[- ]only|work from anywhere)\b", re.IGNORECASE
)

EMPLOYMENT_TYPES = {
    "contractor", "intern", "permanent", "apprentice", "freelance", "terminated", "temporary",
    "seasonal", "volunteer", "probation", "internal", "external", "expatriate", "employer_of_record",
    "casual", "programme",
}  # fmt: skip
CONTRACT_TYPES = {"full_time", "part_time", "shifts"}
COMPENSATION_KINDS = {"salary", "hourly", "commission", "bonus", "equity", "other"}
PAY_PERIODS = {
    "hour", "day", "week", "every_two_weeks", "month", "twice_a_month", "every_two_months",
    "quarter", "every_six_months", "year", "one_off",
}  # fmt: skip
# pay_frequency (how often paid) -> the period the amount refers to, when no pay_period is given.
_PERIOD_BY_FREQUENCY = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "bi_weekly": "every_two_weeks",
    "semi_monthly": "twice_a_month",
    "monthly": "month",
    "four_weekly": "month",
    "bi_monthly": "every_two_months",
    "quarterly": "quarter",
    "semi_annually": "every_six_months",
    "half_yearly": "every_six_months",
    "yearly": "year",
    "thirteen_monthly": "year",
}
QUESTION_TYPES = {
    "short_text", "long_text", "attachment", "multi_select", "single_select", "boolean", "number",
    "date", "video", "reference_check", "url",
}  # fmt: skip


# Bump when the mapping changes what it produces: every posting's source hash changes, so the next sync
# rewrites each posting once with the new mapping.
# 2: links in descriptions are kept only when absolute http(s) (protocol-relative and mailto dropped).
# 3: amounts read by `pay.parse_amount` ("50.000", "1e5", ranges in one string, percentages kept);
#    locations geocoded with the embedded gazetteer.
MAPPING_VERSION = "3"
# The JobPosting fields the mapping reads (both spellings); nothing else can change a mapped posting.
_MAPPED_FIELDS = (
    "id", "remote_id", "title", "locations", "internal", "status", "job_id", "remote_job_id",
    "remote_job_posting_id", "content", "compensation", "employment_type", "employment_contract_type",
    "external_url", "external_apply_url", "questionnaires", "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class AccountInfo:
    """What a posting inherits from its linked account."""

    account_id: str
    employer_id: str  # origin_owner_id
    company: str  # origin_owner_name
    provider: str


class PostingMappingError(ValueError):
    """The raw posting lacks what every posting needs (an id)."""


def _absolute_http_href(tag: str, attribute: str, value: str) -> str | None:
    """Keep an href only when it is an absolute http(s) URL with a host.

    Relative links would resolve against the board's origin (the posting's author never meant them), a
    protocol-relative `//evil.example` or `/\\evil.example` leaves for any host, and `mailto:` and the
    like are not links the board vouches for: the link's text stays, its href goes.
    """
    if attribute != "href":
        return value
    return http_url_or_none(value)


def sanitize_html(raw: str) -> str:
    """Allow-list sanitised HTML: links only to absolute http(s) URLs, with rel="noopener noreferrer"."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_absolute_http_href,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        strip_comments=True,
    ).strip()


_BLOCK_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|hr)\b[^>]*>", re.IGNORECASE)


def html_to_plain(sanitized: str) -> str:
    """Readable plain text of (already sanitised) HTML: block ends become line breaks."""
    text = _BLOCK_BREAK.sub("\n", sanitized)
    text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags=_DROPPED_WITH_CONTENT))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _enum_value(value: Any) -> str | None:
    """`{"value": ..., "source_value": ...}` or a bare string -> lower-case value, None if unmapped."""
    if isinstance(value, dict):
        value = value.get("value")
    text = _text(value)
    if text is None or text.lower() == "unmapped_value":
        return None
    return text.lower()


def _truthy(value: Any) -> bool:
    """StackOne booleans arrive as bools or as "true"/"false"/"unmapped_value" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return False


def _datetime(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _currency(value: Any) -> str | None:
    text = _text(value)
    if text and re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    return None


def map_compensation(raw: dict[str, Any]) -> Compensation | None:
    """One StackOne compensation entry (either spelling) -> a normalised Compensation, or None if empty.

    Amounts are read by `pay.parse_amount` (`"50.000"`, `"85k"`, `"45000 - 55000"`, `"1e5"`, ...); a
    percentage (`"10%"`, a bonus) is kept as `percent`, not as an amount.
    """
    low_read = pay.parse_amount(raw.get("min_value_range", raw.get("min_value")))
    high_read = pay.parse_amount(raw.get("max_value_range", raw.get("max_value")))
    single = pay.parse_amount(raw.get("value"))
    low, high = low_read.low, high_read.high
    if low is None and high is None:
        low, high = single.low, single.high
    if low is not None and high is not None and low > high:
        low, high = high, low
    percent = single.percent if single.percent is not None else low_read.percent or high_read.percent
    kind = _enum_value(raw.get("type"))
    if kind is not None and kind not in COMPENSATION_KINDS:
        kind = "other"
    period = _enum_value(raw.get("pay_period"))
    if period not in PAY_PERIODS:
        period = _PERIOD_BY_FREQUENCY.get(_enum_value(raw.get("pay_frequency")) or "")
    if period is None and kind == "hourly":
        period = "hour"
    label = _text(raw.get("title")) or _text(raw.get("name"))
    currency = _currency(raw.get("currency")) or low_read.currency or high_read.currency or single.currency
    if low is None and high is None and percent is None and label is None and kind is None:
        return None
    return Compensation(
        kind=kind, label=label, currency=currency, min=low, max=high, period=period, percent=percent
    )


def _map_question(raw: dict[str, Any]) -> Question | None:
    question_id = _text(raw.get("id"))
    text = _text(raw.get("text")) or _text(raw.get("name"))
    if question_id is None or text is None:
        return None
    kind = _enum_value(raw.get("type"))
    options = [
        QuestionOption(id=option_id, text=_text(option.get("text")) or option_id)
        for option in raw.get("multiple_choice_answers") or []
        if isinstance(option, dict) and (option_id := _text(option.get("id")))
    ]
    condition = None
    parent = raw.get("parent_question")
    if isinstance(parent, dict) and (parent_id := _text(parent.get("id"))):
        condition = QuestionCondition(
            parent_question_id=parent_id,
            option_ids=[str(i) for i in parent.get("option_ids") or [] if _text(i)],
            condition=_enum_value(parent.get("condition_type")) or "equals_to",
        )
    return Question(
        id=question_id,
        remote_id=_text(raw.get("remote_id")),
        text=text,
        description=_text(raw.get("name")) if _text(raw.get("text")) else None,
        type=kind if kind in QUESTION_TYPES else "unmapped_value",
        required=_truthy(raw.get("required")),
        options=options,
        condition=condition,
    )


def _map_questionnaires(raw: Any) -> list[Questionnaire]:
    questionnaires: list[Questionnaire] = []
    for item in raw or []:
        if not isinstance(item, dict) or _truthy(item.get("internal")):
            continue
        questionnaire_id = _text(item.get("id"))
        if questionnaire_id is None:
            continue
        questions = [
            question
            for question in (_map_question(q) for q in item.get("questions") or [] if isinstance(q, dict))
            if question is not None
        ]
        questionnaires.append(
            Questionnaire(
                id=questionnaire_id,
                remote_id=_text(item.get("remote_id")),
                name=_text(item.get("name")),
                questions=questions,
            )
        )
    return questionnaires


def _content_html(content: dict[str, Any]) -> str:
    """The posting body as HTML: `html`, else the sections, else the escaped plain text."""
    raw_html = _text(content.get("html"))
    if raw_html:
        return raw_html
    sections = [s for s in content.get("sections") or [] if isinstance(s, dict)]
    if sections:
        parts = []
        for section in sections:
            label = _text(section.get("label"))
            body = _text(section.get("content")) or ""
            if label:
                parts.append(f"<h3>{html.escape(label)}</h3>")
            parts.append(body if "<" in body else f"<p>{html.escape(body)}</p>")
        return "".join(parts)
    plain = _text(content.get("plain"))
    if plain:
        return "".join(f"<p>{html.escape(p.strip())}</p>" for p in plain.split("\n\n") if p.strip())
    return ""


def source_hash(raw: dict[str, Any], account: AccountInfo, department: str | None = None) -> str:
    """Hash of everything the mapping reads: equal hashes mean an equal mapped posting.

    Cheap next to mapping (no sanitising, no models), so an unchanged posting is recognised without
    being mapped at all; stored as the posting item's `content_hash`. The department (from the
    posting's job) counts only when there is one, so postings without one keep their earlier hashes.
    """
    document: dict[str, Any] = {
        "v": MAPPING_VERSION,
        "account": [account.account_id, account.employer_id, account.company, account.provider],
        "posting": {name: raw.get(name) for name in _MAPPED_FIELDS},
    }
    if department is not None:
        document["department"] = department
    try:
        # orjson: a sorted-key encoding about four times faster than the standard library's
        encoded = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson can't encode (e.g. integers beyond 64 bits): the standard library
        encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def geocode(name: str) -> Location:
    """A location named `name`, placed by the embedded gazetteer: a city gets its coordinates and
    country, a country or US state its country only; remote work and unknown names stay unplaced."""
    place = gazetteer.lookup(name)
    if place is None:
        return Location(name=name)
    return Location(name=name, lat=place.lat, lon=place.lon, country=place.country)


def is_unplaced(location: Location) -> bool:
    """A location the gazetteer could not place (remote work is no place, so it is not counted)."""
    return location.country is None and not is_remote_name(location.name)


def raw_posting_id(raw: Any) -> str | None:
    """The StackOne id of a raw posting, or None when it has none."""
    return _text(raw.get("id")) if isinstance(raw, dict) else None


def is_visible(raw: dict[str, Any]) -> bool:
    """On the board: `status.value == "live"` and `internal` is not "true"."""
    return _enum_value(raw.get("status")) == "live" and not _truthy(raw.get("internal"))


def map_posting(raw: dict[str, Any], account: AccountInfo, department: str | None = None) -> Posting:
    """Map one StackOne JobPosting. `status` is "live" only when it belongs on the board.

    `department` is the name of the department of the posting's job (postings carry none themselves).

    The sync sets `first_seen_at`/`last_seen_at`/`changed_at`/`closed_at`; they are left empty here.
    Raises PostingMappingError when the posting has no id (nothing to key it on).
    """
    posting_id = _text(raw.get("id"))
    if posting_id is None:
        raise PostingMappingError("posting without an id")
    raw_content = raw.get("content")
    content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
    content_html = sanitize_html(_content_html(content))
    content_plain = html_to_plain(content_html) if content_html else (_text(content.get("plain")) or "")
    locations = [
        geocode(name)
        for item in raw.get("locations") or []
        if isinstance(item, dict) and (name := _text(item.get("name")))
    ]
    title = _text(raw.get("title")) or "Untitled position"
    remote = (
        any(_REMOTE_LOCATION.search(location.name) for location in locations)
        or bool(_REMOTE_TITLE.search(title))
        or bool(_REMOTE_CONTENT.search(content_plain))
    )
    employment_type = _enum_value(raw.get("employment_type"))
    contract_type = _enum_value(raw.get("employment_contract_type"))
    compensation = [
        item
        for item in (map_compensation(c) for c in raw.get("compensation") or [] if isinstance(c, dict))
        if item is not None
    ]
    return Posting(
        job_id=make_job_id(account.account_id, posting_id),
        account_id=account.account_id,
        posting_id=posting_id,
        remote_id=_text(raw.get("remote_id")),
        stackone_job_id=_text(raw.get("job_id")),
        remote_job_id=_text(raw.get("remote_job_id")) or _text(raw.get("remote_job_posting_id")),
        employer_id=account.employer_id,
        company=account.company,
        provider=account.provider,
        title=title,
        department=_text(department),
        locations=locations,
        remote=remote,
        # Unknown (new) enum values are kept as they come, lower-cased; only `unmapped_value` is dropped.
        employment_type=employment_type,
        contract_type=contract_type,
        compensation=compensation,
        content_html=content_html,
        content_plain=content_plain,
        questionnaires=_map_questionnaires(raw.get("questionnaires")),
        external_url=_text(raw.get("external_url")),
        external_apply_url=_text(raw.get("external_apply_url")),
        created_at=_datetime(raw.get("created_at")),
        updated_at=_datetime(raw.get("updated_at")),
        status="live" if is_visible(raw) else "closed",
    )


def department_names(jobs: list[Any], departments: list[Any]) -> dict[str, str]:
    """StackOne job id -> the name of its (first named) department, from raw jobs and departments
    ("" for a job without one, so the job counts as known)."""
    names = {
        department_id: name
        for item in departments
        if isinstance(item, dict)
        and (department_id := _text(item.get("id")))
        and (name := _text(item.get("name")))
    }
    by_job: dict[str, str] = {}
    for job in jobs:
        if not isinstance(job, dict) or (job_id := _text(job.get("id"))) is None:
            continue
        ids = job.get("department_ids")
        by_job[job_id] = ""
        for department_id in ids if isinstance(ids, list) else []:
            name = names.get(_text(department_id) or "")
            if name:
                by_job[job_id] = name
                break
    return by_job
