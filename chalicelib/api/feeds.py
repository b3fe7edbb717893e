"""GET /feed.xml (RSS 2.0 of the newest live postings), GET /sitemap.xml (every live posting, a sitemap
index past 50,000) and GET /robots.txt (crawl everything, here is the sitemap)."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint, Response

from chalicelib import deps
from chalicelib.api.board import http_response, parse_query, query_params
from chalicelib.api.cors import cors_config
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.response_policy import public_response
from chalicelib.errors import InvalidRequestError
from chalicelib.services.board.feeds import MAX_SITEMAP_PAGE
from chalicelib.settings import get_settings

feeds_blueprint = Blueprint(__name__)
# robots.txt changes only with PUBLIC_BASE_URL (a deploy): an hour in shared caches, then revalidated.
ROBOTS_MAX_AGE_SECONDS = 3600
SITEMAP_PAGE = re.compile(r"[0-9]{1,6}")


@feeds_blueprint.route("/feed.xml", methods=["GET"], cors=cors_config())
@handle_errors
def rss_feed() -> Any:
    request = feeds_blueprint.current_request
    query = parse_query(query_params(request))
    self_url = f"{get_settings().public_base_url.rstrip('/')}/feed.xml"
    result = deps.get_board_service().rss(
        query, self_url=self_url, if_none_match=request.headers.get("if-none-match")
    )
    return http_response(result)


@feeds_blueprint.route("/sitemap.xml", methods=["GET"], cors=cors_config())
@handle_errors
def sitemap() -> Any:
    request = feeds_blueprint.current_request
    raw_pages = query_params(request).get("page", [])
    page: int | None = None
    if raw_pages:
        # ASCII digits only: str.isdigit() also passes "¹", which int() refuses (it was a 500).
        raw_page = raw_pages[0]
        in_range = SITEMAP_PAGE.fullmatch(raw_page) is not None and 1 <= int(raw_page) <= MAX_SITEMAP_PAGE
        if len(raw_pages) > 1 or not in_range:
            raise InvalidRequestError(
                f"page: one sitemap page number from 1 to {MAX_SITEMAP_PAGE}",
                fields={"page": "not a page number"},
            )
        page = int(raw_page)
    if_none_match = request.headers.get("if-none-match")
    return http_response(deps.get_board_service().sitemap(page=page, if_none_match=if_none_match))


@feeds_blueprint.route("/robots.txt", methods=["GET"])
@handle_errors
def robots() -> Response:
    """Everything public may be crawled except the employer console; the sitemap's absolute URL."""
    base = get_settings().public_base_url.rstrip("/")
    body = f"User-agent: *\nAllow: /\nDisallow: /board/employer\n\nSitemap: {base}/sitemap.xml\n"
    return public_response(
        feeds_blueprint.current_request,
        body,
        "text/plain; charset=utf-8",
        max_age_seconds=ROBOTS_MAX_AGE_SECONDS,
    )
