"""Employer routes: connect-session minting, linked accounts with sync health, "sync now".

Every route wears `employer_authorizer` and starts with `current_employer_id()`; the employer comes from
the API key, never from the request. Models and services load on first use (cold-start budget).
"""

from __future__ import annotations

import re

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import current_employer_id, employer_authorizer
from chalicelib.api.cors import cors_config
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import ANY_CONTENT_TYPE, parse_input, parse_json_body
from chalicelib.errors import NotFoundError
from chalicelib.http_headers import JSON_HEADERS
from chalicelib.observability import metrics

employers_blueprint = Blueprint(__name__)


def _checked_account_id(account_id: str) -> str:
    from chalicelib.models.employer_api import ACCOUNT_ID_PATTERN

    # Ids outside the alphabet cannot exist; refusing them here keeps them out of StackOne URLs.
    if not re.fullmatch(ACCOUNT_ID_PATTERN, account_id):
        raise NotFoundError(f"No linked account {account_id[:64]!r}.", code="account_not_found")
    return account_id


@employers_blueprint.route(
    "/connect-sessions",
    methods=["POST"],
    authorizer=employer_authorizer,
    content_types=ANY_CONTENT_TYPE,
    cors=cors_config(),
)
@handle_errors
def create_connect_session() -> Response:
    from chalicelib.models.employer_api import ConnectSessionRequest

    request = employers_blueprint.current_request
    employer_id = current_employer_id(request)
    body = parse_json_body(request, ConnectSessionRequest)
    session = deps.get_connect_session_service().create(employer_id, body)
    metrics.add_metric(name="ConnectSessionsMinted", unit=MetricUnit.Count, value=1)
    return Response(body=session.model_dump(mode="json"), status_code=201, headers=JSON_HEADERS)


@employers_blueprint.route("/employer", methods=["GET"], authorizer=employer_authorizer, cors=cors_config())
@handle_errors
def get_employer() -> Response:
    """Who the API key belongs to, so the console can say which company is signed in."""
    employer_id = current_employer_id(employers_blueprint.current_request)
    employer = deps.get_employer_service().get(employer_id)
    return Response(
        body={"employer_id": employer.employer_id, "name": employer.name},
        status_code=200,
        headers=JSON_HEADERS,
    )


@employers_blueprint.route("/accounts", methods=["GET"], authorizer=employer_authorizer, cors=cors_config())
@handle_errors
def list_accounts() -> Response:
    from chalicelib.models.employer_api import AccountsResponse

    employer_id = current_employer_id(employers_blueprint.current_request)
    accounts = deps.get_accounts_service().list_for(employer_id)
    return Response(
        body=AccountsResponse(data=accounts).model_dump(mode="json"), status_code=200, headers=JSON_HEADERS
    )


@employers_blueprint.route(
    "/accounts/{account_id}/sync",
    methods=["POST"],
    authorizer=employer_authorizer,
    content_types=ANY_CONTENT_TYPE,
    cors=cors_config(),
)
@handle_errors
def sync_account(account_id: str) -> Response:
    from chalicelib.models.employer_api import SyncNowRequest

    request = employers_blueprint.current_request
    employer_id = current_employer_id(request)
    body = parse_json_body(request, SyncNowRequest)
    query_params: dict[str, str] = dict(request.query_params or {})
    query_mode = query_params.get("mode")
    if query_mode is not None:
        # `?mode=` is checked like the body's; the body's `mode` wins when it names one (as documented).
        from_query = parse_input(SyncNowRequest, {"mode": query_mode})
        if "mode" not in body.model_fields_set:
            body = from_query
    queued = deps.get_accounts_service().request_sync(employer_id, _checked_account_id(account_id), body.mode)
    metrics.add_metric(name="EmployerSyncsQueued", unit=MetricUnit.Count, value=1)
    return Response(body=queued.model_dump(mode="json"), status_code=202, headers=JSON_HEADERS)
