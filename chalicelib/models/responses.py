"""Response models of the board, health, Embloy-token and applications routes: the wire and the document.

Each of these routes serialises its body through the model here, and `GET /openapi.json` takes its schema
from the same class, so the two cannot drift. The board's list summaries are dumped from `JobSummary`
once, when a posting enters the board's index, and reused by every warm request. `extra="forbid"` makes
an undeclared field an error (and `additionalProperties: false` in the document).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.models.applications import ApplicationOut
from chalicelib.models.posting import Compensation, Questionnaire


class _Documented(BaseModel):
    # additionalProperties: false in the schema, so a field a handler adds without documenting it here
    # fails the fuzz tests' response validation.
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """The inside of every error response. Some errors add fields (e.g. `external_apply_url`)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable machine-readable code, e.g. `job_not_found`.")
    message: str = Field(description="Human-readable explanation; never contains a secret.")
    fields: dict[str, str] | None = Field(
        None, description="Per-field problems of a 400 (`field.path` -> message)."
    )


class ErrorResponse(BaseModel):
    """`{"error": {"code", "message", "fields"?}}`: the shape of every 4xx and 5xx."""

    error: ErrorBody


class HealthResponse(_Documented):
    status: Literal["ok"]


class CompensationSummary(_Documented):
    kind: str | None
    currency: str | None
    min: float | None
    max: float | None
    period: str | None
    text: str = Field(description="Display text, e.g. `EUR 60,000-80,000 / year`.")


class JobSummary(_Documented):
    """One posting in a board listing (no content)."""

    job_id: str
    title: str
    company: str
    employer_id: str
    provider: str
    department: str | None
    locations: list[str]
    remote: bool | None
    employment_type: str | None
    contract_type: str | None
    compensation_summary: CompensationSummary | None
    posted_at: str | None = Field(description="ISO 8601 timestamp.")
    updated_at: str | None = Field(description="ISO 8601 timestamp.")
    url: str = Field(description="The posting's page on the board's frontend.")


class JobListResponse(_Documented):
    """A page of the board."""

    data: list[JobSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    total: int = Field(description="How many postings match the query and filters.")
    facets: dict[str, dict[str, int]] = Field(
        description="Per dimension (company, employment_type, location, remote, provider, department): "
        "value -> count among the matches; `posted_within`: bucket (24h, 3d, 7d, 30d) -> count, back "
        "from the time of the request."
    )


class Suggestion(_Documented):
    text: str = Field(description="A job title, a company or a place, as postings write it.")
    count: int = Field(description="How many live postings match the typed query and have it.")


class SuggestResponse(_Documented):
    """Suggestions while a search is typed, best first (at most `limit` of each kind)."""

    titles: list[Suggestion] = Field(description="Titles of the best-matching postings; search them as `q`.")
    companies: list[Suggestion] = Field(
        description="Companies whose name holds the last word; a `company` filter."
    )
    places: list[Suggestion] = Field(
        description="Locations whose name holds the last word or is another name of that place "
        "(`wien` suggests Vienna); a `location` filter."
    )


class SimilarJobsResponse(_Documented):
    """Live postings like one posting, most similar first (never the posting itself)."""

    data: list[JobSummary]


class ApplyOptions(_Documented):
    embloy: bool = Field(description="`/jobs/{job_id}/apply/embloy` works for this posting.")
    native: bool = Field(description="`POST /jobs/{job_id}/applications` works for this posting.")
    external_url: str | None = Field(description="The ATS's own application page, where known.")


class JobDetail(JobSummary):
    """One posting in full."""

    content_html: str | None = Field(description="Sanitised HTML description.")
    content_plain: str | None
    compensation: list[Compensation]
    questionnaires: list[Questionnaire]
    external_url: str | None
    apply: ApplyOptions
    json_ld: dict[str, Any] = Field(description="schema.org JobPosting for the page's structured data.")


class EmployerIdentity(_Documented):
    """The employer an API key belongs to."""

    employer_id: str
    name: str


class EmbloyTokenStatus(_Documented):
    """Whether the employer's Embloy client token is stored (the token itself is never returned)."""

    configured: bool
    updated_at: str | None = Field(description="ISO 8601 timestamp of the last upload or deletion.")
    needs_renewal: bool


class ApplicationCountsSummary(_Documented):
    received: int
    submitted: int
    pending_confirmation: int
    redirected_to_embloy: int
    failed: int
    duplicate: int


class ApplicationCounts(ApplicationCountsSummary):
    """Outcome counts in total and per linked account."""

    accounts: dict[str, ApplicationCountsSummary]


class JobApplicationCounts(ApplicationCounts):
    job_id: str


class ApplicationsPage(_Documented):
    """A page of the employer's applications."""

    data: list[ApplicationOut]
    next_cursor: str | None
