"""Per-job numbers: what is counted, the queued event, the API's query and answer."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["view", "apply_start", "application", "embloy_click"]
# Each event type's counter attribute on a numbers item, and its field in the API's answer.
COUNTER_OF_EVENT: dict[str, str] = {
    "view": "views",
    "apply_start": "apply_starts",
    "application": "applications",
    "embloy_click": "embloy_clicks",
}
COUNTERS = tuple(COUNTER_OF_EVENT.values())
MAX_DAYS = 90


class CountedEvent(BaseModel):
    """One counted event on the numbers queue (no visitor data: a job, a type and a UTC day)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(min_length=1, max_length=512)
    type: EventType
    day: date


class JobEventRequest(BaseModel):
    """Body of POST /jobs/{job_id}/events: the job page's beacon when a candidate starts applying."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"type": "apply_start"}]})

    type: Literal["apply_start"] = Field(description="`apply_start`: the candidate opened the apply options.")


class NumbersQuery(BaseModel):
    """Query string of GET /employer/numbers."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(90, ge=1, le=MAX_DAYS, description="Days to report, ending today (UTC): 1 to 90.")
    job_id: str | None = Field(
        None, min_length=1, max_length=512, description="One of the employer's jobs; absent: every job."
    )


class Counts(BaseModel):
    """The four counters."""

    views: int = 0
    apply_starts: int = 0
    applications: int = 0
    embloy_clicks: int = 0


class DayCounts(Counts):
    """The counters of one UTC day."""

    day: date


class JobTotals(BaseModel):
    """One job's counters summed over the reported days."""

    job_id: str
    title: str | None = None
    totals: Counts


class NumbersResponse(BaseModel):
    """GET /employer/numbers: a zero-filled series per day (oldest first) and per-job totals."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-12-06",
                    "end": "2026-12-07",
                    "days": 2,
                    "job_id": None,
                    "totals": {"views": 42, "apply_starts": 9, "applications": 3, "embloy_clicks": 2},
                    "series": [
                        {
                            "day": "2026-12-06",
                            "views": 30,
                            "apply_starts": 6,
                            "applications": 2,
                            "embloy_clicks": 1,
                        },
                        {
                            "day": "2026-12-07",
                            "views": 12,
                            "apply_starts": 3,
                            "applications": 1,
                            "embloy_clicks": 1,
                        },
                    ],
                    "jobs": [
                        {
                            "job_id": "YWNjX2RlbW8KcG9zdGluZ18x",
                            "title": "Platform Engineer",
                            "totals": {"views": 42, "apply_starts": 9, "applications": 3, "embloy_clicks": 2},
                        }
                    ],
                }
            ]
        }
    )

    start: date = Field(description="First reported day (UTC).")
    end: date = Field(description="Last reported day (UTC): today.")
    days: int
    job_id: str | None = Field(description="The job the series is for; null: the whole employer.")
    totals: Counts
    series: list[DayCounts]
    jobs: list[JobTotals] = Field(description="Per-job totals over the days, most viewed first.")
