"""Schemathesis hooks of the API document run (tests/quality/test_api_document.py loads this file).

One narrow exception to "a schema-valid request must be accepted": a request refused (400/422) only for
what no JSON Schema can state.
- Page cursors are signed and bound to the query that produced them, so a generated `cursor` is refused
  (`invalid_cursor`) although it is a string as documented; the same request without the cursor must
  then be accepted.
- An Embloy client token must be a JWT whose header and payload decode to JSON with a future `exp`; the
  document states the JWT shape, not what the segments decode to.
- A native application's answers depend on the job's own questionnaire, a resume's content must match
  its extension, and an `upload_id` must name an upload made for that job (422 `invalid_application`,
  `answer_required`, `unknown_question`, `invalid_option`, `unsupported_file_type`, `upload_not_found`).
- A connect session's `provider` must be the provider of the `account_id` it names (400
  `provider_mismatch`), which only the stored account knows.
- A board search's `near` must name a city the embedded gazetteer knows (422 `unknown_place`), and
  `pay_min` needs `pay_currency` beside it (400 `pay_currency_required`: one parameter depending on
  another); on the board page (HTML) the code is the status box's `data-error-code`.
And one to "schema-violating data must be rejected" with a 4xx schemathesis expects: 413 is a rejection too
(a body past the route's byte limit is refused before its fields are read).
Every other failure stands.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData

# Error codes for content the document cannot express, per operation.
UNEXPRESSIBLE = {
    "PUT /employer/embloy-token": frozenset({"invalid_client_token", "embloy_token_expired"}),
    "POST /jobs/{job_id}/applications": frozenset(
        {
            "invalid_application",
            "answer_required",
            "unknown_question",
            "invalid_option",
            "unsupported_file_type",
            "upload_not_found",
        }
    ),
    "POST /connect-sessions": frozenset({"provider_mismatch"}),
    **dict.fromkeys(
        ("GET /jobs", "GET /feed.xml", "GET /board", "POST /alerts"),
        frozenset({"unknown_place", "pay_currency_required"}),
    ),
}


def _error_code(response: Any) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        found = re.search(rb'data-error-code="([a-z_]+)"', response.content or b"")
        return found.group(1).decode() if found else None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _accepted_without_cursor(case: Any) -> bool:
    """Send the case again without its cursor: accepted means the cursor alone was refused."""
    kwargs = case.as_transport_kwargs()
    params = {name: value for name, value in (kwargs.get("params") or {}).items() if name != "cursor"}
    again = requests.request(
        kwargs["method"], kwargs["url"], params=params, headers=kwargs.get("headers"), timeout=30
    )
    return again.status_code < 400


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """False drops the failure: only the refusals the module docstring names."""
    status = int(response.status_code)
    if isinstance(failure, AcceptedNegativeData):
        return status != 413
    if not isinstance(failure, RejectedPositiveData) or status not in (400, 422):
        return True
    if _error_code(response) in UNEXPRESSIBLE.get(f"{case.method.upper()} {case.path}", ()):
        return False
    return not ((case.query or {}).get("cursor") and _accepted_without_cursor(case))
