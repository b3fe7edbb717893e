"""GET /jobs and GET /jobs/{job_id}: the public board, served from the process's search snapshot."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import deps
from chalicelib.api.cors import cors_config
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.response_policy import public_cache_control
from chalicelib.observability import milliseconds
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.services.board.query import BoardQuery
    from chalicelib.services.board.service import BoardResponse

board_blueprint = Blueprint(__name__)


def query_params(request: Request) -> dict[str, list[str]]:
    """The query string as name -> every value (repeated parameters combine with OR)."""
    params = request.query_params
    if not params:
        return {}
    return {name: list(params.getlist(name)) for name in params}


def http_response(result: BoardResponse, *, script_safe: bool = False) -> Response:
    """A 200 with the body, or a 304 when the client's ETag is current; cache headers on both.

    `script_safe` serialises a JSON body with `<`, `>` and `&` as \\u escapes (the same JSON value), so
    a page that embeds it, or its JSON-LD, in a <script> element cannot be broken out of.
    """
    headers: dict[str, str | list[str]] = {
        "ETag": result.etag,
        "Cache-Control": public_cache_control(get_settings().board_cache_max_age_seconds),
    }
    if result.not_modified:
        return Response(body="", status_code=304, headers=headers)
    body = result.body
    if script_safe and isinstance(body, dict):
        from chalicelib.services.board.markup import script_json

        body = script_json(body)
    return Response(body=body, status_code=200, headers={**headers, "Content-Type": result.content_type})


def parse_query(params: Mapping[str, Sequence[str]]) -> BoardQuery:
    """Validated board query (the board's modules load on first use, not when the app is imported)."""
    from chalicelib.api.request_body import request_input
    from chalicelib.services.board.query import BoardQuery

    with request_input():
        return BoardQuery.from_params(params)


def list_jobs_response(params: Mapping[str, Sequence[str]], if_none_match: str | None) -> Response:
    """The whole `GET /jobs` handler minus Chalice's routing (the benchmark times exactly this)."""
    query = parse_query(params)
    return http_response(deps.get_board_service().list_jobs(query, if_none_match=if_none_match))


@board_blueprint.route("/jobs", methods=["GET"], cors=cors_config())
@handle_errors
def list_jobs() -> Any:
    request = board_blueprint.current_request
    started = time.perf_counter()
    response = list_jobs_response(query_params(request), request.headers.get("if-none-match"))
    milliseconds("BoardSearchLatency", (time.perf_counter() - started) * 1000)  # the dashboard's latency
    return response


def suggest_jobs_response(params: Mapping[str, Sequence[str]], if_none_match: str | None) -> Response:
    """The whole `GET /jobs/suggest` handler minus Chalice's routing (the benchmark times exactly this)."""
    from chalicelib.api.request_body import request_input
    from chalicelib.services.board.query import SuggestQuery

    with request_input():
        query = SuggestQuery.from_params(params)
    return http_response(deps.get_board_service().suggest(query, if_none_match=if_none_match))


def similar_jobs_response(
    job_id: str, params: Mapping[str, Sequence[str]], if_none_match: str | None
) -> Response:
    """The whole `GET /jobs/{job_id}/similar` handler minus Chalice's routing (benchmarked)."""
    from chalicelib.api.request_body import request_input
    from chalicelib.services.board.query import SimilarQuery

    with request_input():
        query = SimilarQuery.from_params(params)
    return http_response(deps.get_board_service().similar(job_id, query, if_none_match=if_none_match))


@board_blueprint.route("/jobs/suggest", methods=["GET"], cors=cors_config())
@handle_errors
def suggest_jobs() -> Any:
    request = board_blueprint.current_request
    return suggest_jobs_response(query_params(request), request.headers.get("if-none-match"))


@board_blueprint.route("/jobs/{job_id}/similar", methods=["GET"], cors=cors_config())
@handle_errors
def similar_jobs(job_id: str) -> Any:
    request = board_blueprint.current_request
    return similar_jobs_response(job_id, query_params(request), request.headers.get("if-none-match"))


@board_blueprint.route("/jobs/{job_id}", methods=["GET"], cors=cors_config())
@handle_errors
def get_job(job_id: str) -> Any:
    if_none_match = board_blueprint.current_request.headers.get("if-none-match")
    return http_response(
        deps.get_board_service().get_job(job_id, if_none_match=if_none_match), script_safe=True
    )
