"""Deterministic, realistic demo postings in StackOne's unified JobPosting shape.

Everything is derived from one `random.Random(seed)`, so the same seed gives the same ids and content.
The demo employers get hand-shaped postings that cover what the board must cope with: both field
spellings StackOne used over time, HTML with sections (one with a `<script>` and an `onclick`, to prove
sanitising downstream), every questionnaire question type incl. a conditional one, and postings that must
never reach the board (draft, closed, internal).
"""

from __future__ import annotations

import base64
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.demo_employers import DEMO_EMPLOYERS, DemoEmployer

# The fixed instant the seeded timestamps are relative to (deterministic output for a given seed).
SEED_EPOCH = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

PROVIDER_NAMES = {
    "greenhouse": "Greenhouse",
    "ashby": "Ashby",
    "workday": "Workday",
    "lever": "Lever",
    "smartrecruiters": "SmartRecruiters",
    "workable": "Workable",
    "teamtailor": "Teamtailor",
    "bamboohr": "BambooHR",
}

ALL_QUESTION_TYPES = (
    "short_text",
    "long_text",
    "single_select",
    "multi_select",
    "boolean",
    "number",
    "date",
    "url",
    "attachment",
)

_TITLES = (
    ("Senior Backend Engineer (Python)", "Engineering"),
    ("Frontend Engineer, React", "Engineering"),
    ("Site Reliability Engineer", "Engineering"),
    ("Data Engineer", "Data"),
    ("Machine Learning Engineer", "Data"),
    ("Product Designer", "Design"),
    ("Product Manager, Platform", "Product"),
    ("Customer Success Manager", "Customer Success"),
    ("Account Executive, DACH", "Sales"),
    ("Technical Recruiter", "People"),
    ("Financial Controller", "Finance"),
    ("Warehouse Operations Lead", "Operations"),
    ("Registered Nurse, Night Shift", "Clinical"),
    ("Embedded Software Engineer", "Hardware"),
    ("QA Automation Engineer", "Engineering"),
    ("Marketing Manager, Growth", "Marketing"),
    ("Security Engineer", "Security"),
    ("Engineering Manager", "Engineering"),
    ("Support Engineer (Tier 2)", "Support"),
    ("Legal Counsel", "Legal"),
)

_LOCATIONS = (
    "Remote",
    "Remote - EU",
    "Remote - US",
    "Berlin, Germany",
    "London, United Kingdom",
    "New York, NY",
    "San Francisco, CA",
    "Amsterdam, Netherlands",
    "Munich, Germany",
    "Paris, France",
    "Toronto, Canada",
    "Lisbon, Portugal",
)

# (value, source_value) pairs as different ATSs report them.
_EMPLOYMENT_TYPES = (
    ("permanent", "Full-time Permanent"),
    ("contractor", "Contract"),
    ("intern", "Internship"),
    ("temporary", "Fixed term"),
    ("permanent", "Regular"),
)
_CONTRACT_TYPES = (("full_time", "FullTime"), ("part_time", "PartTime"), ("shifts", "Shift work"))
_CURRENCIES = {"greenhouse": "USD", "ashby": "EUR", "workday": "USD", "lever": "GBP"}


_ID_SAFE = str.maketrans("-_", "Xq")  # keep ids alphanumeric


def stackone_id(rng: random.Random) -> str:
    """A StackOne-style synthetic id (the docs say they are prefixed `c28xIQ`)."""
    raw = base64.urlsafe_b64encode(rng.getrandbits(120).to_bytes(15, "big")).decode()
    return "c28xIQ" + raw.translate(_ID_SAFE)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def remote_posting_id(provider: str, rng: random.Random) -> str:
    """The ATS's own posting id, shaped like that ATS's ids (Lever and Ashby use UUIDs)."""
    if provider in ("lever", "ashby"):
        return _uuid(rng)
    if provider == "greenhouse":
        return str(rng.randint(4_000_000_000, 4_999_999_999))
    if provider == "workday":
        return rng.getrandbits(128).to_bytes(16, "big").hex()
    return str(rng.randint(100_000, 999_999))


def remote_job_id(provider: str, rng: random.Random) -> str:
    if provider == "greenhouse":
        return str(rng.randint(4_000_000, 4_999_999))
    if provider == "workday":
        return f"JR-{rng.randint(10_000, 99_999)}"
    if provider in ("lever", "ashby"):
        return _uuid(rng)
    return str(rng.randint(1000, 9999))


def iso(moment: datetime) -> str:
    """StackOne's timestamp format: UTC with milliseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _enum(value: str, source: Any) -> dict[str, Any]:
    return {"value": value, "source_value": source}


def _content(title: str, company: str, location: str, *, unsafe: bool) -> dict[str, Any]:
    about = f"{company} builds products used by thousands of teams. We are hiring a {title} in {location}."
    responsibilities = [
        "Own features end to end, from design to production",
        "Work closely with product, design and support",
        "Review code and mentor colleagues",
    ]
    skills = ["3+ years of relevant experience", "Clear written communication", "Curiosity and ownership"]
    benefits = ["30 days of paid leave", "Learning budget", "Flexible hours"]
    html_parts = [
        f"<h2>About {company}</h2><p>{about}</p>",
        "<h3>What you will do</h3><ul>" + "".join(f"<li>{item}</li>" for item in responsibilities) + "</ul>",
        "<h3>What you bring</h3><ul>" + "".join(f"<li>{item}</li>" for item in skills) + "</ul>",
        "<h3>Benefits</h3><ul>" + "".join(f"<li>{item}</li>" for item in benefits) + "</ul>",
    ]
    if unsafe:
        # Deliberately hostile markup: the board must sanitise this before storing or serving it.
        html_parts.append(
            '<p onclick="alert(\'owned\')">Apply today!</p><script>document.cookie="stolen"</script>'
            '<a href="javascript:alert(1)">More</a>'
        )
    sections = [
        {
            "id": "s1",
            "remote_id": "overview",
            "type": _enum("company_overview", "about"),
            "label": f"About {company}",
            "content": about,
        },
        {
            "id": "s2",
            "remote_id": "responsibilities",
            "type": _enum("responsibilities", "key_responsibilities"),
            "label": "What you will do",
            "content": "\n".join(responsibilities),
        },
        {
            "id": "s3",
            "remote_id": "skills",
            "type": _enum("skills", "requirements"),
            "label": "What you bring",
            "content": "\n".join(skills),
        },
        {
            "id": "s4",
            "remote_id": "benefits",
            "type": _enum("benefits", "perks"),
            "label": "Benefits",
            "content": "\n".join(benefits),
        },
    ]
    plain = "\n\n".join([about, *responsibilities, *skills, *benefits])
    return {"plain": plain, "html": "".join(html_parts), "sections": sections}


def _compensation(rng: random.Random, provider: str, *, legacy: bool, hourly: bool) -> list[dict[str, Any]]:
    currency = _CURRENCIES.get(provider, "USD")
    if hourly:
        low = rng.randint(25, 40)
        high = low + rng.randint(5, 20)
        period, frequency, kind = "hour", "hourly", "hourly"
    else:
        low = rng.randrange(45_000, 120_000, 5_000)
        high = low + rng.randrange(10_000, 40_000, 5_000)
        period, frequency, kind = "year", "yearly", "salary"
    if legacy:
        # The spelling older StackOne specs used: name / min_value / max_value.
        base: dict[str, Any] = {
            "name": "Base salary",
            "type": _enum(kind, kind.title()),
            "pay_period": _enum(period, period.title()),
            "currency": currency,
            "min_value": str(low),
            "max_value": str(high),
        }
    else:
        base = {
            "title": "Base salary",
            "type": _enum(kind, kind.title()),
            "pay_period": _enum(period, period.title()),
            "pay_frequency": _enum(frequency, frequency.title()),
            "currency": currency,
            "min_value_range": str(low),
            "max_value_range": str(high),
        }
    items = [base]
    if not hourly and rng.random() < 0.4:
        items.append(
            {
                "title": "Annual bonus",
                "type": _enum("bonus", "Bonus"),
                "pay_frequency": _enum("yearly", "Yearly"),
                "currency": currency,
                "value": "10%",
            }
        )
    return items


def _question(
    qid: str,
    qtype: str,
    text: str,
    *,
    required: bool | str,
    options: list[tuple[str, str]] | None = None,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": qid,
        "remote_id": qid.split("_", 1)[-1],
        "name": text[:40],
        "type": _enum(qtype, qtype.replace("_", " ").title().replace(" ", "")),
        "text": text,
        "required": required,
        "multiple_choice_answers": [
            {"id": oid, "remote_id": oid, "text": label} for oid, label in options or []
        ],
        "parent_question": parent,
    }


def full_questionnaire(prefix: str) -> dict[str, Any]:
    """A questionnaire with every question type, required ones, and a conditional follow-up."""
    visa_yes, visa_no = f"{prefix}_opt_visa_yes", f"{prefix}_opt_visa_no"
    questions = [
        _question(f"{prefix}_q_name", "short_text", "Preferred name", required=True),
        _question(f"{prefix}_q_motivation", "long_text", "Why do you want to join us?", required=True),
        _question(
            f"{prefix}_q_visa",
            "single_select",
            "Do you require visa sponsorship?",
            required=True,
            options=[(visa_yes, "Yes"), (visa_no, "No")],
        ),
        _question(
            f"{prefix}_q_visa_country",
            "short_text",
            "Which country's work visa would you need?",
            required=True,  # only when the parent answer is "Yes"
            parent={
                "id": f"{prefix}_q_visa",
                "remote_id": "q_visa",
                "option_ids": [visa_yes],
                "remote_option_ids": [visa_yes],
                "condition_type": _enum("equals_to", "EqualsTo"),
            },
        ),
        _question(
            f"{prefix}_q_languages",
            "multi_select",
            "Which languages do you speak fluently?",
            required=False,
            options=[
                (f"{prefix}_opt_en", "English"),
                (f"{prefix}_opt_de", "German"),
                (f"{prefix}_opt_fr", "French"),
            ],
        ),
        _question(f"{prefix}_q_relocate", "boolean", "Are you willing to relocate?", required="false"),
        _question(f"{prefix}_q_years", "number", "Years of professional experience", required="true"),
        _question(f"{prefix}_q_start", "date", "Earliest start date", required=False),
        _question(f"{prefix}_q_portfolio", "url", "Link to your portfolio or GitHub", required=False),
        _question(f"{prefix}_q_cover", "attachment", "Cover letter", required=False),
    ]
    return {
        "id": f"{prefix}_qn_main",
        "remote_id": "application_form",
        "name": "Application questions",
        "internal": "false",
        "questions": questions,
    }


def short_questionnaire(prefix: str, *, internal_as_bool: bool = False) -> dict[str, Any]:
    questions = [
        _question(f"{prefix}_q_linkedin", "url", "LinkedIn profile", required=False),
        _question(f"{prefix}_q_salary", "number", "Salary expectation (yearly, gross)", required=True),
    ]
    internal: bool | str = False if internal_as_bool else "false"
    return {
        "id": f"{prefix}_qn_short",
        "remote_id": "screening",
        "name": "Screening",
        "internal": internal,
        "questions": questions,
    }


def make_posting(
    rng: random.Random,
    *,
    provider: str,
    company: str,
    index: int,
    created_at: datetime,
    status: str = "live",
    internal: str | bool = "false",
    legacy_fields: bool = False,
    unsafe_html: bool = False,
    questionnaire: str = "short",
    locations: list[str] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """One JobPosting as StackOne returns it (with questionnaires; the server drops them unless asked)."""
    posting_id = stackone_id(rng)
    remote_id = remote_posting_id(provider, rng)
    job_title, department = _TITLES[index % len(_TITLES)]
    if title:
        job_title = title
    if locations is None:
        count = 2 if rng.random() < 0.25 else 1
        locations = rng.sample(_LOCATIONS, count)
    employment_value, employment_source = _EMPLOYMENT_TYPES[rng.randrange(len(_EMPLOYMENT_TYPES))]
    contract_value, contract_source = _CONTRACT_TYPES[0 if rng.random() < 0.75 else rng.randrange(1, 3)]
    hourly = "Nurse" in job_title or "Warehouse" in job_title or "Support" in job_title
    status_source = {
        "greenhouse": {"live": "active", "draft": "draft", "closed": "closed"},
        "ashby": {"live": "Listed", "draft": "Draft", "closed": "Archived"},
        "workday": {"live": "Posted", "draft": "Unposted", "closed": "Filled"},
        "lever": {"live": "published", "draft": "draft", "closed": "closed"},
    }.get(provider, {}).get(status, status)
    slug = job_title.lower().replace(" ", "-").replace(",", "").replace("(", "").replace(")", "")
    host = {
        "greenhouse": f"https://boards.greenhouse.io/{company.split()[0].lower()}/jobs/{remote_id}",
        "ashby": f"https://jobs.ashbyhq.com/{company.split()[0].lower()}/{remote_id}",
        "workday": f"https://{company.split()[0].lower()}.wd3.myworkdayjobs.com/en-US/careers/job/{slug}_{remote_id[:8]}",
        "lever": f"https://jobs.lever.co/{company.split()[0].lower()}/{remote_id}",
    }.get(provider, f"https://careers.example.com/{remote_id}")
    questionnaires: list[dict[str, Any]] = []
    if questionnaire == "full":
        questionnaires = [full_questionnaire(f"{posting_id[-8:]}"), short_questionnaire(f"{posting_id[-8:]}")]
    elif questionnaire == "short":
        questionnaires = [short_questionnaire(f"{posting_id[-8:]}", internal_as_bool=legacy_fields)]
    updated_at = created_at + timedelta(hours=rng.randint(1, 72))
    posting: dict[str, Any] = {
        "id": posting_id,
        "remote_id": remote_id,
        "title": job_title,
        "locations": [
            {"id": stackone_id(rng), "remote_id": str(rng.randint(1000, 9999)), "name": name}
            for name in locations
        ],
        "internal": internal,
        "status": _enum(status, status_source),
        "job_id": stackone_id(rng),
        "content": _content(job_title, company, locations[0], unsafe=unsafe_html),
        "compensation": _compensation(rng, provider, legacy=legacy_fields, hourly=hourly),
        "employment_type": _enum(employment_value, employment_source),
        "employment_contract_type": _enum(contract_value, contract_source),
        "external_url": host,
        "external_apply_url": host + ("/apply" if provider in ("lever", "ashby") else "#app"),
        "questionnaires": questionnaires,
        "start_date": iso(created_at + timedelta(days=rng.randint(30, 90))),
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "unified_custom_fields": {"department": department},
    }
    job_ref = remote_job_id(provider, rng)
    if legacy_fields:
        posting["remote_job_posting_id"] = job_ref  # older spelling of remote_job_id
    else:
        posting["remote_job_id"] = job_ref
    return posting


def demo_postings(employer: DemoEmployer, rng: random.Random) -> list[dict[str, Any]]:
    """Twelve postings for one demo employer: nine on the board, draft + closed + internal ones not."""
    postings: list[dict[str, Any]] = []
    offset = DEMO_EMPLOYERS.index(employer) * 5

    def created(i: int) -> datetime:
        return SEED_EPOCH - timedelta(days=60 - i * 4, hours=offset)

    plan: list[dict[str, Any]] = [
        {"questionnaire": "full", "locations": ["Remote - EU", "Berlin, Germany"]},
        {"unsafe_html": employer.provider == "greenhouse", "locations": ["Remote"]},
        {"legacy_fields": True, "locations": ["London, United Kingdom"]},
        {"locations": ["New York, NY"]},
        {"questionnaire": "none", "locations": ["Remote - US"]},
        {},
        {"legacy_fields": True, "internal": False, "questionnaire": "full"},  # bool internal: older shape
        {},
        {"locations": ["Munich, Germany", "Remote - EU"]},
        {"status": "draft"},
        {"status": "closed"},
        {"internal": "true"},
    ]
    for i, options in enumerate(plan):
        postings.append(
            make_posting(
                rng,
                provider=employer.provider,
                company=employer.name,
                index=i + offset,
                created_at=created(i),
                **options,
            )
        )
    return postings


def generated_postings(
    rng: random.Random, *, provider: str, company: str, count: int, start: datetime, start_index: int = 0
) -> list[dict[str, Any]]:
    """`count` plain live postings (benchmarks and newly linked accounts)."""
    return [
        make_posting(
            rng,
            provider=provider,
            company=company,
            index=start_index + i,
            created_at=start - timedelta(minutes=count - i),
            questionnaire="short" if i % 3 else "full",
        )
        for i in range(count)
    ]


def is_on_board(posting: dict[str, Any]) -> bool:
    """What the board should show: live and not internal (internal may be a bool on older shapes)."""
    status = (posting.get("status") or {}).get("value")
    return status == "live" and str(posting.get("internal")).lower() != "true"
