"""GET /feed.xml (RSS 2.0 of the newest live postings) and GET /sitemap.xml (every live posting)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import deps
from chalicelib.api.board import http_response, parse_query, query_params
from chalicelib.api.cors import cors_config
from chalicelib.api.http_errors import handle_errors
from chalicelib.settings import get_settings

feeds_blueprint = Blueprint(__name__)


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
    if_none_match = feeds_blueprint.current_request.headers.get("if-none-match")
    return http_response(deps.get_board_service().sitemap(if_none_match=if_none_match))
