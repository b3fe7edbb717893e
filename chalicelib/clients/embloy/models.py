"""What the board sends to and reads from Embloy's quicklink endpoint."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

# The modes Embloy's server accepts (`check_valid_mode`); case-sensitive.
EmbloyMode = Literal["job", "lever", "ashby", "softgarden"]
# ATS providers whose postings Embloy can take, by StackOne provider key -> Embloy mode.
MODE_BY_PROVIDER: dict[str, EmbloyMode] = {"lever": "lever", "ashby": "ashby", "softgarden": "softgarden"}
# Embloy stores `<mode>__<slug>` in a varchar(100); keep room for the prefix.
MAX_JOB_SLUG_LENGTH = 100 - len("softgarden__")


class EmbloySession(BaseModel):
    """Form fields of POST /api/v0/sdk/request/auth/token (never taken from a candidate's request)."""

    model_config = ConfigDict(frozen=True)

    mode: EmbloyMode
    job_slug: str = Field(min_length=1, max_length=MAX_JOB_SLUG_LENGTH)  # the ATS posting id, unprefixed
    success_url: str
    cancel_url: str


class RequestTokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    request_token: str = Field(min_length=1)


def portal_url(portal_base_url: str, request_token: str) -> str:
    """Where the candidate goes: `{portal}/sdk/apply?request_token=...` (the token URL-encoded)."""
    return f"{portal_base_url.rstrip('/')}/sdk/apply?{urlencode({'request_token': request_token})}"
