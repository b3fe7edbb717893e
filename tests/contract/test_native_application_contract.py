"""The body the board sends to `POST /unified/ats/applications` conforms to StackOne's published ATS spec.

The application goes through the real route and service (every question type, an attachment answer, a
resume); the request it sends is captured with respx and validated with openapi-core.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from openapi_core import OpenAPI
from openapi_core.validation.request.exceptions import InvalidRequestBody

from tests.api.apply_factories import (
    DOCX,
    TXT,
    application_body,
    b64,
    json_headers,
    make_posting,
    make_questionnaire,
    store_posting,
    store_stackone_key,
)
from tests.contract.oas import validate_request, validate_response

CREATED = {
    "statusCode": 201,
    "message": "Record created successfully.",
    "timestamp": "2026-11-22T12:00:00.000Z",
    "data": {"id": "app-123", "remote_id": "r-123"},
}


def test_native_application_request_conforms_to_the_ats_spec(ats_spec: OpenAPI, client: Any) -> None:
    store_stackone_key()
    posting = store_posting(make_posting(questionnaires=[make_questionnaire()]))
    body = application_body(
        answers={
            "q_text": "Robots",
            "q_long": "A longer story.",
            "q_num": 7,
            "q_date": "2027-01-15",
            "q_bool": False,
            "q_url": "https://ada.dev",
            "q_single": "yes",
            "q_where": "Berlin",
            "q_multi": ["py", "go"],
            "q_file": {"filename": "letter.txt", "content_base64": b64(TXT)},
        },
        resume={"filename": "cv.docx", "content_base64": b64(DOCX)},
    )
    with respx.mock(base_url="https://api.stackone.test") as stackone_api:
        route = stackone_api.post("/unified/ats/applications").respond(201, json=CREATED)
        response = client.http.post(
            f"/jobs/{posting.job_id}/applications", body=json.dumps(body), headers=json_headers()
        )

    assert response.status_code == 201
    request = route.calls.last.request
    validate_request(ats_spec, request)
    validate_response(ats_spec, httpx.Response(201, json=CREATED, request=request))
    sent = json.loads(request.content)
    assert [d["category"]["value"] for d in sent["documents"]] == ["resume", "other"]
    assert [d["file_format"]["value"] for d in sent["documents"]] == ["docx", "txt"]


def test_the_contract_check_catches_a_plain_string_answer_type(ats_spec: OpenAPI) -> None:
    """Guard for the test above: the spec example's `"type": "text"` shape must not pass."""
    body = {
        "job_posting_id": "p",
        "questionnaires": [{"id": "qn", "answers": [{"id": "q", "type": "short_text", "values": ["x"]}]}],
    }
    request = httpx.Request(
        "POST",
        "https://api.stackone.test/unified/ats/applications",
        json=body,
        headers={"x-account-id": "acct", "Authorization": "Basic dGVzdDo="},
    )
    with pytest.raises(InvalidRequestBody):
        validate_request(ats_spec, request)
