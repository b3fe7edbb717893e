"""One sample context (or more) for every email template in chalicelib/emails/.

`tests/e2e/test_email_screenshots.py` renders each sample and screenshots it at phone width; a template
without an entry here fails that test by name. Add an entry when adding a template: the key is the
template's name, each `Sample` its subject and context (and a variant name when there are several).
Values are deliberately long (titles, labels, names) so the phone layout is tested with text that wraps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    subject: str
    context: dict[str, Any]
    variant: str = ""
    headers: dict[str, str] = field(default_factory=dict)


BOARD = "https://jobs.example.org/board"
JOB_URL = f"{BOARD}/jobs/YWNjX2RlbW9fYXNoYnlfbm9ydGh3aW5kCnBvc3RfcGxhdGZvcm0"
CONSOLE = f"{BOARD}/employer"

_CONFIRMATION = {
    "candidate_first_name": "Maximiliane",
    "job_title": "Senior Platform Engineer, Infrastructure Reliability (Kubernetes, Terraform)",
    "company": "Northwind Health Cooperative International",
    "job_url": JOB_URL,
    "submitted_on": "7 December 2026",
    "reference": "5f0c9e3b1a2d4c6e8f9a0b1c2d3e4f50",
}

SAMPLES: dict[str, list[Sample]] = {
    "application_confirmation": [
        Sample("Application sent: Senior Platform Engineer", {**_CONFIRMATION, "pending": False}, "sent"),
        Sample(
            "We're confirming your application: Senior Platform Engineer",
            {**_CONFIRMATION, "pending": True},
            "pending",
        ),
    ],
    "connection_attention": [
        Sample(
            "Action needed: your Greenhouse (EU hiring) connection to the job board",
            {
                "company": "Northwind Health Cooperative International",
                "account": "Greenhouse (EU hiring and graduate programmes)",
                "provider": "Greenhouse",
                "label": "EU hiring and graduate programmes",
                "problem": "The board's access to your ATS was refused: the credentials have expired or "
                "were revoked.",
                "postings_closed": 0,
                "postings_live": 9,
                "since": "7 December 2026",
                "postings_close_at": "10 December 2026, 09:00 UTC",
                "reconnect_url": CONSOLE,
            },
            "stale",
        ),
        Sample(
            "Action needed: your Workday connection to the job board",
            {
                "company": "Acme Robotics",
                "account": "Workday",
                "provider": "Workday",
                "label": "",
                "problem": "The connection to your ATS is no longer active.",
                "postings_closed": 9,
                "postings_live": 0,
                "since": "7 December 2026",
                "postings_close_at": "",
                "reconnect_url": CONSOLE,
            },
            "closed",
        ),
    ],
    "employer_applications_digest": [
        Sample(
            "12 new applications on 6 December 2026",
            {
                "employer_name": "Northwind Health Cooperative International",
                "day": "6 December 2026",
                "total": 12,
                "jobs": [
                    {
                        "title": "Senior Platform Engineer, Infrastructure Reliability (Kubernetes, Terraform)",  # noqa: E501
                        "count": 11,
                        "names": [f"Candidate-with-a-long-double-barrelled-name {n}" for n in range(1, 11)],
                        "more": 1,
                    },
                    {"title": "Nurse Practitioner", "count": 1, "names": ["Ada Lovelace"], "more": 0},
                ],
                "console_url": CONSOLE,
            },
        )
    ],
    "alert_confirm": [
        Sample(
            "Confirm your job alert: robotics engineer in Berlin or Remote - EU (remote only)",
            {
                "confirm_url": f"{BOARD}/alerts/confirm?token=" + "a" * 120,
                "search_summary": "robotics engineer in Berlin or Remote - EU (remote only)",
                "search_url": f"{BOARD}?q=robotics+engineer&location=Berlin&location=Remote+-+EU&remote=true",
                "frequency_text": "once a day",
                "expires_days": 7,
            },
        )
    ],
    "alert_digest": [
        Sample(
            "3 new jobs: robotics engineer in Berlin or Remote - EU (remote only)",
            {
                "search": "robotics engineer in Berlin or Remote - EU (remote only)",
                "frequency": "daily",
                "postings": [
                    {
                        "title": _CONFIRMATION["job_title"],
                        "company": "Northwind Health Cooperative International",
                        "locations": ["Berlin, Germany", "Remote - EU"],
                        "remote": True,
                        "excerpt": "Own the reliability of the clinical platform behind 40 hospitals.",
                        "url": JOB_URL,
                    },
                    {
                        "title": "Robotics Engineer",
                        "company": "Acme Robotics",
                        "locations": ["Berlin, Germany"],
                        "remote": False,
                        "excerpt": "",
                        "url": f"{BOARD}/jobs/YWNjX2RlbW9fbGV2ZXJfYWNtZQpwb3N0XzI",
                    },
                ],
                "total": 3,
                "board_search_url": f"{BOARD}?q=robotics+engineer&location=Berlin&remote=true",
                "manage_url": f"{BOARD}/alerts/manage?token=" + "m" * 120,
                "unsubscribe_url": f"{BOARD}/alerts/unsubscribe?token=" + "u" * 120,
            },
        )
    ],
}
