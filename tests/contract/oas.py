"""Validate HTTP traffic against StackOne's published OpenAPI specs (openapi-core).

The specs declare OAS 3.1 but use 3.0's `nullable: true` (and put `null` in string enums), which a 3.1
(JSON Schema 2020-12) validator ignores, so real `null` values would fail. `normalise_nullable` rewrites
them the 3.1 way (`type: [X, "null"]`, or `anyOf: [..., {type: null}]` where there is no `type`) before
loading. Each spec is parsed and normalised once per process (`load_spec` is cached), so the large ATS
spec costs its parse time only once per test session.

Requests and responses are captured from httpx and adapted to openapi-core's protocols. The adapters
report the spec's own server (`https://api.stackone.com`) as the host, so traffic to a sandbox on
127.0.0.1 is matched against the spec's paths.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

ATS_ENV = "STACKONE_OAS_ATS"
PLATFORM_ENV = "STACKONE_OAS_PLATFORM"
SPEC_HOST = "https://api.stackone.com"


def normalise_nullable(node: Any) -> Any:
    """A copy of a schema tree with OAS 3.0 `nullable` expressed in OAS 3.1 terms."""
    if isinstance(node, list):
        return [normalise_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: normalise_nullable(value) for key, value in node.items()}
    nullable = result.pop("nullable", False) is True
    enum = result.get("enum")
    if isinstance(enum, list) and None in enum:
        nullable = True
    if not nullable:
        return result
    if "type" in result:
        kind = result["type"]
        kinds = list(kind) if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            kinds.append("null")
        result["type"] = kinds
        if isinstance(enum, list) and None not in enum:
            result["enum"] = [*enum, None]
        return result
    if "$ref" in result or "allOf" in result or "oneOf" in result or "anyOf" in result:
        annotations = {k: result.pop(k) for k in ("description", "example", "deprecated") if k in result}
        return {**annotations, "anyOf": [result, {"type": "null"}]}
    return result


def strip_nullable(node: Any) -> Any:
    """A copy without `nullable` keys: parameter values are never JSON null, and openapi-core's
    parameter-style deserialisers need `type` to stay a single string."""
    if isinstance(node, list):
        return [strip_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: strip_nullable(value) for key, value in node.items() if key != "nullable"}


@functools.cache
def load_spec(path: str) -> OpenAPI:
    """The normalised spec at `path` as an openapi-core app (cached per process)."""
    document = json.loads(Path(path).read_text())
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if "schema" in parameter:
                        parameter["schema"] = strip_nullable(parameter["schema"])
    normalised = normalise_nullable(document)
    # The published files are valid OAS (checked upstream); skipping the meta-validation of ~1 MB of
    # schema keeps the contract tests fast.
    return OpenAPI.from_dict(normalised, config=Config(spec_validator_cls=None))


def spec_path(env_name: str) -> str | None:
    value = os.environ.get(env_name)
    return value if value and Path(value).is_file() else None


class OpenAPIRequestAdapter:
    """An httpx.Request seen through openapi-core's Request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(key, value) for key, values in query.items() for value in values]),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return SPEC_HOST

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        content = self._request.content
        return content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "application/json")).lower()


class OpenAPIResponseAdapter:
    """An httpx.Response seen through openapi-core's Response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self._response.headers.multi_items()))


def validate_request(spec: OpenAPI, request: httpx.Request) -> None:
    """Raises openapi-core's validation error when the request breaks the spec."""
    spec.validate_request(OpenAPIRequestAdapter(request))


def validate_response(spec: OpenAPI, response: httpx.Response, request: httpx.Request | None = None) -> None:
    """Raises when the response (to `request`, default its own request) breaks the spec."""
    response.read()
    spec.validate_response(
        OpenAPIRequestAdapter(request or response.request), OpenAPIResponseAdapter(response)
    )


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that passes requests through and keeps every (request, response) exchange,
    so a real client can be run against a sandbox and its traffic validated afterwards."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport(verify=False)  # plain HTTP on loopback: no CA bundle needed
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self._inner.close()


def spec_for(request: httpx.Request, ats_spec: OpenAPI, platform_spec: OpenAPI) -> OpenAPI:
    """The unified ATS spec for /unified/* paths, the platform spec for the rest."""
    return ats_spec if request.url.path.startswith("/unified/") else platform_spec
