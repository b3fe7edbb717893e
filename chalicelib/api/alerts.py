"""Job alert routes: sign-up (JSON or the board page's plain form) and the pages of an alert's links.

- `POST /alerts`: JSON answers 202 (the same body whatever the address's state); the board's form
  (`application/x-www-form-urlencoded`) answers 303 to the "check your inbox" page. Errors of both are
  in the API's JSON shape.
- `GET /board/alerts/confirm?token=`: confirms and links to the manage page.
- `GET|POST /board/alerts/manage?token=`: change the frequency, pause, resume, delete (plain forms).
- `GET /board/alerts/unsubscribe?token=`: a page with a button (link scanners follow GETs, so a GET
  never unsubscribes); `POST` unsubscribes, RFC 8058 one-click included (`List-Unsubscribe=One-Click`
  from a mail client, no cookies: 200).

The pages are personal (the token is a credential): `no-store`, `no-referrer`, `noindex`. Every bad
token is one 404 page that reveals nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import deps
from chalicelib.api import pages
from chalicelib.api.apply import client_address
from chalicelib.api.frontend import SECURITY_HEADERS, path_prefix
from chalicelib.api.http_errors import handle_errors, status_for
from chalicelib.api.request_body import (
    ANY_CONTENT_TYPE,
    FORM,
    MAX_BODY_BYTES,
    media_type,
    parse_input,
    parse_json_body,
    request_input,
)
from chalicelib.errors import AppError, InvalidRequestError, PayloadTooLargeError
from chalicelib.http_headers import JSON_HEADERS
from chalicelib.models.alert_api import AlertManageForm, AlertSubscribeRequest, AlertSubscribeResponse
from chalicelib.models.alerts import SEARCH_PARAMETERS, Alert
from chalicelib.observability import count, logger
from chalicelib.services.alerts import FREQUENCY_TEXT, describe_search, search_url
from chalicelib.settings import get_settings

alerts_blueprint = Blueprint(__name__)

PAGE_HEADERS: dict[str, str | list[str]] = {
    **SECURITY_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # The URL carries the alert's token: never in a Referer header, a search index or a cache.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
FREQUENCY_CHOICES = (
    ("instant", "As soon as new jobs appear"),
    ("daily", "Once a day"),
    ("weekly", "Once a week"),
)
STATUS_LABELS = {"active": "Active", "paused": "Paused", "pending": "Waiting for confirmation"}


# ---- rendering --------------------------------------------------------------------------------------
def _base(request: Request, own_path: str) -> str:
    return path_prefix(request, own_path)


def _page(base: str, status: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {
        "base": base,
        "board_name": get_settings().board_name,
        "section": "alerts",
        "notice": "",
        "lines": [],
        "alert": None,
        "manage_form": False,
        "unsubscribe_form": False,
        "manage_url": "",
        "action_url": "",
        "frequencies": FREQUENCY_CHOICES,
        **context,
    }
    return Response(body=pages.render("alerts.html", **values), status_code=status, headers=PAGE_HEADERS)


def _error_page(base: str, exc: AppError) -> Response:
    status = status_for(exc)
    if status == 404:
        return _page(base, 404, heading="This link is not valid", lines=[exc.message])
    if status >= 500:
        logger.warning("alert page unavailable", extra={"error_code": exc.code})
        return _page(base, status, heading="Please try again", lines=["We couldn't do that just now."])
    return _page(base, status, heading="That didn't work", lines=[exc.message])


def _alert_view(alert: Alert) -> dict[str, str]:
    return {
        "summary": describe_search(alert.search),
        "search_url": search_url(get_settings().public_base_url, alert.search),
        "email": alert.email,
        "frequency": alert.frequency,
        "frequency_label": FREQUENCY_TEXT[alert.frequency].capitalize(),
        "status": alert.status,
        "status_label": STATUS_LABELS[alert.status],
    }


def _page_url(base: str, page: str, token: str) -> str:
    return f"{base}/board/alerts/{page}?token={quote(token, safe='')}"


def _token(request: Request) -> str:
    params = request.query_params
    return str(params.get("token") or "") if params else ""


def _form_fields(request: Request) -> list[tuple[str, str]]:
    """The pairs of a UTF-8 form body (repeated names kept: a search has several locations)."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip()), errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError("The request body is not a UTF-8 form.", code="invalid_form") from exc


_FORM_FIELDS = ("email", "frequency")


def _form_subscription(request: Request) -> AlertSubscribeRequest:
    """The board page's form as the JSON body's shape: `email`, `frequency` and the search's fields.
    Other fields are ignored, as HTML forms carry more than their data (a named button, say)."""
    body: dict[str, Any] = {}
    search: dict[str, list[str]] = {}
    for name, value in _form_fields(request):
        if name in SEARCH_PARAMETERS:
            search.setdefault(name, []).append(value)
        elif name not in _FORM_FIELDS:
            continue
        elif name in body:
            raise InvalidRequestError("The form names a field more than once.", code="invalid_form")
        else:
            body[name] = value
    return parse_input(AlertSubscribeRequest, {**body, "search": search})


# ---- sign-up ----------------------------------------------------------------------------------------
@alerts_blueprint.route("/alerts", methods=["POST"], content_types=["application/json", FORM])
@handle_errors
def subscribe() -> Response:
    request = alerts_blueprint.current_request
    is_form = media_type(request) == FORM
    # Errors of the board's plain form answer in the API's shape too, as the Embloy apply form's do (the
    # browser checks the form's fields first).
    body = _form_subscription(request) if is_form else parse_json_body(request, AlertSubscribeRequest)
    with request_input():
        search = body.alert_search()
    deps.get_alert_service().subscribe(body.email, search, body.frequency, client=client_address(request))
    count("AlertSignups")
    if is_form:
        location = f"{_base(request, '/alerts')}/board/alerts/subscribed"
        return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})
    return Response(
        body=AlertSubscribeResponse().model_dump(mode="json"), status_code=202, headers=JSON_HEADERS
    )


@alerts_blueprint.route("/board/alerts/subscribed", methods=["GET"])
@handle_errors
def subscribed_page() -> Response:
    base = _base(alerts_blueprint.current_request, "/board/alerts/subscribed")
    return _page(
        base,
        heading="Check your inbox",
        lines=[
            "If this address can receive alerts, we've sent it an email with a link to confirm.",
            "Open the link within 7 days to start the alert. Nothing is sent until you confirm.",
        ],
    )


# ---- the links' pages -------------------------------------------------------------------------------
@alerts_blueprint.route("/board/alerts/confirm", methods=["GET"])
@handle_errors
def confirm_page() -> Response:
    request = alerts_blueprint.current_request
    base = _base(request, "/board/alerts/confirm")
    service = deps.get_alert_service()
    try:
        # A HEAD (link checkers, previews) only checks the link: only a browser's GET confirms.
        check = request.method == "HEAD"
        alert = service.pending(_token(request)) if check else service.confirm(_token(request))
    except AppError as exc:
        return _error_page(base, exc)
    count("AlertConfirmations")
    return _page(
        base,
        heading="Your job alert is on",
        lines=["We'll email you new jobs for this search. Every email has a link to change or stop it."],
        alert=_alert_view(alert),
        manage_url=service.links(alert)["manage_url"],
    )


def _manage_page(base: str, token: str, alert: Alert, notice: str = "") -> Response:
    return _page(
        base,
        heading="Manage your job alert",
        notice=notice,
        alert=_alert_view(alert),
        manage_form=True,
        action_url=_page_url(base, "manage", token),
    )


@alerts_blueprint.route("/board/alerts/manage", methods=["GET"])
@handle_errors
def manage_page() -> Response:
    request = alerts_blueprint.current_request
    base = _base(request, "/board/alerts/manage")
    token = _token(request)
    try:
        alert = deps.get_alert_service().manage(token)
    except AppError as exc:
        return _error_page(base, exc)
    return _manage_page(base, token, alert)


@alerts_blueprint.route("/board/alerts/manage", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@handle_errors
def manage_change() -> Response:
    request = alerts_blueprint.current_request
    base = _base(request, "/board/alerts/manage")
    token = _token(request)
    try:
        deps.get_alert_service().manage(token)  # a bad link is the one 404 page, whatever the form holds
        form = parse_input(AlertManageForm, dict(_form_fields(request)))
        if form.action == "frequency" and form.frequency is None:
            raise InvalidRequestError("Choose how often.", fields={"frequency": "required to save"})
        action = form.action
        alert = deps.get_alert_service().change(token, form.action, form.frequency)
    except AppError as exc:
        return _error_page(base, exc)
    if alert is None:
        return _page(
            base,
            heading="Alert deleted",
            lines=["You won't get emails for this search any more."],
        )
    notice = {"frequency": "Saved.", "pause": "Paused: no emails until you resume.", "resume": "Resumed."}
    return _manage_page(base, token, alert, notice.get(action, ""))


@alerts_blueprint.route("/board/alerts/unsubscribe", methods=["GET"])
@handle_errors
def unsubscribe_page() -> Response:
    request = alerts_blueprint.current_request
    base = _base(request, "/board/alerts/unsubscribe")
    token = _token(request)
    try:
        deps.get_alert_service().check_unsubscribe(token)
    except AppError as exc:
        return _error_page(base, exc)
    return _page(
        base,
        heading="Unsubscribe from this job alert?",
        lines=["You'll stop getting emails for this search. Other alerts you have are not affected."],
        unsubscribe_form=True,
        action_url=_page_url(base, "unsubscribe", token),
    )


@alerts_blueprint.route("/board/alerts/unsubscribe", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@handle_errors
def unsubscribe() -> Response:
    # The page's button and RFC 8058 one-click (`List-Unsubscribe=One-Click`) alike: the token decides.
    request = alerts_blueprint.current_request
    base = _base(request, "/board/alerts/unsubscribe")
    try:
        deps.get_alert_service().unsubscribe(_token(request))
    except AppError as exc:
        return _error_page(base, exc)
    count("AlertUnsubscribes")
    return _page(
        base,
        heading="You're unsubscribed",
        lines=["You won't get emails for this search any more."],
    )
