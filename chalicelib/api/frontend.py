"""The reference web frontend: three HTML pages and their static assets, served by the app itself.

Pages live under `/board` so they never collide with the JSON API (`/jobs/{job_id}` is JSON):
`/board` (search), `/board/jobs/{job_id}` (one posting, apply), `/board/employer` (employer console),
assets under `/board/assets/{name}`. The pages call only the public JSON API with `fetch`.
`PUBLIC_BASE_URL` should therefore end in `/board`, so `{PUBLIC_BASE_URL}/jobs/{job_id}` is the job page
(and Embloy's `?applied=embloy` / `?cancelled=embloy` return URLs land on it); `/board/feed.xml` and
`/board/sitemap.xml` redirect to the API's feeds so URLs derived from `PUBLIC_BASE_URL` keep working.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import deps
from chalicelib.api.http_errors import handle_errors
from chalicelib.errors import NotFoundError
from chalicelib.http_headers import etag_matches

frontend_blueprint = Blueprint(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS_DIR = STATIC_DIR / "assets"


# Scripts and styles only from our own origin, no inline code; the API is same-origin (connect-src).
# Job descriptions render in a sandboxed srcdoc frame that inherits this policy; https images are allowed
# because sanitised descriptions may carry them.
def _policy(**extra: str) -> str:
    directives = {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: https:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-src": "'self'",
        "form-action": "'self'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "manifest-src": "'self'",
    }
    for name, sources in extra.items():
        key = name.replace("_", "-")
        directives[key] = f"{directives[key]} {sources}"
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


CONTENT_SECURITY_POLICY = _policy()

# The StackOne Hub web component (optional: a self-contained ES module build of `@stackone/hub` saved as
# assets/stackone-hub.js) talks to StackOne, frames providers' sign-in pages and injects its own styles,
# so the employer page widens its policy for StackOne only when that bundle is deployed.
HUB_BUNDLE = "stackone-hub.js"
HUB_CONTENT_SECURITY_POLICY = _policy(
    style_src="'unsafe-inline'",
    connect_src="https://*.stackone.com",
    frame_src="https://*.stackone.com",
    font_src="https: data:",
)
HUB_PLACEHOLDER = "{{hub_script}}"


SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# Pages change with deploys and carry no per-user data: always revalidate (cheap with the ETag).
PAGE_CACHE_CONTROL = "no-cache"
# Asset names are not fingerprinted, so keep their lifetime short and revalidate with the ETag after it.
ASSET_CACHE_CONTROL = "public, max-age=300, must-revalidate"

TEXT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json; charset=utf-8",
}
# Binary bodies go out as bytes; Chalice base64-encodes them for API Gateway when the type is one of the
# app's binary types (png/jpeg/gif are in Chalice's defaults).
BINARY_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}

ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)+$")
PAGES = {"board": "board.html", "job": "job.html", "employer": "employer.html"}
BASE_PLACEHOLDER = "{{base}}"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str
    content_security_policy: str = CONTENT_SECURITY_POLICY

    @property
    def is_text(self) -> bool:
        return "charset=" in self.content_type or self.content_type.startswith("text/")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@functools.cache
def load_asset(name: str) -> StaticFile:
    """An asset by file name (one path segment, a known type, present on disk); NotFoundError otherwise."""
    if not ASSET_NAME.fullmatch(name):
        raise NotFoundError("No such asset.", code="asset_not_found")
    suffix = Path(name).suffix
    content_type = TEXT_TYPES.get(suffix) or BINARY_TYPES.get(suffix)
    path = ASSETS_DIR / name
    if content_type is None or not path.is_file():
        raise NotFoundError("No such asset.", code="asset_not_found")
    body = path.read_bytes()
    return StaticFile(body=body, content_type=content_type, etag=_etag(body))


def hub_bundle_deployed() -> bool:
    """Whether the optional StackOne Hub web component bundle ships with this deployment."""
    return (ASSETS_DIR / HUB_BUNDLE).is_file()


@functools.cache
def render_page(page: str, base: str, *, with_hub: bool = False) -> StaticFile:
    """A page's HTML with the API/asset path prefix (the API Gateway stage, or "") filled in.

    `with_hub` loads the StackOne Hub web component on the page (and widens its policy for StackOne).
    """
    template = (STATIC_DIR / PAGES[page]).read_text(encoding="utf-8")
    hub_script = f'<script type="module" src="{BASE_PLACEHOLDER}/board/assets/{HUB_BUNDLE}"></script>'
    template = template.replace(HUB_PLACEHOLDER, hub_script if with_hub else "")
    body = template.replace(BASE_PLACEHOLDER, html.escape(base, quote=True)).encode()
    policy = HUB_CONTENT_SECURITY_POLICY if with_hub else CONTENT_SECURITY_POLICY
    if page == "job":
        # The application form posts the resume straight to the upload bucket.
        origin = deps.get_resume_uploads().origin()
        policy = policy.replace("connect-src 'self'", f"connect-src 'self' {origin}", 1)
    return StaticFile(
        body=body, content_type="text/html; charset=utf-8", etag=_etag(body), content_security_policy=policy
    )


def path_prefix(request: Request, own_path: str) -> str:
    """What sits in front of our routes in the browser's URL: "/api" behind API Gateway's stage, else "".

    `requestContext.path` is the path as the browser sent it (with the stage); `own_path` is the route's
    path with its parameters filled in.
    """
    seen = str((request.context or {}).get("path") or own_path)
    if seen.endswith(own_path) and len(seen) > len(own_path):
        prefix = seen[: -len(own_path)]
        if re.fullmatch(r"(/[A-Za-z0-9_.~-]+)+", prefix):
            return prefix
    return ""


def static_response(request: Request, file: StaticFile, cache_control: str) -> Response:
    """200 with the file (text as str, binary as bytes) or 304 when the client's copy is current."""
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": file.content_security_policy,
        "Cache-Control": cache_control,
        "ETag": file.etag,
    }
    if etag_matches(request.headers.get("if-none-match"), file.etag):
        return Response(body="", status_code=304, headers=headers)
    body: str | bytes = file.body.decode("utf-8") if file.is_text else file.body
    return Response(body=body, status_code=200, headers={**headers, "Content-Type": file.content_type})


def api_redirect(own_path: str, target: str) -> Response:
    """301 from a frontend-relative path to the API's own (`{PUBLIC_BASE_URL}/feed.xml` -> `/feed.xml`)."""
    request = frontend_blueprint.current_request
    params = request.query_params
    query = urlencode([(name, value) for name in params for value in params.getlist(name)]) if params else ""
    location = path_prefix(request, own_path) + target + (f"?{query}" if query else "")
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Location": location,
        "Cache-Control": "public, max-age=3600",
    }
    return Response(body="", status_code=301, headers=headers)


def page_response(page: str, own_path: str) -> Response:
    request = frontend_blueprint.current_request
    with_hub = page == "employer" and hub_bundle_deployed()
    file = render_page(page, path_prefix(request, own_path), with_hub=with_hub)
    return static_response(request, file, PAGE_CACHE_CONTROL)


@frontend_blueprint.route("/", methods=["GET"])
@handle_errors
def home() -> Response:
    base = path_prefix(frontend_blueprint.current_request, "/")
    return Response(
        body="",
        status_code=302,
        headers={**SECURITY_HEADERS, "Location": f"{base}/board", "Cache-Control": "no-cache"},
    )


@frontend_blueprint.route("/board/feed.xml", methods=["GET"])
@handle_errors
def feed_alias() -> Response:
    return api_redirect("/board/feed.xml", "/feed.xml")


@frontend_blueprint.route("/board/sitemap.xml", methods=["GET"])
@handle_errors
def sitemap_alias() -> Response:
    return api_redirect("/board/sitemap.xml", "/sitemap.xml")


@frontend_blueprint.route("/board", methods=["GET"])
@handle_errors
def board_page() -> Response:
    return page_response("board", "/board")


@frontend_blueprint.route("/board/jobs/{job_id}", methods=["GET"])
@handle_errors
def job_page(job_id: str) -> Response:
    return page_response("job", f"/board/jobs/{job_id}")


@frontend_blueprint.route("/board/employer", methods=["GET"])
@handle_errors
def employer_page() -> Response:
    return page_response("employer", "/board/employer")


@frontend_blueprint.route("/board/assets/{name}", methods=["GET"])
@handle_errors
def asset(name: str) -> Response:
    request = frontend_blueprint.current_request
    return static_response(request, load_asset(name), ASSET_CACHE_CONTROL)
