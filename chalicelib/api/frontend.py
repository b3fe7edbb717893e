"""The reference web frontend: three HTML pages and their static assets, served by the app itself.

Pages live under `/board` so they never collide with the JSON API (`/jobs/{job_id}` is JSON):
`/board` (search), `/board/jobs/{job_id}` (one posting, apply), `/board/employer` (employer console),
assets under `/board/assets/{name}`. The board and job pages are rendered on the server from the board
service (see pages.py): an unknown job answers 404 and a closed one 410, each with a page that helps.
Their scripts then call only the public JSON API with `fetch`.
`PUBLIC_BASE_URL` should therefore end in `/board`, so `{PUBLIC_BASE_URL}/jobs/{job_id}` is the job page
(and Embloy's `?applied=embloy` / `?cancelled=embloy` return URLs land on it); `/board/feed.xml` and
`/board/sitemap.xml` redirect to the API's feeds so URLs derived from `PUBLIC_BASE_URL` keep working.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import ValidationError

from chalicelib import deps
from chalicelib.api import pages
from chalicelib.api.board import parse_query, query_params
from chalicelib.api.http_errors import DEFAULT_RETRY_AFTER_SECONDS, handle_errors, status_for
from chalicelib.api.response_policy import public_cache_control
from chalicelib.errors import AppError, InvalidRequestError, NotFoundError
from chalicelib.http_headers import content_etag, etag_matches
from chalicelib.observability import logger
from chalicelib.settings import get_settings

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


SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# The employer console changes only with deploys and carries no per-user data (the key stays in the
# browser): always revalidate (cheap with the ETag). Error pages are never kept either.
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


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str
    content_security_policy: str = CONTENT_SECURITY_POLICY

    @property
    def is_text(self) -> bool:
        return "charset=" in self.content_type or self.content_type.startswith("text/")


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
    return StaticFile(body=body, content_type=content_type, etag=content_etag(body))


def hub_bundle_deployed() -> bool:
    """Whether the optional StackOne Hub web component bundle ships with this deployment."""
    return (ASSETS_DIR / HUB_BUNDLE).is_file()


@functools.cache
def render_page(page: str, base: str, *, with_hub: bool = False) -> StaticFile:
    """A page without per-request data (the employer console) with the path prefix filled in.

    `with_hub` loads the StackOne Hub web component on the page (and widens its policy for StackOne).
    """
    body = pages.render(
        f"{page}.html", base=base, board_name=get_settings().board_name, section=page, with_hub=with_hub
    ).encode()
    policy = HUB_CONTENT_SECURITY_POLICY if with_hub else CONTENT_SECURITY_POLICY
    return StaticFile(
        body=body,
        content_type="text/html; charset=utf-8",
        etag=content_etag(body),
        content_security_policy=policy,
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


def html_response(
    request: Request, html_text: str, status: int = 200, *, policy: str = CONTENT_SECURITY_POLICY
) -> Response:
    """A rendered page: 200 (or 304 when the client's copy is current), or an error page's status."""
    body = html_text.encode()
    file = StaticFile(
        body=body,
        content_type="text/html; charset=utf-8",
        etag=content_etag(body),
        content_security_policy=policy,
    )
    if status == 200:
        # The board's pages show the board's data: cached as long as its JSON (a CDN may serve them).
        max_age = get_settings().board_cache_max_age_seconds
        return static_response(request, file, public_cache_control(max_age))
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": policy,
        "Cache-Control": PAGE_CACHE_CONTROL,
        "Content-Type": file.content_type,
    }
    if status == 503:
        headers["Retry-After"] = str(DEFAULT_RETRY_AFTER_SECONDS)
    return Response(body=html_text, status_code=status, headers=headers)


def _common(base: str) -> dict[str, str]:
    return {"base": base, "board_name": get_settings().board_name}


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


_INVALID_LINK = "Some search settings in this link are not valid. Start a new search."
# What the page says for the filters whose problem the person can fix in the form.
_FILTER_ERRORS = {
    "unknown_place": "We don't know a city of that name. Try another spelling or a larger city nearby.",
    "pay_currency_required": "Give the currency of the pay amount, e.g. EUR or USD.",
}


@frontend_blueprint.route("/board", methods=["GET"])
@handle_errors
def board_page() -> Response:
    """The board with its first results, filters and pagination in the HTML (works without scripts)."""
    request = frontend_blueprint.current_request
    base = path_prefix(request, "/board")
    from chalicelib.services.board.query import check_filter_counts

    params = query_params(request)
    state = pages.board_state(params)
    public_url = get_settings().public_base_url.rstrip("/")
    body, error, error_code, status = None, None, "", 200
    try:
        check_filter_counts(params)  # board_state drops blank filter values; the limit counts them
        body = deps.get_board_service().list_jobs(parse_query(pages.api_params(state))).body
    except (ValidationError, InvalidRequestError) as exc:
        code = exc.code if isinstance(exc, InvalidRequestError) else "invalid_request"
        error, error_code = _FILTER_ERRORS.get(code, _INVALID_LINK), code
        status = 400
        state = {**state, "cursor": "", "page": 1}
    except AppError as exc:
        logger.warning("board page without results", extra={"error_code": exc.code})
        error, status = "We couldn't load jobs just now. Please try again.", max(status_for(exc), 500)
    context = pages.board_context(
        state, body, base=base, public_url=public_url, error=error, error_code=error_code
    )
    return html_response(request, pages.render("board.html", **_common(base), **context), status)


@frontend_blueprint.route("/board/jobs/{job_id}", methods=["GET"])
@handle_errors
def job_page(job_id: str) -> Response:
    """One posting rendered on the server (JSON-LD included); 404 when unknown, 410 when closed."""
    request = frontend_blueprint.current_request
    base = path_prefix(request, f"/board/jobs/{job_id}")
    try:
        page = deps.get_board_service().job_page(job_id)
    except AppError as exc:
        logger.warning("job page unavailable", extra={"error_code": exc.code})
        retry = f"{base}/board/jobs/{job_id}" if re.fullmatch(r"[A-Za-z0-9_-]{1,512}", job_id) else ""
        context = pages.error_context(base=base, retry_url=retry or f"{base}/board")
        return html_response(request, pages.render("missing.html", **_common(base), **context), 503)
    if page.state == "live" and page.job is not None:
        from chalicelib.api.numbers import count_request

        count_request(job_id, "view", request)  # a view is this page (HEAD, prefetches and bots excluded)
        context = pages.job_context(page.job, base=base, params=query_params(request), similar=page.similar)
        # The application form posts the resume straight to the upload bucket.
        origin = deps.get_resume_uploads().origin()
        policy = CONTENT_SECURITY_POLICY.replace("connect-src 'self'", f"connect-src 'self' {origin}", 1)
        return html_response(request, pages.render("job.html", **_common(base), **context), policy=policy)
    context = pages.missing_context(page.state, base=base, title=page.title, company=page.company)
    status = 410 if page.state == "closed" else 404
    return html_response(request, pages.render("missing.html", **_common(base), **context), status)


@frontend_blueprint.route("/board/employer", methods=["GET"])
@handle_errors
def employer_page() -> Response:
    request = frontend_blueprint.current_request
    file = render_page("employer", path_prefix(request, "/board/employer"), with_hub=hub_bundle_deployed())
    return static_response(request, file, PAGE_CACHE_CONTROL)


@frontend_blueprint.route("/board/assets/{name}", methods=["GET"])
@handle_errors
def asset(name: str) -> Response:
    request = frontend_blueprint.current_request
    return static_response(request, load_asset(name), ASSET_CACHE_CONTROL)
