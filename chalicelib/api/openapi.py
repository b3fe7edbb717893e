"""The API's OpenAPI 3.1 document, generated from the pydantic models that validate and shape the API.

`OPERATIONS` is the one documented table of the HTTP API, keyed by (method, path). Each entry names the
pydantic models of its query string, request body and responses as `"module:Name"` references, imported
only when the document is first built (so importing the app stays light). Schemas come from pydantic's
`models_json_schema`, i.e. from the same classes the handlers validate with, so the document cannot drift
from the code; `tests/api/test_openapi.py` checks that every route registered on the app is in the table
(and nothing else is), that auth matches each route's authorizer, and that the document is valid OAS 3.1.
The fuzz tests then check real responses against it.
"""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.http_headers import IDEMPOTENCY_KEY_PATTERN
from chalicelib.services.board.feeds import MAX_SITEMAP_PAGE

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Unified job board API"
API_VERSION = "1.0.0"
SCHEMA_REF = "#/components/schemas/{model}"
ERROR_MODEL = "chalicelib.models.responses:ErrorResponse"
SECURITY_SCHEME = "employerApiKey"

# Errors any route can answer: the catch-all of `handle_errors` (no stack trace, no detail).
COMMON_ERRORS = (500,)
ERROR_DESCRIPTIONS = {
    400: "Invalid input (`fields` names each problem).",
    401: "Missing, invalid or revoked employer API key.",
    403: "The resource belongs to another employer.",
    404: "Unknown or closed resource.",
    409: "State conflict.",
    413: "Request body too large.",
    415: "The route does not take this Content-Type.",
    422: "Valid JSON, but semantically wrong.",
    429: "Throttled; retry after `Retry-After` seconds.",
    500: "Unexpected error (never a stack trace).",
    502: "The upstream (StackOne or Embloy) failed.",
    503: "The upstream is unavailable; retry after `Retry-After` seconds.",
    504: "The upstream timed out.",
}
RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class Param:
    """A request header, or a query parameter of a route without a query model."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Reply:
    """One success response: a model reference (JSON) or a media type with a plain string schema."""

    description: str
    model: str | None = None
    media_type: str | None = "application/json"
    headers: tuple[str, ...] = ()
    example: Any = None


@dataclass(frozen=True)
class Operation:
    """One documented operation of the HTTP API."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    replies: dict[int, Reply]
    errors: tuple[int, ...] = ()
    auth: bool = False
    query: str | None = None
    # Fields of the query model this route does not read (the board page renders its own page size).
    query_exclude: tuple[str, ...] = ()
    # The route reads its single-valued query parameters as the board does: an empty value is absent.
    query_blank_is_absent: bool = False
    body: str | None = None
    body_required: bool = False
    body_media_types: tuple[str, ...] = ("application/json",)
    body_example: Any = None
    headers: tuple[Param, ...] = ()
    query_params: tuple[Param, ...] = ()
    path_params: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


IF_NONE_MATCH = Param("If-None-Match", "An ETag from an earlier response; a match answers 304.")
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "1-255 visible ASCII characters; a retry with the same key returns the first result.",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
)
SYNC_MODE = Param(
    "mode",
    "`full` forces a full sweep (closes postings the ATS no longer lists); the body's `mode` wins.",
    {"type": "string", "enum": ["auto", "full"]},
)
# The board page reads these leniently (a hand-edited link still shows jobs), so any string is valid.
BOARD_PAGE_SORT = Param(
    "sort", "`newest` or `relevance`; anything else is the default order (relevance with `q`)."
)
BOARD_PAGE_PAGES = Param(
    "page", "How many pages of 20 to render at once: 1 to 5 (a non-number is 1, a larger number 5)."
)
NOT_MODIFIED = Reply(
    "Not modified: the client's copy (by ETag) is current.", media_type=None, headers=("ETag",)
)
CACHED = ("ETag", "Cache-Control")
JOB_ID = {"job_id": "The board's stable, URL-safe job id (a listing's `job_id`)."}
ACCOUNT_ID = {"account_id": "A StackOne linked-account id of the calling employer."}
UPSTREAM = (502, 503, 504)
DOCS = "chalicelib.models.responses"
EMPLOYER_API = "chalicelib.models.employer_api"
APPLY = "chalicelib.models.apply"
NUMBERS = "chalicelib.models.numbers"

NOTIFICATIONS_EXAMPLE = {
    "email": "hiring@acme.example",
    "new_applications_digest": True,
    "updated_at": "2026-12-07T09:30:00Z",
}
ALERTS = "chalicelib.models.alert_api"
ALERT_TOKEN = Param(
    "token", "The signed token of the email's link (one alert, one purpose).", {"type": "string"}, True
)
ALERT_SUBSCRIBE_EXAMPLE = {
    "email": "ada@example.org",
    "frequency": "daily",
    "search": {"q": "robotics engineer", "location": ["Berlin", "Remote - EU"], "remote": "true"},
}

SUMMARY_EXAMPLE = {
    "job_id": "YWNjX2RlbW9fZ3JlZW5ob3VzZV9hY21lOnBvc3RfMQ",
    "title": "Senior Robotics Engineer",
    "company": "Acme Robotics",
    "employer_id": "emp_demo_acme",
    "provider": "greenhouse",
    "department": "Engineering",
    "locations": ["Remote - EU"],
    "remote": True,
    "employment_type": "full_time",
    "contract_type": "permanent",
    "compensation_summary": {
        "kind": "salary",
        "currency": "EUR",
        "min": 70000,
        "max": 90000,
        "period": "year",
        "text": "EUR 70,000\u201390,000 / year",
    },
    "posted_at": "2026-11-01T09:00:00.000Z",
    "updated_at": "2026-11-20T12:00:00.000Z",
    "url": "https://board.example.com/jobs/YWNjX2RlbW9fZ3JlZW5ob3VzZV9hY21lOnBvc3RfMQ",
}

EXAMPLE_EMBLOY_CLIENT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOjEyMzQsInR5cCI6ImVudGVycHJpc2VfMyIsImlhdCI6MTc2NDU0NzIwMCwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJhcGkuZW1ibG95LmNvbSJ9"
    ".bji1LTe2ayvgwG0tJTL4xn3VnLmq9mOlmTTXVsjKaNo"
)

OPERATIONS: tuple[Operation, ...] = (
    # ---- system -----------------------------------------------------------------------------------
    Operation(
        "GET",
        "/health",
        "health",
        "Liveness",
        "system",
        {200: Reply("The API is up.", f"{DOCS}:HealthResponse", example={"status": "ok"})},
    ),
    Operation(
        "GET",
        "/openapi.json",
        "openapi",
        "This document",
        "system",
        {200: Reply("The OpenAPI 3.1 document of this API.", media_type="application/json")},
    ),
    # ---- board (public) ---------------------------------------------------------------------------
    Operation(
        "GET",
        "/jobs",
        "listJobs",
        "Search and filter the board",
        "board",
        {
            200: Reply(
                "A page of live postings, newest first (or by relevance with `q`), with facet counts.",
                f"{DOCS}:JobListResponse",
                headers=CACHED,
                example={
                    "data": [SUMMARY_EXAMPLE],
                    "next_cursor": None,
                    "total": 1,
                    "facets": {"company": {"Acme Robotics": 1}, "remote": {"true": 1}},
                },
            ),
            304: NOT_MODIFIED,
        },
        errors=(400, 422, 503),
        query="chalicelib.services.board.query:BoardQuery",
        query_blank_is_absent=True,
        headers=(IF_NONE_MATCH,),
        description="Repeated filter parameters combine with OR; different filters with AND. "
        "`cursor` is opaque and only valid with the query that produced it. `pay_min` needs "
        "`pay_currency` (400 `pay_currency_required`; amounts are annual, never converted between "
        "currencies); `near` must name a city the gazetteer knows (422 `unknown_place`); with `near`, "
        "remote postings are in only with `remote=true`. The `posted_within` facet counts 24h, 3d, 7d "
        "and 30d back from the request.",
    ),
    Operation(
        "GET",
        "/jobs/suggest",
        "suggestJobs",
        "Suggestions while a search is typed",
        "board",
        {
            200: Reply(
                "Job titles, companies and places for the text typed so far, most postings first.",
                f"{DOCS}:SuggestResponse",
                headers=CACHED,
                example={
                    "titles": [{"text": "Robotics Engineer", "count": 3}],
                    "companies": [{"text": "Acme Robotics", "count": 12}],
                    "places": [],
                },
            ),
            304: NOT_MODIFIED,
        },
        errors=(400, 503),
        query="chalicelib.services.board.query:SuggestQuery",
        query_blank_is_absent=True,
        headers=(IF_NONE_MATCH,),
        description="`q` is read as `GET /jobs?typing=1` reads it: its last word is also a prefix (from "
        "three letters; not when a space follows it). Titles hold every typed word; companies and places "
        "hold the last word (or start with it, or are another name of that place: `wien` suggests "
        "Vienna) and are counted over the postings the typed text matches.",
    ),
    Operation(
        "GET",
        "/jobs/{job_id}/similar",
        "similarJobs",
        "Live postings like one posting",
        "board",
        {
            200: Reply(
                "Up to `limit` live postings, most similar first (by their titles' words).",
                f"{DOCS}:SimilarJobsResponse",
                headers=CACHED,
                example={"data": [SUMMARY_EXAMPLE]},
            ),
            304: NOT_MODIFIED,
        },
        errors=(400, 404, 503),
        query="chalicelib.services.board.query:SimilarQuery",
        query_blank_is_absent=True,
        headers=(IF_NONE_MATCH,),
        path_params=JOB_ID,
    ),
    Operation(
        "GET",
        "/jobs/{job_id}",
        "getJob",
        "One posting in full",
        "board",
        {200: Reply("The posting.", f"{DOCS}:JobDetail", headers=CACHED), 304: NOT_MODIFIED},
        errors=(404, 503),
        headers=(IF_NONE_MATCH,),
        path_params=JOB_ID,
    ),
    Operation(
        "GET",
        "/feed.xml",
        "rssFeed",
        "RSS 2.0 feed of the newest postings",
        "board",
        {200: Reply("RSS 2.0.", media_type="application/rss+xml", headers=CACHED), 304: NOT_MODIFIED},
        errors=(400, 422, 503),
        query="chalicelib.services.board.query:BoardQuery",
        query_blank_is_absent=True,
        headers=(IF_NONE_MATCH,),
    ),
    Operation(
        "GET",
        "/sitemap.xml",
        "sitemap",
        "Sitemap of every live posting",
        "board",
        {200: Reply("sitemaps.org XML.", media_type="application/xml", headers=CACHED), 304: NOT_MODIFIED},
        errors=(400, 404, 503),
        query_params=(
            Param(
                "page",
                "Past 50,000 postings `/sitemap.xml` is a sitemap index of `?page=N` sitemaps.",
                {"type": "integer", "minimum": 1, "maximum": MAX_SITEMAP_PAGE},
            ),
        ),
        headers=(IF_NONE_MATCH,),
        description="A sitemap index once the board has more postings than fit one sitemap.",
    ),
    Operation(
        "GET",
        "/robots.txt",
        "robots",
        "robots.txt naming the sitemap",
        "board",
        {200: Reply("Plain text.", media_type="text/plain")},
    ),
    # ---- apply (public) ---------------------------------------------------------------------------
    Operation(
        "GET",
        "/jobs/{job_id}/apply/embloy",
        "applyWithEmbloyPage",
        "Apply with Embloy (confirmation page)",
        "apply",
        {200: Reply("A small page whose button POSTs to this URL.", media_type="text/html")},
        errors=(404,),
        path_params=JOB_ID,
        description="Never writes or calls Embloy (link prefetchers and crawlers follow GET links).",
    ),
    Operation(
        "POST",
        "/jobs/{job_id}/apply/embloy",
        "applyWithEmbloy",
        "Apply with Embloy: 303 to the portal for a form post, else the portal URL as JSON",
        "apply",
        {
            200: Reply(
                "The Embloy portal URL.",
                f"{APPLY}:EmbloyRedirectResponse",
                example={"url": "https://embloy.com/sdk/apply?request_token=eyJ..."},
            ),
            303: Reply("To the Embloy apply portal (form posts).", media_type=None, headers=("Location",)),
        },
        errors=(400, 404, 409, 413, 415, 429, *UPSTREAM),
        body=f"{APPLY}:EmbloyApplyRequest",
        body_media_types=("application/json", "application/x-www-form-urlencoded"),
        body_example={},
        path_params=JOB_ID,
        description=(
            "The body is optional and empty: nothing, `{}` or an empty form; anything else is 400 "
            "(`invalid_json`, `invalid_form` or field errors) before Embloy is called or a click counted. "
            "409 `embloy_unsupported` / `embloy_not_configured` when the posting cannot use Embloy; 429 "
            "`rate_limited` past `APPLY_RATE_LIMIT` clicks per client and job in `APPLY_RATE_WINDOW_SECONDS`."
        ),
    ),
    Operation(
        "POST",
        "/jobs/{job_id}/resume-uploads",
        "createResumeUpload",
        "Presigned S3 POST for a resume (files too large to send inline)",
        "apply",
        {
            201: Reply(
                "Post `fields`, then the file as `file`, in one multipart form to `url` before `expires_in` "
                "seconds pass; then send the application with `resume: {filename, upload_id}`.",
                f"{APPLY}:ResumeUploadResponse",
            )
        },
        errors=(400, 404, 413, 415, 422, *UPSTREAM),
        body=f"{APPLY}:ResumeUploadRequest",
        body_required=True,
        body_example={"filename": "cv.pdf"},
        path_params=JOB_ID,
        description="422 `unsupported_file_type` for an extension other than pdf, doc, docx, odt, rtf, txt. "
        "S3 refuses a file larger than `max_bytes` or with another Content-Type.",
    ),
    Operation(
        "POST",
        "/jobs/{job_id}/applications",
        "submitApplication",
        "Native application, forwarded to the employer's ATS",
        "apply",
        {
            201: Reply(
                "Accepted by the ATS.",
                f"{APPLY}:ApplicationCreatedResponse",
                example={"application_id": "c28xIQaWQ6MzM5MzczMDA2MQ"},
            ),
            202: Reply(
                "StackOne timed out; the application may exist. Do not resubmit.",
                f"{APPLY}:ApplicationPendingResponse",
            ),
        },
        errors=(400, 404, 409, 413, 415, 422, 429, *UPSTREAM),
        body=f"{APPLY}:NativeApplicationRequest",
        body_required=True,
        # Accepted as it stands by a job without questions (answers are keyed by the job's question ids).
        body_example={
            "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
            "answers": {},
            "resume": {"filename": "cv.pdf", "content_base64": "JVBERi0xLjQKJeLjz9MK"},
        },
        headers=(IDEMPOTENCY_KEY,),
        path_params=JOB_ID,
        description="409 `apply_externally` carries `external_apply_url` when the ATS takes no "
        "applications through StackOne; 409 `duplicate_application` for a repeat without Idempotency-Key; "
        "409 `upload_already_used` when the named resume upload served another application; "
        "409 `already_applied` when the employer's ATS already has this candidate's application for the "
        "job (a final answer: a retry with the same Idempotency-Key gets it again).",
    ),
    Operation(
        "POST",
        "/jobs/{job_id}/events",
        "recordJobEvent",
        "Count an Apply start on a job (the job page's beacon)",
        "apply",
        {204: Reply("Taken (a bot's or a non-job's event is dropped without saying so).", media_type=None)},
        errors=(400, 404, 413, 415),
        body=f"{NUMBERS}:JobEventRequest",
        body_required=True,
        body_example={"type": "apply_start"},
        path_params=JOB_ID,
        description="One event per request, nothing about the visitor stored. Views, applications and "
        "Embloy clicks are counted by the server where they happen (docs/numbers.md).",
    ),
    # ---- employers (bearer API key) ---------------------------------------------------------------
    Operation(
        "POST",
        "/connect-sessions",
        "createConnectSession",
        "Mint a StackOne Hub connect session for the calling employer",
        "employers",
        {
            201: Reply(
                "The session token for the Hub and its auth link.",
                f"{EMPLOYER_API}:ConnectSessionResponse",
                example={
                    "token": "eyJhbGciOi...",
                    "auth_link_url": "https://hub.stackone.com/connect?token=eyJhbGciOi...",
                    "expires_at": "2026-11-22T15:00:00Z",
                },
            )
        },
        errors=(400, 404, 413, *UPSTREAM),
        auth=True,
        body=f"{EMPLOYER_API}:ConnectSessionRequest",
        body_example={"provider": "greenhouse", "label": "Acme Greenhouse"},
        description="The owner (`origin_owner_id`/`origin_owner_name`) always comes from the API key; "
        "pass `account_id` to re-link (edit) one of your own accounts (400 `provider_mismatch` when "
        "`provider` names another ATS than that account's).",
    ),
    Operation(
        "GET",
        "/accounts",
        "listAccounts",
        "The employer's linked ATS accounts with sync health",
        "employers",
        {200: Reply("Linked accounts.", f"{EMPLOYER_API}:AccountsResponse")},
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/sync",
        "syncAccountNow",
        "Enqueue a sync of one of the employer's accounts",
        "employers",
        {202: Reply("Queued.", f"{EMPLOYER_API}:SyncQueuedResponse")},
        errors=(400, 404, 409, 413, 429, *UPSTREAM),
        auth=True,
        body=f"{EMPLOYER_API}:SyncNowRequest",
        body_example={"mode": "full"},
        query_params=(SYNC_MODE,),
        path_params=ACCOUNT_ID,
        description="409 `reconnect_required` while the account's link to the ATS is broken (StackOne "
        "lists it as expired, error or inactive, or the last sync was refused and the account was not "
        "re-linked since): reconnect it through the Hub first.",
    ),
    Operation(
        "GET",
        "/employer",
        "getEmployer",
        'The employer the API key belongs to (for "signed in as")',
        "employers",
        {200: Reply("The employer.", f"{DOCS}:EmployerIdentity")},
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "PUT",
        "/employer/embloy-token",
        "putEmbloyToken",
        "Store the employer's Embloy client token (Secrets Manager)",
        "employers",
        {204: Reply("Stored.", media_type=None)},
        errors=(400, 413, 415, *UPSTREAM),
        auth=True,
        body="chalicelib.api.embloy_token:EmbloyTokenUpload",
        body_required=True,
        # The shape of a client token from Embloy's genius page (an HS256 JWT; this one is signed with a
        # made-up secret, so Embloy would refuse it, but the board stores it).
        body_example={"client_token": EXAMPLE_EMBLOY_CLIENT_TOKEN},
    ),
    Operation(
        "GET",
        "/employer/embloy-token",
        "getEmbloyTokenStatus",
        "Whether an Embloy client token is stored (never the token)",
        "employers",
        {200: Reply("Status.", f"{DOCS}:EmbloyTokenStatus")},
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "DELETE",
        "/employer/embloy-token",
        "deleteEmbloyToken",
        "Remove the employer's Embloy client token",
        "employers",
        {204: Reply("Removed (or there was none).", media_type=None)},
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "GET",
        "/employer/notifications",
        "getNotificationSettings",
        "Where the board emails the employer, and whether they get the daily applications digest",
        "employers",
        {
            200: Reply(
                "The settings (no address: the board emails the employer nothing).",
                f"{EMPLOYER_API}:NotificationSettingsResponse",
                example=NOTIFICATIONS_EXAMPLE,
            )
        },
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "PUT",
        "/employer/notifications",
        "putNotificationSettings",
        "Set the notification address and the daily applications digest",
        "employers",
        {
            200: Reply(
                "The stored settings.",
                f"{EMPLOYER_API}:NotificationSettingsResponse",
                example=NOTIFICATIONS_EXAMPLE,
            )
        },
        errors=(400, 415, *UPSTREAM),
        auth=True,
        body=f"{EMPLOYER_API}:NotificationSettingsRequest",
        body_required=True,
        body_example={"email": "hiring@acme.example", "new_applications_digest": True},
        description=(
            "The address gets an email when a linked ATS connection needs attention (then at most daily "
            "while it lasts) and, with `new_applications_digest`, a daily list of the previous day's "
            "applications. `email: null` turns every email off."
        ),
    ),
    Operation(
        "GET",
        "/applications",
        "listApplications",
        "Applications the board delivered to the employer, newest first",
        "employers",
        {200: Reply("A page of applications.", f"{DOCS}:ApplicationsPage")},
        errors=(400, *UPSTREAM),
        auth=True,
        query="chalicelib.models.applications:ApplicationsQuery",
        description="`refresh=true` reads each application's status back from the ATS. Embloy clicks "
        "are listed too (`channel: embloy`, `outcome: redirected`, no candidate: Embloy has them). "
        "Personal data: `Cache-Control: no-store`.",
    ),
    Operation(
        "GET",
        "/applications.csv",
        "exportApplications",
        "The applications list as CSV, with the same filters",
        "employers",
        {
            200: Reply(
                "Every matching application (at most 5,000, newest first) as CSV with a header row: "
                "submitted_at (UTC), job_title, job_id, candidate_name, candidate_email, source, outcome, "
                "ats_status, ats_stage, account_id, application_id. A cell that a spreadsheet would run "
                "as a formula (starting with =, +, -, @, tab or CR) starts with an apostrophe.",
                media_type="text/csv",
                headers=("Content-Disposition", "Cache-Control"),
            )
        },
        errors=(400, *UPSTREAM),
        auth=True,
        query="chalicelib.models.applications:ApplicationsExportQuery",
    ),
    Operation(
        "GET",
        "/applications/counts",
        "countApplications",
        "Application outcome counts, in total and per linked account",
        "employers",
        {200: Reply("Counts.", f"{DOCS}:ApplicationCounts")},
        errors=UPSTREAM,
        auth=True,
    ),
    Operation(
        "GET",
        "/jobs/{job_id}/applications/count",
        "countJobApplications",
        "Application outcome counts for one job",
        "employers",
        {200: Reply("Counts.", f"{DOCS}:JobApplicationCounts")},
        errors=(404, *UPSTREAM),
        auth=True,
        path_params=JOB_ID,
        description="404 `job_not_found` for a job that does not exist or belongs to another employer.",
    ),
    Operation(
        "GET",
        "/employer/numbers",
        "getNumbers",
        "Views, Apply starts, applications and Embloy clicks per day and per job",
        "employers",
        {
            200: Reply(
                "A zero-filled series per UTC day (oldest first) and per-job totals.",
                f"{NUMBERS}:NumbersResponse",
            )
        },
        errors=(400, 404, *UPSTREAM),
        auth=True,
        query=f"{NUMBERS}:NumbersQuery",
        description="Counts show within about three minutes (at most five). `job_id`: that job's series; 404 "
        "`job_not_found` for a job that is not the employer's.",
    ),
    # ---- frontend (HTML pages and their assets) ---------------------------------------------------
    Operation(
        "GET",
        "/",
        "home",
        "Redirect to the board page",
        "frontend",
        {302: Reply("To `/board`.", media_type=None, headers=("Location",))},
    ),
    Operation(
        "GET",
        "/board",
        "boardPage",
        "The board (HTML, first results rendered on the server)",
        "frontend",
        {
            200: Reply("The page.", media_type="text/html", headers=CACHED),
            304: NOT_MODIFIED,
            400: Reply("The page, saying the link's search settings are invalid.", media_type="text/html"),
            503: Reply("A page with a retry link (the board is unavailable).", media_type="text/html"),
        },
        query="chalicelib.services.board.query:BoardQuery",
        # The page is a submitted search: whole words, never `typing`'s prefix.
        query_exclude=("limit", "sort", "typing"),
        query_blank_is_absent=True,
        query_params=(BOARD_PAGE_SORT, BOARD_PAGE_PAGES),
        headers=(IF_NONE_MATCH,),
        description="Takes `GET /jobs`'s filters, `q` and `cursor`, plus `sort` and `page` (render that many "
        "pages of 20 at once, up to 5), which a link may carry in any form: an unknown `sort` is the "
        "default order and a `page` that is not a number from 1 to 5 is the nearest one. Invalid filters, "
        "words or cursors answer 400 and an unavailable board 503, each as an HTML page.",
    ),
    Operation(
        "GET",
        "/board/jobs/{job_id}",
        "jobPage",
        "One job (HTML rendered on the server, with its JobPosting JSON-LD)",
        "frontend",
        {
            200: Reply("The page.", media_type="text/html", headers=CACHED),
            304: NOT_MODIFIED,
            404: Reply("A page for an unknown job.", media_type="text/html"),
            410: Reply("A page for a closed job.", media_type="text/html"),
            503: Reply("A page with a retry link (the board is unavailable).", media_type="text/html"),
        },
        description="An unknown job answers 404, a closed one 410 and an unavailable board 503, each as an "
        "HTML page that offers a way on (search, the company's other jobs, or a retry).",
        headers=(IF_NONE_MATCH,),
        path_params=JOB_ID,
    ),
    Operation(
        "GET",
        "/board/employer",
        "employerPage",
        "The employer console (HTML)",
        "frontend",
        {200: Reply("The page.", media_type="text/html", headers=CACHED), 304: NOT_MODIFIED},
        headers=(IF_NONE_MATCH,),
    ),
    Operation(
        "GET",
        "/board/assets/{name}",
        "asset",
        "A static asset of the pages (JS, CSS, icons)",
        "frontend",
        {200: Reply("The file.", media_type="application/octet-stream", headers=CACHED), 304: NOT_MODIFIED},
        errors=(404,),
        headers=(IF_NONE_MATCH,),
        path_params={"name": "The asset's file name."},
    ),
    Operation(
        "GET",
        "/board/feed.xml",
        "feedAlias",
        "Redirect to `/feed.xml` (keeps the query)",
        "frontend",
        {301: Reply("To `/feed.xml`.", media_type=None, headers=("Location",))},
    ),
    Operation(
        "GET",
        "/board/sitemap.xml",
        "sitemapAlias",
        "Redirect to `/sitemap.xml`",
        "frontend",
        {301: Reply("To `/sitemap.xml`.", media_type=None, headers=("Location",))},
    ),
    # ---- job alerts -------------------------------------------------------------------------------
    Operation(
        "POST",
        "/alerts",
        "subscribeAlert",
        "Email me new jobs like these: sign up for a job alert (double opt-in)",
        "alerts",
        {
            202: Reply(
                "Accepted. The same answer whatever the address's state: it never tells whether the "
                "address is subscribed.",
                f"{ALERTS}:AlertSubscribeResponse",
            ),
            303: Reply(
                'To the "check your inbox" page `/board/alerts/subscribed` (form posts).',
                media_type=None,
                headers=("Location",),
            ),
        },
        errors=(400, 413, 415, 422, 429, *UPSTREAM),
        body=f"{ALERTS}:AlertSubscribeRequest",
        body_required=True,
        body_example=ALERT_SUBSCRIBE_EXAMPLE,
        description=(
            "JSON answers 202. The board page's plain form posts the same as "
            "`application/x-www-form-urlencoded`, flat: `email`, `frequency` and the search's fields, "
            "repeated for several values, other fields ignored (a form carries its buttons too); it answers "
            "303 to a page. Errors of both are JSON. The search "
            "takes `GET /jobs`'s filters and is validated as that route validates them. A confirmation "
            "email with a signed link is sent to a new alert; an unconfirmed alert is deleted after 7 "
            "days. 429 `rate_limited` past `ALERT_SUBSCRIBE_RATE_LIMIT` sign-ups per client in "
            "`ALERT_SUBSCRIBE_WINDOW_SECONDS`. Sign-ups past the per-address limit or the cap "
            "(`ALERTS_PER_ADDRESS_MAX`), and repeats of an address's active search, get the same 202 "
            "and send nothing."
        ),
    ),
    Operation(
        "GET",
        "/board/alerts/subscribed",
        "alertSubscribedPage",
        '"Check your inbox" page after the board\'s alert form',
        "frontend",
        {200: Reply("The page.", media_type="text/html")},
    ),
    Operation(
        "GET",
        "/board/alerts/confirm",
        "alertConfirmPage",
        "Confirm a job alert (the link of the confirmation email)",
        "frontend",
        {
            200: Reply("The alert is active; the page links to its manage page.", media_type="text/html"),
            503: Reply("A page asking to try again (storage unavailable).", media_type="text/html"),
            404: Reply("One page for every invalid, expired or used-up link.", media_type="text/html"),
        },
        query_params=(ALERT_TOKEN,),
        description="Confirming again changes nothing. Personal: `Cache-Control: no-store`, `no-referrer`.",
    ),
    Operation(
        "GET",
        "/board/alerts/manage",
        "alertManagePage",
        "Manage a job alert: frequency, pause, resume, delete (plain forms)",
        "frontend",
        {
            200: Reply("The page.", media_type="text/html"),
            503: Reply("A page asking to try again (storage unavailable).", media_type="text/html"),
            404: Reply("One page for every invalid link.", media_type="text/html"),
        },
        query_params=(ALERT_TOKEN,),
    ),
    Operation(
        "POST",
        "/board/alerts/manage",
        "alertManageChange",
        "Change a job alert (the manage page's forms)",
        "frontend",
        {
            200: Reply(
                "The manage page after the change (or a page saying it was deleted).", media_type="text/html"
            ),
            400: Reply("A page: the form was not one of the page's buttons.", media_type="text/html"),
            503: Reply("A page asking to try again (storage unavailable).", media_type="text/html"),
            404: Reply("One page for every invalid link.", media_type="text/html"),
        },
        query_params=(ALERT_TOKEN,),
        body=f"{ALERTS}:AlertManageForm",
        body_required=True,
        body_media_types=("application/x-www-form-urlencoded",),
        description="The page's forms post `application/x-www-form-urlencoded` bodies: `action=frequency"
        "&frequency=weekly` (instant, daily or weekly), `action=pause`, `action=resume` or `action=delete`. "
        "Resuming starts from the resume time: jobs that appeared while paused are not sent.",
    ),
    Operation(
        "GET",
        "/board/alerts/unsubscribe",
        "alertUnsubscribePage",
        "Unsubscribe page (a button; a GET never unsubscribes, so link scanners cannot)",
        "frontend",
        {
            200: Reply("The page with its button.", media_type="text/html"),
            503: Reply("A page asking to try again (storage unavailable).", media_type="text/html"),
            404: Reply("One page for every invalid link.", media_type="text/html"),
        },
        query_params=(ALERT_TOKEN,),
    ),
    Operation(
        "POST",
        "/board/alerts/unsubscribe",
        "alertUnsubscribe",
        "Unsubscribe: the page's button and RFC 8058 one-click",
        "frontend",
        {
            200: Reply(
                "A page: unsubscribed (also when the alert was already gone).", media_type="text/html"
            ),
            503: Reply("A page asking to try again (storage unavailable).", media_type="text/html"),
            404: Reply("One page for every invalid link.", media_type="text/html"),
        },
        query_params=(ALERT_TOKEN,),
        description="Mail clients POST `List-Unsubscribe=One-Click` (urlencoded or multipart) to the "
        "`List-Unsubscribe` URL of every alert email, with no cookies; the page's button posts an empty "
        "form. The body is not needed: the token in the URL names the alert.",
    ),
    # ---- integrations -----------------------------------------------------------------------------
    Operation(
        "POST",
        "/webhooks/stackone",
        "stackoneWebhook",
        "StackOne webhook (signed)",
        "integrations",
        {204: Reply("Handled (or ignored).", media_type=None)},
        errors=(400, 401, 413, 415, *UPSTREAM),
        body="chalicelib.services.webhooks:WebhookEvent",
        body_required=True,
        body_media_types=("application/json", "text/plain"),
        headers=(
            Param(
                "x-stackone-signature",
                "base64url HMAC-SHA256 of the raw body with the webhook signing secret.",
                required=True,
            ),
        ),
        body_example={
            "event": "ats_job_postings.updated",
            "account_id": "acc_1",
            "record_id": "post_1",
            "sent_at": "2026-11-22T12:00:00Z",
        },
        description="Signed deliveries only. A delivery whose `sent_at` (else `event_date`) lies more than "
        "`WEBHOOK_TOLERANCE_SECONDS` (300) from now answers 401 `webhook_expired`, as a replay would (so the "
        "example, sent as it stands, is refused); a repeat of an accepted delivery answers 204 and does "
        "nothing.",
    ),
)


# ---- building ------------------------------------------------------------------------------------


def resolve(reference: str) -> Any:
    """Import `"package.module:Name"`."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _inline(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A parameter schema with local `$ref`s replaced by their definitions (parameters stay flat)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _inline({**definitions[name], **{k: v for k, v in schema.items() if k != "$ref"}}, definitions)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if isinstance(value, dict):
            out[key] = _inline(value, definitions)
        elif isinstance(value, list):
            out[key] = [_inline(v, definitions) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` without the None: a query string has no null, only an absent parameter."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**rest, **kept[0]}
    if schema.get("default", 0) is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _accepts_blank(schema: dict[str, Any]) -> bool:
    plain_string = schema.get("type") == "string" and not schema.get("minLength")
    return plain_string and not {"pattern", "enum", "const", "format"} & schema.keys()


def _blank_is_absent(schema: dict[str, Any]) -> dict[str, Any]:
    """A single-valued parameter whose empty value (`?limit=`) the route reads as not given."""
    if schema.get("type") == "array" or _accepts_blank(schema):
        return schema
    outer = {key: schema.pop(key) for key in ("default",) if key in schema}
    return {"anyOf": [schema, {"const": ""}], **outer}


def _query_parameters(
    model: Any, *, exclude: tuple[str, ...] = (), blank_is_absent: bool = False
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/$defs/{model}", mode="validation")
    definitions = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        if name in exclude:
            continue
        prop_schema = _without_null(_inline(prop, definitions))
        description = prop_schema.pop("description", None)
        prop_schema.pop("title", None)
        if blank_is_absent and name not in required:  # a required parameter's blank is a missing one: 400
            prop_schema = _blank_is_absent(prop_schema)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop_schema,
        }
        if description:
            parameter["description"] = description
        if prop_schema.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _model_schemas(operations: Iterable[Operation]) -> tuple[dict[str, str], dict[str, Any]]:
    """Reference -> `$ref` for every model used, and the component schemas (pydantic's own naming)."""
    wanted: dict[tuple[str, JsonSchemaMode], Any] = {}
    for operation in operations:
        if operation.body:
            wanted[(operation.body, "validation")] = resolve(operation.body)
        for reply in operation.replies.values():
            if reply.model:
                wanted[(reply.model, "serialization")] = resolve(reply.model)
    wanted[(ERROR_MODEL, "serialization")] = resolve(ERROR_MODEL)

    from pydantic.json_schema import models_json_schema

    refs, top = models_json_schema(
        [(model, mode) for (_, mode), model in wanted.items()], ref_template=SCHEMA_REF
    )
    by_reference = {reference: refs[(model, mode)]["$ref"] for (reference, mode), model in wanted.items()}
    return by_reference, top.get("$defs", {})


def _error_response(status: int, error_ref: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": error_ref}}},
    }
    if status in RETRY_AFTER_STATUSES:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return response


def _operation(operation: Operation, refs: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    if operation.description:
        out["description"] = operation.description
    parameters: list[dict[str, Any]] = []
    for name, description in operation.path_params.items():
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": {"type": "string"},
            }
        )
    if operation.query:
        parameters.extend(
            _query_parameters(
                resolve(operation.query),
                exclude=operation.query_exclude,
                blank_is_absent=operation.query_blank_is_absent,
            )
        )
    for location, params in (("query", operation.query_params), ("header", operation.headers)):
        for header in params:
            parameters.append(
                {
                    "name": header.name,
                    "in": location,
                    "required": header.required,
                    "description": header.description,
                    "schema": header.schema,
                }
            )
    if parameters:
        out["parameters"] = parameters
    if operation.body:
        media: dict[str, Any] = {"schema": {"$ref": refs[operation.body]}}
        if operation.body_example is not None:
            media["example"] = operation.body_example
        out["requestBody"] = {
            "required": operation.body_required,
            "content": {media_type: media for media_type in operation.body_media_types},
        }
    responses: dict[str, Any] = {}
    for status, reply in sorted(operation.replies.items()):
        response: dict[str, Any] = {"description": reply.description}
        if reply.media_type:
            schema = {"$ref": refs[reply.model]} if reply.model else {"type": "string"}
            if reply.media_type == "application/json" and not reply.model:
                schema = {"type": "object"}
            content: dict[str, Any] = {"schema": schema}
            if reply.example is not None:
                content["example"] = reply.example
            response["content"] = {reply.media_type: content}
        if reply.headers:
            response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in reply.headers}
        responses[str(status)] = response
    error_statuses = set(operation.errors) | set(COMMON_ERRORS)
    if operation.auth:
        error_statuses.add(401)
    for status in sorted(error_statuses):
        responses[str(status)] = _error_response(status, refs[ERROR_MODEL])
    out["responses"] = responses
    if operation.auth:
        out["security"] = [{SECURITY_SCHEME: []}]
    return out


def _offered_providers(schemas: dict[str, Any]) -> None:
    """A connect session's `provider` is one of the deployment's `ALLOWED_PROVIDERS` (in any case)."""
    request = schemas.get("ConnectSessionRequest")
    if request is None:
        return
    from chalicelib.models.apply import WHITESPACE, any_case
    from chalicelib.settings import get_settings

    offered = [provider.lower() for provider in get_settings().allowed_providers]
    alternatives = "|".join(any_case(provider) for provider in offered)
    provider = request["properties"]["provider"]
    nothing: dict[str, Any] = {"not": {}}
    # Surrounding whitespace is trimmed first, as on every request string of that model.
    pattern = f"^{WHITESPACE}*(?:{alternatives}){WHITESPACE}*$"
    offered_schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    provider["anyOf"] = [offered_schema if offered else nothing, {"type": "null"}]
    provider["description"] = "One of the ATS providers this board offers (any case): " + ", ".join(offered)


def build_document(operations: Iterable[Operation] = OPERATIONS) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `operations`."""
    operations = list(operations)
    refs, schemas = _model_schemas(operations)
    _offered_providers(schemas)
    paths: dict[str, dict[str, Any]] = {}
    for operation in sorted(operations, key=lambda op: op.key):
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": (
                "The unified job board: a public board of open postings aggregated from many employers' "
                "ATSs through StackOne, apply with Embloy or natively, and employer routes to link ATS "
                'accounts and watch their sync. Every error is `{"error": {"code", "message", '
                '"fields"?}}` with the status saying what kind of problem it is. Every GET operation also '
                "answers HEAD (the same status and headers, no body); a method a path does not have is 405 "
                "`method_not_allowed` with an `Allow` header."
            ),
        },
        "tags": [{"name": name} for name in sorted({op.tag for op in operations})],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An employer API key, created by the operator "
                    "(`python -m chalicelib.cli employers create`).",
                }
            },
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"},
                },
                "ETag": {"description": "Validator for `If-None-Match`.", "schema": {"type": "string"}},
                "Cache-Control": {
                    "description": "How long caches may keep the body.",
                    "schema": {"type": "string"},
                },
                "Location": {"description": "Where to go next.", "schema": {"type": "string"}},
                "Content-Disposition": {
                    "description": "`attachment`: a download, with its file name.",
                    "schema": {"type": "string"},
                },
            },
        },
    }


@functools.cache
def _cached_document() -> dict[str, Any]:
    return build_document()


def get_document() -> dict[str, Any]:
    """The document for the whole API, built on first use and cached for the process (a deep copy)."""
    return copy.deepcopy(_cached_document())


@functools.cache
def document_json() -> str:
    """The document serialised once per process (what `GET /openapi.json` serves)."""
    import json

    return json.dumps(_cached_document(), separators=(",", ":"), sort_keys=False)


def operations_by_key() -> dict[tuple[str, str], Operation]:
    return {operation.key: operation for operation in OPERATIONS}
