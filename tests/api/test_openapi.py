"""The OpenAPI document covers exactly the app's routes, matches their auth, and is valid OAS 3.1."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from app import app
from chalicelib.api.openapi import OPERATIONS, build_document, operations_by_key


def documented_entries() -> dict[str, dict[str, Any]]:
    """The app's routes minus the HEAD that mirrors each GET (the document says so once, not per path)."""
    return {
        path: {method: entry for method, entry in entries.items() if method != "HEAD"}
        for path, entries in app.routes.items()
    }


def registered_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, entries in documented_entries().items() for method in entries}


def test_every_get_route_answers_head_with_the_same_view() -> None:
    for path, entries in app.routes.items():
        if "GET" in entries:
            assert entries["HEAD"].view_function is entries["GET"].view_function, path
            assert entries["HEAD"].authorizer is entries["GET"].authorizer, path
        else:
            assert "HEAD" not in entries, path
    assert "HEAD" in build_document()["info"]["description"]


def test_every_registered_route_and_method_is_documented() -> None:
    document = build_document()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    missing = registered_routes() - documented
    assert not missing, f"routes without an entry in chalicelib/api/openapi.py OPERATIONS: {sorted(missing)}"


def test_no_operation_documents_a_route_the_app_does_not_have() -> None:
    stale = set(operations_by_key()) - registered_routes()
    assert not stale, f"documented but not registered: {sorted(stale)}"
    assert len(operations_by_key()) == len(OPERATIONS), "two entries share a (method, path)"


def test_auth_in_the_document_matches_each_routes_authorizer() -> None:
    for path, entries in documented_entries().items():
        for method, entry in entries.items():
            operation = operations_by_key()[(method, path)]
            assert operation.auth == (entry.authorizer is not None), (method, path)


def test_path_parameters_match_the_route_templates() -> None:
    for path, entries in documented_entries().items():
        for method, entry in entries.items():
            assert set(operations_by_key()[(method, path)].path_params) == set(entry.view_args), (
                method,
                path,
            )


def test_document_is_valid_openapi_3_1() -> None:
    document = build_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_errors_share_one_component_and_employer_routes_use_bearer_auth() -> None:
    document = build_document()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"employerApiKey": {**schemes["employerApiKey"], "type": "http", "scheme": "bearer"}}
    error_ref = "#/components/schemas/ErrorResponse"
    error_schema = document["components"]["schemas"]["ErrorResponse"]
    assert error_schema["required"] == ["error"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and "text/html" in response.get("content", {}):
                    # The frontend's pages answer their errors as pages (404/410 job, 400/503 board).
                    assert operation["tags"] == ["frontend"], (method, path, status)
                elif int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, (method, path, status)
            if operations_by_key()[(method.upper(), path)].auth:
                assert operation["security"] == [{"employerApiKey": []}]
                assert "401" in operation["responses"]


def test_get_openapi_json_serves_the_document(client: Any) -> None:
    response = client.http.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = json.loads(response.body)
    assert document == json.loads(json.dumps(build_document()))
    assert "/openapi.json" in document["paths"]


def test_importing_the_app_does_not_build_or_import_the_generator() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, app; "
        "print('chalicelib.api.openapi' in sys.modules, 'chalicelib.models.responses' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert result.stdout.split() == ["False", "False"]


def test_routes_that_restrict_content_types_declare_415() -> None:
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            if method in ("POST", "PUT", "PATCH") and "*/*" not in (entry.content_types or []):
                assert 415 in operations_by_key()[(method, path)].errors, (method, path)


def test_every_request_body_example_is_valid_under_its_own_schema() -> None:
    # The long tier sends each example to the local stack; this is the cheap half of that promise.
    import jsonschema

    document = json.loads(json.dumps(build_document()))
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
                if "example" not in media:
                    continue
                schema = {**media["schema"], "components": document["components"]}
                validator = jsonschema.Draft202012Validator(
                    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
                )
                errors = [error.message for error in validator.iter_errors(media["example"])]
                assert not errors, (method, path, media_type, errors)
                checked += 1
    assert checked >= 6
