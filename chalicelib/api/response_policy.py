"""Rules every API response follows, whatever view answered: HEAD, private caching, security headers.

- **HEAD** is answered on every GET route (`add_head_routes`): the GET view runs and the body is dropped,
  so headers (ETag, Cache-Control, Content-Type) are the GET's. API Gateway gets a HEAD method per GET
  route from the same route table when `chalice package` builds the API.
- **Private responses are never stored:** an employer route (it has an authorizer) and every write
  (POST, PUT, PATCH, DELETE: applications, apply clicks, uploads, connect sessions) answers
  `Cache-Control: no-store`, errors included, so no browser or CDN keeps candidates' or employers' data.
  Errors of public routes are `no-store` too unless the view says otherwise (the HTML error pages).
- **Security headers:** HSTS and `nosniff` on every response; HTML also gets `Referrer-Policy`, framing
  refused (`X-Frame-Options` and, without a page policy of its own, CSP `frame-ancestors 'none'`). A
  view's own values (the pages' full Content-Security-Policy, the apply page's `no-referrer`) are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Chalice, Response
from chalice.app import Request

from chalicelib.http_headers import (
    HTML_SECURITY_HEADERS,
    RESPONSE_SECURITY_HEADERS,
    content_etag,
    etag_matches,
)

PRIVATE_CACHE_CONTROL = "no-store"
# Methods whose responses carry what the caller sent or was given: never cacheable.
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

response_policy_blueprint = Blueprint(__name__)


def add_head_routes(app: Chalice) -> None:
    """Register HEAD on every GET route (same view, authorizer, CORS), unless the route has its own."""
    for path, entries in list(app.routes.items()):
        get = entries.get("GET")
        if get is None or "HEAD" in entries:
            continue
        app.route(
            path,
            methods=["HEAD"],
            name=get.view_name,
            authorizer=get.authorizer,
            api_key_required=get.api_key_required,
            content_types=get.content_types,
            cors=get.cors,
        )(get.view_function)


def public_cache_control(max_age_seconds: int) -> str:
    """Cache-Control of a public response: shared caches (a CDN in front) may keep it `max_age_seconds`."""
    return f"public, max-age={max_age_seconds}"


def public_response(request: Request, body: str, content_type: str, *, max_age_seconds: int) -> Response:
    """200 with a public body, its strong ETag and `public_cache_control`; 304 without a body when the
    client's `If-None-Match` names the current ETag."""
    headers: dict[str, str | list[str]] = {
        "ETag": content_etag(body.encode("utf-8")),
        "Cache-Control": public_cache_control(max_age_seconds),
    }
    if etag_matches(request.headers.get("if-none-match"), str(headers["ETag"])):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=200, headers={**headers, "Content-Type": content_type})


def _is_private(request: Request, app: Chalice) -> bool:
    if request.method in _WRITE_METHODS:
        return True
    resource = str((request.context or {}).get("resourcePath") or "")
    entry = app.routes.get(resource, {}).get(request.method)
    return entry is not None and entry.authorizer is not None


def _header(headers: dict[str, Any], name: str) -> str | None:
    lowered = name.lower()
    return next((str(value) for key, value in headers.items() if key.lower() == lowered), None)


def _set_default(headers: dict[str, Any], name: str, value: str) -> None:
    if _header(headers, name) is None:
        headers[name] = value


def _replace(headers: dict[str, Any], name: str, value: str) -> None:
    for key in [key for key in headers if key.lower() == name.lower()]:
        del headers[key]
    headers[name] = value


def apply_policy(request: Request | None, response: Response, app: Chalice) -> Response:
    """The response with the policy applied (headers changed in place; the body dropped for HEAD)."""
    headers = response.headers
    for name, value in RESPONSE_SECURITY_HEADERS.items():
        _set_default(headers, name, value)
    if (_header(headers, "Content-Type") or "").startswith("text/html"):
        for name, value in HTML_SECURITY_HEADERS.items():
            _set_default(headers, name, value)
    if request is None:
        return response
    if _is_private(request, app):
        _replace(headers, "Cache-Control", PRIVATE_CACHE_CONTROL)
    elif response.status_code >= 400:
        # An error says how this one request went (a 503 during an outage, a 429): a CDN keeps none.
        _set_default(headers, "Cache-Control", PRIVATE_CACHE_CONTROL)
    if request.method == "HEAD":
        response.body = ""
    return response


@response_policy_blueprint.middleware("http")
def response_policy(event: Request, get_response: Callable[[Request], Response]) -> Response:
    return apply_policy(event, get_response(event), response_policy_blueprint.current_app)
