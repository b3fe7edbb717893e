"""Request and response models of the employer routes (API shapes, separate from stored items)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.models.apply import EMAIL_PATTERN, NOT_WHITESPACE, WHITESPACE, is_email_address

# Linked-account ids go into StackOne URL paths: a strict alphabet rules out path tricks ("../", "?").
ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]


class _Request(BaseModel):
    # Unknown fields (e.g. a smuggled `origin_owner_id`) are dropped at parse time, so no code path can
    # ever read them; the owner always comes from the authenticated employer.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ConnectSessionRequest(_Request):
    """Body of POST /connect-sessions; every field optional."""

    provider: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    account_id: AccountId | None = None
    # Stripped first, so the pattern (a character that is not whitespace) means "not blank".
    label: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_WHITESPACE)] | None = (
        None
    )


class ConnectSessionResponse(BaseModel):
    token: str
    auth_link_url: str
    expires_at: datetime


class SyncNowRequest(_Request):
    """Optional body of POST /accounts/{account_id}/sync."""

    mode: Literal["auto", "full"] = "auto"


class StatusReasonView(BaseModel):
    code: str | None = None
    description: str | None = None
    timestamp: datetime | None = None


AttentionAction = Literal["reconnect", "contact_operator"]


class AttentionView(BaseModel):
    """Why an account needs the employer, and what to do: `reconnect` = mint an edit-mode connect
    session with this account_id and open the Hub; `contact_operator` = nothing the employer can fix."""

    reason: str
    action: AttentionAction
    # A broken link: when the board first saw it fail, and when the account's postings leave the board
    # (BROKEN_LINK_GRACE_HOURS later; a moment in the past means they left then). Null otherwise.
    since: datetime | None = None
    postings_close_at: datetime | None = None


class SkippedPostingView(BaseModel):
    posting_id: str
    reason: str


class SyncView(BaseModel):
    last_run_started_at: datetime | None = None
    last_run_finished_at: datetime | None = None
    last_outcome: str | None = None
    live_postings: int = 0
    last_error: str | None = None
    consecutive_failures: int = 0
    # Postings the last run left out (could not be mapped or stored), the first few by id.
    skipped: int = 0
    skipped_postings: list[SkippedPostingView] = Field(default_factory=list)
    # Why the last listing stopped early (StackOne repeated a cursor, too many pages), if it did.
    paging_issue: str | None = None
    # Location names the last run could not place on a map (the distance filter cannot find them).
    unplaced_locations: int = 0
    unplaced_location_names: list[str] = Field(default_factory=list)


class AccountView(BaseModel):
    account_id: str
    provider: str
    provider_name: str | None = None
    label: str | None = None
    status: str
    status_reasons: list[StatusReasonView] = Field(default_factory=list)
    created_at: datetime | None = None
    sync: SyncView
    needs_attention: bool
    attention: AttentionView | None = None


class AccountsResponse(BaseModel):
    data: list[AccountView]


class SyncQueuedResponse(BaseModel):
    status: Literal["queued"] = "queued"
    account_id: str
    run_id: str
    mode: Literal["auto", "full"]


class NotificationSettingsRequest(_Request):
    """Body of PUT /employer/notifications: where the board emails the employer, and what."""

    email: str | None = Field(
        None,
        max_length=254,
        description="The address for connection problems and the digest; null or empty turns email off.",
        json_schema_extra={"pattern": f"(?:^{WHITESPACE}*$)|(?:{EMAIL_PATTERN})"},
    )
    new_applications_digest: bool = Field(
        False,
        strict=True,  # true or false, as the document says (not 0, 1 or "yes")
        description="A daily email listing the previous day's applications (only when there were any, and "
        "only while `email` is set).",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not is_email_address(value):
            raise ValueError("must be a valid email address")
        return value


class NotificationSettingsResponse(BaseModel):
    """The employer's notification settings (GET and PUT /employer/notifications)."""

    email: str | None
    new_applications_digest: bool
    updated_at: datetime | None
