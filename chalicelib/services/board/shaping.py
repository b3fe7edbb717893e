"""Response shapes of the board: the list summary and the full posting, through the response models."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import isoformat
from chalicelib.models.posting import Compensation, Posting

if TYPE_CHECKING:
    from chalicelib.models.responses import CompensationSummary

_PAY_KINDS = ("salary", "hourly")
# Taken from the posting as they are (JobDetail declares them in this order, after the summary's).
_DETAIL_FIELDS = ("content_html", "content_plain", "compensation", "questionnaires", "external_url")
_PERIOD_WORDS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}


def posted_at(posting: Posting) -> datetime | None:
    """When the posting went up: the ATS's created_at, else when the sync first saw it."""
    return posting.created_at or posting.first_seen_at or posting.changed_at


def job_url(public_base_url: str, job_id: str) -> str:
    """The public page of a job on the board's frontend."""
    return f"{public_base_url.rstrip('/')}/jobs/{job_id}"


def _amount(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def pay_element(posting: Posting) -> Compensation | None:
    """The compensation element that best summarises pay: salary or hourly with an amount first."""
    with_amount = [c for c in posting.compensation if c.min is not None or c.max is not None]
    for element in with_amount:
        if (element.kind or "") in _PAY_KINDS:
            return element
    return with_amount[0] if with_amount else None


def _compensation_summary(posting: Posting) -> CompensationSummary | None:
    from chalicelib.models.responses import CompensationSummary  # imported on first use (cold start)

    element = pay_element(posting)
    if element is None:
        shares = [c for c in posting.compensation if c.percent is not None]
        if not shares:
            return None
        share = shares[0]  # only a share of something (a "10%" bonus): say so, as StackOne did
        text = " ".join(part for part in (f"{share.percent:g}%", share.kind) if part)
        return CompensationSummary(
            kind=share.kind, currency=share.currency, min=None, max=None, period=share.period, text=text
        )
    low, high = element.min, element.max
    if low is not None and high is not None and low != high:
        amount = f"{_amount(low)}\u2013{_amount(high)}"  # en dash
    else:
        amount = _amount(low if low is not None else high)  # type: ignore[arg-type]
    text = f"{element.currency} {amount}" if element.currency else amount
    if element.period in _PERIOD_WORDS:
        text = f"{text} / {_PERIOD_WORDS[element.period]}"
    return CompensationSummary(
        kind=element.kind, currency=element.currency, min=low, max=high, period=element.period, text=text
    )


def compensation_summary(posting: Posting) -> dict[str, Any] | None:
    """{"kind", "currency", "min", "max", "period", "text"} of the main pay element, or None."""
    model = _compensation_summary(posting)
    return model.model_dump(mode="json") if model else None


def _summary_fields(posting: Posting, public_base_url: str) -> dict[str, Any]:
    posted = posted_at(posting)
    return {
        "job_id": posting.job_id,
        "title": posting.title,
        "company": posting.company,
        "employer_id": posting.employer_id,
        "provider": posting.provider,
        "department": posting.department,
        "locations": [location.name for location in posting.locations],
        "remote": posting.remote,
        "employment_type": posting.employment_type,
        "contract_type": posting.contract_type,
        "compensation_summary": _compensation_summary(posting),
        "posted_at": isoformat(posted) if posted else None,
        "updated_at": isoformat(posting.updated_at) if posting.updated_at else None,
        "url": job_url(public_base_url, posting.job_id),
    }


def summary(posting: Posting, public_base_url: str) -> dict[str, Any]:
    """What a list shows of a posting (no content), as `JobSummary` puts it on the wire.

    The board dumps it once per posting when the posting enters its index; warm requests reuse the dict.
    """
    from chalicelib.models.responses import JobSummary

    return JobSummary(**_summary_fields(posting, public_base_url)).model_dump(mode="json")


def detail(
    posting: Posting, public_base_url: str, *, apply: dict[str, Any], json_ld: dict[str, Any]
) -> dict[str, Any]:
    """The full posting as `JobDetail`: the summary plus content, pay, questionnaires, apply, JSON-LD."""
    from chalicelib.models.responses import ApplyOptions, JobDetail

    return JobDetail(
        **_summary_fields(posting, public_base_url),
        **{name: getattr(posting, name) for name in _DETAIL_FIELDS},
        apply=ApplyOptions(**apply),
        json_ld=json_ld,
    ).model_dump(mode="json")
