"""Server-rendered pages of the reference frontend: the board's first results and a job's page.

The board's data comes from the board service (one search, or one GetItem for a job); Jinja2 renders it
with autoescaping on. JavaScript then enhances the pages (live filters, "load more", the application
form), but everything a search engine or a browser without JavaScript needs is in the HTML: titles, meta
description, canonical URL, Open Graph/Twitter tags, JobPosting JSON-LD, results, filters, pagination.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from chalicelib.clock import Clock, utcnow
from chalicelib.services.board.markup import script_json

PAGE_SIZE = 20
MAX_PAGES_AT_ONCE = 5  # `?page=N` renders N pages at once, up to the API's limit of 100 results
FACET_PREVIEW = 8
DESCRIPTION_LENGTH = 160

FACETS: tuple[tuple[str, str], ...] = (
    ("remote", "Remote"),
    ("employment_type", "Employment type"),
    ("location", "Location"),
    ("company", "Company"),
    ("provider", "Source ATS"),
    ("department", "Department"),
)
# Single-valued filters beyond the facets (pay, date posted, distance): the "More filters" fieldsets.
MORE_FILTERS: tuple[tuple[str, str], ...] = (
    ("posted_within", "Date posted"),
    ("pay_min", "Pay at least"),
    ("pay_currency", "Pay currency"),
    ("shows_pay", "Pay"),
    ("near", "Near"),
    ("radius_km", "Within"),
)
POSTED_WITHIN_LABELS = (
    ("24h", "Past 24 hours"),
    ("3d", "Past 3 days"),
    ("7d", "Past week"),
    ("30d", "Past month"),
)
RADII_KM = (10, 25, 50, 100, 200, 500)
FILTER_NAMES = tuple(name for name, _ in FACETS) + tuple(name for name, _ in MORE_FILTERS)
_LABELS = dict(FACETS) | dict(MORE_FILTERS)
SORTS = (("", "Default"), ("newest", "Newest first"), ("relevance", "Best match"))


@functools.cache
def environment() -> Any:
    """The Jinja2 environment over the page templates (autoescaped; loaded on first render)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from chalicelib.api.frontend import STATIC_DIR

    class Unindented(FileSystemLoader):
        """Templates without their source indentation: the same page, lighter (no <pre> in templates)."""

        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            return re.sub(r"\n[ \t]+", "\n", source), filename, uptodate

    return Environment(
        loader=Unindented(STATIC_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
    )


def render(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))


# ---- small formatters (the same wording as assets/api.js) ---------------------------------------------
def humanize(value: str | None) -> str:
    """ "full_time" -> "Full time"."""
    if not value:
        return ""
    text = re.sub(r"[_-]+", " ", str(value)).strip()
    return text[:1].upper() + text[1:]


def facet_label(name: str, value: str) -> str:
    if name == "posted_within":
        return dict(POSTED_WITHIN_LABELS).get(value, value)
    if name == "shows_pay":
        return {"true": "Shows pay", "false": "Does not show pay"}.get(value, value)
    if name == "radius_km":
        return f"{value} km"
    if name == "remote":
        return {"true": "Remote", "false": "On-site"}.get(value, humanize(value))
    if name in ("employment_type", "provider"):
        return humanize(value)
    return value


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short_date(moment: datetime) -> str:
    return f"{moment.strftime('%b')} {moment.day}, {moment.year}"


def relative_date(value: str | None, now: datetime) -> str:
    """ "today", "yesterday", "3 days ago", "2 weeks ago", or "on Nov 1, 2026" past a month."""
    moment = _parse_time(value)
    if moment is None:
        return ""
    days = (now.astimezone(UTC).date() - moment.astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    if days < 31:
        weeks = days // 7
        return "1 week ago" if weeks == 1 else f"{weeks} weeks ago"
    return f"on {short_date(moment.astimezone(UTC))}"


def pay_text(pay: Mapping[str, Any] | None) -> str:
    if not pay:
        return ""
    if isinstance(pay.get("text"), str) and pay["text"]:
        return str(pay["text"])
    low, high = pay.get("min"), pay.get("max")

    def amount(value: float) -> str:
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"

    if low is not None and high is not None and low != high:
        text = f"{amount(low)}\u2013{amount(high)}"
    elif low is not None:
        text = amount(low)
    elif high is not None:
        text = amount(high)
    elif isinstance(pay.get("percent"), int | float):
        return f"{pay['percent']:g}%"  # a share (a bonus), not an amount
    else:
        return str(pay.get("label") or "")
    if pay.get("currency"):
        text = f"{pay['currency']} {text}"
    if pay.get("period"):
        text = f"{text} / {pay['period']}"
    return text


def json_for_script(document: Any) -> Markup:
    """JSON that is safe inside a <script> element: no "</script>", "<!--" or "]]>" can form."""
    return Markup(script_json(document))  # noqa: S704 - script_json escapes every character that could end it


def meta_description(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """The first `limit` characters of plain text, cut at a word, whitespace collapsed."""
    collapsed = " ".join(text.split())
    if len(collapsed) <= limit:
        return collapsed
    cut = collapsed[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}\u2026"


def job_card(summary: Mapping[str, Any], *, base: str, now: datetime) -> dict[str, Any]:
    """What a result shows of a posting (the same fields the board's script renders)."""
    from urllib.parse import quote

    posted = summary.get("posted_at")
    moment = _parse_time(posted)
    return {
        "job_id": summary["job_id"],
        "url": f"{base}/board/jobs/{quote(str(summary['job_id']), safe='')}",
        "title": summary.get("title") or "Untitled role",
        "company": summary.get("company") or "",
        "locations": " · ".join(str(name) for name in summary.get("locations") or [] if name),
        "remote": summary.get("remote") is True,
        "employment_type": humanize(summary.get("employment_type")),
        "department": summary.get("department") or "",
        "pay": pay_text(summary.get("compensation_summary")),
        "posted_iso": posted or "",
        "posted_text": relative_date(posted, now),
        "posted_date": short_date(moment) if moment else "",
    }


# ---- the board page ---------------------------------------------------------------------------------
def _valid_radius(value: str) -> bool:
    from chalicelib.services.board.query import MAX_RADIUS_KM, MIN_RADIUS_KM

    return value.isascii() and value.isdigit() and MIN_RADIUS_KM <= int(value) <= MAX_RADIUS_KM


def board_state(params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The board's URL state: words, sort, filters (in FACETS order), page, cursor."""
    filters = {
        name: [value for value in params.get(name, ()) if value.strip()]
        for name in FILTER_NAMES
        if any(value.strip() for value in params.get(name, ()))
    }
    for name, _ in MORE_FILTERS:  # single-valued: the first value, as a form sends it
        if name in filters:
            filters[name] = filters[name][:1]
    if "near" not in filters and _valid_radius(filters.get("radius_km", ["50"])[0]):
        # A radius says nothing without a place (an invalid one stays, so the page answers 400 as
        # `GET /jobs` does).
        filters.pop("radius_km", None)
    sort = next(iter(params.get("sort", ())), "")
    raw_page = next(iter(params.get("page", ())), "1")
    # ASCII digits only ("¹" passes str.isdigit() but not int()); a long number is simply the most.
    digits = raw_page.isascii() and raw_page.isdigit()
    page = (int(raw_page) if len(raw_page) <= 3 else MAX_PAGES_AT_ONCE) if digits else 1
    return {
        "q": next(iter(params.get("q", ())), "").strip(),
        "sort": sort if sort in ("newest", "relevance") else "",
        "filters": filters,
        "page": min(max(page, 1), MAX_PAGES_AT_ONCE),
        "cursor": next(iter(params.get("cursor", ())), ""),
    }


def state_query(state: Mapping[str, Any], **changes: Any) -> list[tuple[str, str]]:
    merged = {**state, **changes}
    pairs: list[tuple[str, str]] = []
    if merged.get("q"):
        pairs.append(("q", merged["q"]))
    if merged.get("sort"):
        pairs.append(("sort", merged["sort"]))
    for name in FILTER_NAMES:
        pairs.extend((name, value) for value in merged["filters"].get(name, []))
    if merged.get("page", 1) > 1:
        pairs.append(("page", str(merged["page"])))
    if merged.get("cursor"):
        pairs.append(("cursor", merged["cursor"]))
    return pairs


def board_url(base: str, state: Mapping[str, Any], **changes: Any) -> str:
    query = urlencode(state_query(state, **changes))
    return f"{base}/board" + (f"?{query}" if query else "")


def api_params(state: Mapping[str, Any]) -> dict[str, list[str]]:
    """The `GET /jobs` parameters for the page's first render."""
    params: dict[str, list[str]] = {}
    for name, value in state_query(state, page=1):
        params.setdefault(name, []).append(value)
    params["limit"] = [str(PAGE_SIZE * (1 if state["cursor"] else state["page"]))]
    return params


def _facet_views(facets: Mapping[str, Any], state: Mapping[str, Any]) -> list[dict[str, Any]]:
    views = []
    for name, label in FACETS:
        selected = set(state["filters"].get(name, []))
        raw = facets.get(name) or {}
        entries = [(str(value), int(count)) for value, count in raw.items()]
        known = {value for value, _ in entries}
        entries += [(value, 0) for value in selected if value not in known]
        if not entries:
            continue
        entries.sort(key=lambda item: (-item[1], item[0]))
        items = [
            {
                "id": f"facet-{name}-{index}",
                "value": value,
                "label": facet_label(name, value),
                "count": count,
                "checked": value in selected,
            }
            for index, (value, count) in enumerate(entries)
        ]
        preview = len(items) <= FACET_PREVIEW + 2
        shown = items if preview else [i for n, i in enumerate(items) if n < FACET_PREVIEW or i["checked"]]
        more = [] if preview else [i for n, i in enumerate(items) if n >= FACET_PREVIEW and not i["checked"]]
        views.append({"name": name, "label": label, "values": shown, "more": more})
    return views


def _more_filters(facets: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """The pay, date-posted and distance fields of the filters form, with the date buckets' counts."""
    chosen = {name: (state["filters"].get(name) or [""])[0] for name, _ in MORE_FILTERS}
    counts = facets.get("posted_within") or {}
    posted: list[dict[str, Any]] = [
        {"value": "", "label": "Any time", "count": None, "checked": not chosen["posted_within"]}
    ]
    posted += [
        {
            "value": value,
            "label": label,
            "count": int(counts.get(value, 0)),
            "checked": chosen["posted_within"] == value,
        }
        for value, label in POSTED_WITHIN_LABELS
    ]
    radius = chosen["radius_km"] or "50"
    return {
        "posted": posted,
        "pay_min": chosen["pay_min"],
        "pay_currency": chosen["pay_currency"],
        "shows_pay": chosen["shows_pay"] == "true",
        "near": chosen["near"],
        "radii": [{"value": str(km), "selected": str(km) == radius} for km in RADII_KM],
    }


def count_text(total: int) -> str:
    return "1 job" if total == 1 else f"{total:,} jobs"


def board_context(
    state: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    *,
    base: str,
    public_url: str,
    error: str | None = None,
    error_code: str = "",
    clock: Clock = utcnow,
) -> dict[str, Any]:
    """The board template's context from the URL state and a `GET /jobs` body (None after an error)."""
    now = clock()
    jobs = [job_card(summary, base=base, now=now) for summary in (body or {}).get("data", [])]
    total = int((body or {}).get("total") or 0)
    next_cursor = (body or {}).get("next_cursor") or ""
    active = [(name, value) for name in FILTER_NAMES for value in state["filters"].get(name, [])]
    chips = []
    for name, value in active:
        remaining = {**state["filters"], name: [v for v in state["filters"][name] if v != value]}
        label = facet_label(name, value)
        if name not in ("remote", "posted_within", "shows_pay"):
            label = f"{_LABELS[name]}: {label}"
        chips.append(
            {
                "name": name,
                "value": value,
                "label": label,
                "url": board_url(base, state, filters=remaining, page=1, cursor=""),
            }
        )
    if error:
        status = error
    elif body is not None and not jobs:
        status = "No jobs match. Try fewer words or filters."
    else:
        status = count_text(total)
    unfiltered = not state["q"] and not active and not state["cursor"] and state["page"] == 1
    return {
        "section": "jobs",
        "q": state["q"],
        "sort": state["sort"],
        "sorts": SORTS,
        "active": active,
        "chips": chips,
        "facets": _facet_views((body or {}).get("facets") or {}, state),
        "more": _more_filters((body or {}).get("facets") or {}, state),
        "jobs": jobs,
        "status_text": status,
        "show_text": f"Show {count_text(total)}" if body is not None else "Show jobs",
        "error": {"retry_url": board_url(base, state), "code": error_code} if error else None,
        "page": state["page"] if not state["cursor"] else 1,
        "next_cursor": next_cursor,
        "next_url": board_url(base, state, cursor=next_cursor, page=1) if next_cursor else "",
        "first_url": board_url(base, state, cursor="", page=1) if state["cursor"] else "",
        "clear_url": board_url(base, state, filters={}, page=1, cursor=""),
        "canonical": public_url if unfiltered else "",
        "public_url": public_url,
        "description": "Open jobs from many employers in one place: search by title, company, "
        "location and more, and apply in a few clicks.",
    }


# ---- the job page -----------------------------------------------------------------------------------
_NOTICES = {
    "applied": "Your application through Embloy was sent.",
    "cancelled": "You left Embloy without applying. You can apply below.",
}


def job_context(
    job: Mapping[str, Any],
    *,
    base: str,
    params: Mapping[str, Sequence[str]],
    similar: Sequence[Mapping[str, Any]] = (),
    clock: Clock = utcnow,
) -> dict[str, Any]:
    """The job template's context from a `GET /jobs/{job_id}` body (and its similar postings)."""
    from urllib.parse import quote

    now = clock()
    card = job_card(job, base=base, now=now)
    apply = job.get("apply") or {}
    external = apply.get("external_url") or ""
    if not re.match(r"^https?://", external, flags=re.IGNORECASE):
        external = ""
    pay_items = []
    for element in job.get("compensation") or []:
        text = pay_text(element)
        if text:
            label = element.get("label") or humanize(element.get("kind"))
            pay_items.append({"label": "" if label == text else label, "text": text})
    if not pay_items and job.get("compensation_summary"):
        pay_items.append({"label": "", "text": pay_text(job["compensation_summary"])})
    if len(pay_items) == 1 and pay_items[0]["text"] == card["pay"]:
        pay_items = []  # the header already says it
    html = job.get("content_html") or ""
    if html.strip():
        content = Markup(html)  # noqa: S704 - sanitised at sync time (nh3); the page's CSP forbids inline script
    else:
        plain = job.get("content_plain") or "No description provided."
        content = Markup('<p class="plain">{}</p>').format(plain)
    plain_text = job.get("content_plain") or re.sub(r"<[^>]+>", " ", html)
    notice = ""
    if "applied" in params:
        notice = _NOTICES["applied"]
    elif "cancelled" in params:
        notice = _NOTICES["cancelled"]
    job_id = str(job["job_id"])
    return {
        "section": "jobs",
        "job": card,
        "pay_items": pay_items,
        "content": content,
        "description": meta_description(f"{job['company']}: {plain_text}" if plain_text else job["title"]),
        "canonical": job["url"],
        "json_ld": json_for_script(job.get("json_ld") or {}),
        "apply": {"embloy": apply.get("embloy") is True, "native": apply.get("native") is True},
        "can_apply": apply.get("embloy") is True or apply.get("native") is True or bool(external),
        "external_url": external,
        "embloy_url": f"{base}/jobs/{quote(job_id, safe='')}/apply/embloy",
        "notice": notice,
        "similar": [job_card(summary, base=base, now=now) for summary in similar],
        "job_data": json_for_script(
            {
                "job_id": job_id,
                "title": job["title"],
                "company": job["company"],
                "questionnaires": job.get("questionnaires") or [],
                "apply": apply,
            }
        ),
    }


def missing_context(
    state: str, *, base: str, title: str | None = None, company: str | None = None
) -> dict[str, Any]:
    """The "no such job" (404) and "no longer open" (410) pages."""
    if state == "closed":
        heading = "This job is no longer open"
        lines = [
            f"{title} at {company} has closed and no longer takes applications."
            if title and company
            else "The employer has closed this job; it no longer takes applications.",
            "Search for similar jobs below, or browse everything that is open now.",
        ]
    else:
        heading = "We couldn't find that job"
        lines = [
            "The link may be mistyped, or the job was removed.",
            "Search for jobs below, or browse everything that is open now.",
        ]
    company_url = f"{base}/board?{urlencode([('company', company)])}" if company else ""
    return {
        "section": "jobs",
        "heading": heading,
        "lines": lines,
        "company": company or "",
        "company_url": company_url,
        "retry_url": "",
    }


def error_context(*, base: str, retry_url: str) -> dict[str, Any]:
    """A page for when the board cannot answer right now (5xx): say so and offer a retry."""
    return {
        "section": "jobs",
        "heading": "This page is not available right now",
        "lines": ["The job board could not load it. This is usually brief: please try again in a moment."],
        "company": "",
        "company_url": "",
        "retry_url": retry_url,
    }
