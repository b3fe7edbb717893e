"""The fuzzer's own generators: "valid" request bodies really are valid for the document's schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib.api.openapi import build_document
from tests.quality.fuzz_support import Case, body_media, check_response, from_schema, inline_refs

DOCUMENT = json.loads(json.dumps(build_document()))
BODY_SCHEMAS = {
    f"{method.upper()} {path}": inline_refs(
        body_media(operation["requestBody"])["schema"], DOCUMENT["components"]["schemas"]
    )
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if "requestBody" in operation
}


@pytest.mark.parametrize("operation", sorted(BODY_SCHEMAS))
def test_generated_bodies_validate_against_the_operation_schema(operation: str) -> None:
    schema = BODY_SCHEMAS[operation]

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=from_schema(schema))
    def run(value: object) -> None:
        jsonschema.Draft202012Validator(schema).validate(value)

    run()


def test_from_schema_respects_bounds_and_patterns() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "id": {"type": "string", "pattern": "^[a-z]{2,4}$"},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2},
        },
        "required": ["n", "id"],
    }

    @settings(max_examples=30, deadline=None, database=None, derandomize=True)
    @given(value=from_schema(schema))
    def run(value: dict[str, object]) -> None:
        jsonschema.Draft202012Validator(schema).validate(value)
        assert {"n", "id"} <= set(value)

    run()


def _case(method: str, path: str) -> Case:
    return Case(method, path, path, {}, None, False)


def test_check_response_accepts_a_declared_conforming_response() -> None:
    check_response(DOCUMENT, _case("GET", "/health"), 200, {}, b'{"status": "ok"}')


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (500, b'{"error": {"code": "internal_error", "message": "x"}}', "500"),
        (418, b'{"error": {"code": "teapot", "message": "x"}}', "undeclared status"),
        (200, b'{"status": "maybe"}', "violates the document"),
        (200, b"<html>", "not JSON"),
    ],
)
def test_check_response_rejects_5xx_undeclared_statuses_and_schema_violations(
    status: int, body: bytes, problem: str
) -> None:
    with pytest.raises(AssertionError, match=problem):
        check_response(DOCUMENT, _case("GET", "/health"), status, {}, body)


def test_check_response_requires_the_error_shape_on_errors() -> None:
    with pytest.raises(AssertionError, match="violates the document"):
        check_response(DOCUMENT, _case("GET", "/jobs/{job_id}"), 404, {}, b'{"message": "Not found"}')
