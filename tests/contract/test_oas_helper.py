"""The validation helper really rejects what the specs forbid (so passing contract tests mean something)."""

from __future__ import annotations

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    InvalidRequestBody,
    MissingRequiredParameter,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import InvalidData

from tests.contract.oas import normalise_nullable, validate_request, validate_response


def test_normalise_nullable_rewrites_oas30_nullable_the_31_way() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "nullable": True},
            "b": {"type": "string", "enum": ["x", None]},
            "c": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"},
            "d": {"type": "string", "nullable": False},
        },
    }
    properties = normalise_nullable(schema)["properties"]
    assert properties["a"] == {"type": ["string", "null"]}
    assert properties["b"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert properties["c"] == {
        "description": "d",
        "anyOf": [{"allOf": [{"$ref": "#/components/schemas/X"}]}, {"type": "null"}],
    }
    assert properties["d"] == {"type": "string"}


def _response(method: str, path: str, status: int, body: bytes, **request_kwargs: object) -> httpx.Response:
    request = httpx.Request(method, f"http://127.0.0.1:1{path}", **request_kwargs)  # type: ignore[arg-type]
    return httpx.Response(status, headers={"content-type": "application/json"}, content=body, request=request)


def test_responses_breaking_the_spec_are_rejected(platform_spec: OpenAPI, ats_spec: OpenAPI) -> None:
    auth = {"Authorization": "Basic eDo="}
    missing_owner = _response(
        "GET", "/accounts", 200, b'[{"id": "a", "provider": "p", "status": "active"}]', headers=auth
    )
    with pytest.raises(InvalidData):
        validate_response(platform_spec, missing_owner)
    error_without_timestamp = _response(
        "GET", "/accounts", 401, b'{"statusCode": 401, "message": "Unauthorized"}'
    )
    with pytest.raises(InvalidData):
        validate_response(platform_spec, error_without_timestamp)
    string_status = _response(
        "GET",
        "/unified/ats/job_postings",
        200,
        b'{"data": [{"id": "1", "status": "live"}]}',
        headers={**auth, "x-account-id": "a"},
    )
    with pytest.raises(InvalidData):
        validate_response(ats_spec, string_status)
    nulls_are_fine = _response(
        "GET",
        "/unified/ats/job_postings",
        200,
        b'{"data": [{"id": null, "status": null, "internal": null}], "next": null}',
        headers={**auth, "x-account-id": "a"},
    )
    validate_response(ats_spec, nulls_are_fine)


def test_requests_breaking_the_spec_are_rejected(ats_spec: OpenAPI, platform_spec: OpenAPI) -> None:
    no_account = httpx.Request(
        "GET", "http://127.0.0.1:1/unified/ats/job_postings", headers={"Authorization": "Basic eDo="}
    )
    with pytest.raises(MissingRequiredParameter, match="x-account-id"):
        validate_request(ats_spec, no_account)
    no_auth = httpx.Request("GET", "http://127.0.0.1:1/accounts")
    with pytest.raises(SecurityValidationError):
        validate_request(platform_spec, no_auth)
    bad_session = httpx.Request(
        "POST",
        "http://127.0.0.1:1/connect_sessions",
        json={"origin_owner_id": "x"},
        headers={"Authorization": "Basic eDo="},
    )
    with pytest.raises(InvalidRequestBody):
        validate_request(platform_spec, bad_session)


def test_request_details_the_apply_and_sync_code_could_get_wrong_are_caught(ats_spec: OpenAPI) -> None:
    headers = {"Authorization": "Basic eDo=", "x-account-id": "acc"}
    # The spec's own example writes the answer type as a plain string; the schema wants {"value": ...}.
    string_answer_type = httpx.Request(
        "POST",
        "http://127.0.0.1:1/unified/ats/applications",
        json={
            "questionnaires": [{"id": "q", "answers": [{"id": "a", "type": "short_text", "values": ["x"]}]}]
        },
        headers=headers,
    )
    with pytest.raises(InvalidRequestBody):
        validate_request(ats_spec, string_answer_type)
    not_a_date = httpx.Request(
        "GET",
        "http://127.0.0.1:1/unified/ats/job_postings",
        params={"filter[updated_after]": "yesterday"},
        headers=headers,
    )
    with pytest.raises(InvalidParameter):
        validate_request(ats_spec, not_a_date)
