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
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Unified job board API"
API_VERSION = "1.0.0"
SCHEMA_REF = "#/components/schemas/{model}"
ERROR_MODEL = "chalicelib.models.api_docs:ErrorResponse"
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
    415: "Unsupported media type.",
    422: "Valid JSON, but semantically wrong.",
    429: "Throttled; retry after `Retry-After` seconds.",
    500: "Unexpected error (never a stack trace).",
    501: "Not supported by the employer's ATS; `external_apply_url` says where to apply instead.",
    502: "The upstream (StackOne or Embloy) failed.",
    503: "The upstream is unavailable; retry after `Retry-After` seconds.",
    504: "The upstream timed out.",
}
RETRY_AFTER_STATUSES = (429, 503)

ParamLocation = Literal["query", "header", "path"]


@dataclass(frozen=True)
class Header:
    """A request header an operation reads."""

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
    body: str | None = None
    body_required: bool = False
    body_media_types: tuple[str, ...] = ("application/json",)
    body_example: Any = None
    headers: tuple[Header, ...] = ()
    path_params: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


IF_NONE_MATCH = Header("If-None-Match", "An ETag from an earlier response; a match answers 304.")
NOT_MODIFIED = Reply("Not modified: the client's copy (by ETag) is current.", media_type=None)
ETAG_HEADERS = ("ETag", "Cache-Control")
JOB_ID = "The board's stable, URL-safe job id (from a listing's `job_id`)."

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/health",
        "health",
        "Liveness",
        "system",
        {200: Reply("The API is up.", "chalicelib.models.api_docs:HealthResponse", example={"status": "ok"})},
    ),
    Operation(
        "GET",
        "/openapi.json",
        "openapi",
        "This document",
        "system",
        {200: Reply("The OpenAPI 3.1 document of this API.", media_type="application/json")},
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


def _query_parameters(model: Any) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/$defs/{model}", mode="validation")
    definitions = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop_schema = _inline(prop, definitions)
        description = prop_schema.pop("description", None)
        prop_schema.pop("title", None)
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
        parameters.extend(_query_parameters(resolve(operation.query)))
    for header in operation.headers:
        parameters.append(
            {
                "name": header.name,
                "in": "header",
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


def build_document(operations: Iterable[Operation] = OPERATIONS) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `operations`."""
    operations = list(operations)
    refs, schemas = _model_schemas(operations)
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
                '"fields"?}}` with the status saying what kind of problem it is.'
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
