"""Alert routes end to end on moto: sign-up (JSON and the board's form), confirm, manage, unsubscribe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from chalicelib import deps
from chalicelib.api.openapi import ALERT_SUBSCRIBE_EXAMPLE
from chalicelib.models.messages import EmailRequested
from chalicelib.settings import get_settings
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    make_posting,
    put_postings,
)

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADDRESS = "ada@example.org"


class Page(HTMLParser):
    """Forms, links and text of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                {"action": values.get("action", ""), "method": values.get("method", ""), "buttons": []}
            )
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(values.get("value", ""))
        elif tag == "a":
            self.links.append(values.get("href", ""))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    @property
    def words(self) -> str:
        return " ".join(self.text)


@dataclass
class AlertsApi:
    client: Any
    queue_url: str

    def subscribe(self, **changes: Any) -> Any:
        body = {
            "email": ADDRESS,
            "frequency": "daily",
            "search": {"q": "python", "location": ["Berlin"]},
            **changes,
        }
        return self.client.http.post("/alerts", headers=JSON, body=json.dumps(body))

    def emails(self) -> list[EmailRequested]:
        sqs = boto3.client("sqs")
        result = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [EmailRequested.model_validate_json(m["Body"]) for m in result.get("Messages", [])]

    def get(self, url: str) -> Any:
        parts = urlsplit(url)
        return self.client.http.get(f"{parts.path}?{parts.query}")

    def post(self, url: str, body: str = "", headers: dict[str, str] | None = None) -> Any:
        parts = urlsplit(url)
        return self.client.http.post(f"{parts.path}?{parts.query}", headers=headers or FORM, body=body)

    def confirmed(self) -> tuple[Any, str]:
        """Sign up, follow the confirmation email's link; (the confirm page, its manage URL)."""
        assert self.subscribe().status_code == 202
        [message] = self.emails()
        page = self.get(message.context["confirm_url"])
        manage = next(link for link in Page(page.body.decode()).links if "/alerts/manage?" in link)
        return page, manage

    def stored(self) -> list[dict[str, Any]]:
        return deps.get_table().scan()["Items"]


@pytest.fixture
def alerts(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertsApi]:
    queue_url = boto3.client("sqs").create_queue(QueueName="job-board-email")["QueueUrl"]
    monkeypatch.setenv("EMAIL_QUEUE_URL", queue_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://board.test/board")
    get_settings.cache_clear()
    yield AlertsApi(client, queue_url)


def assert_private_page(response: Any) -> None:
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]


def test_json_sign_up_answers_202_and_queues_the_confirmation(alerts: AlertsApi) -> None:
    response = alerts.subscribe()

    assert response.status_code == 202
    assert json.loads(response.body)["status"] == "accepted"
    assert response.headers["Cache-Control"] == "no-store"
    [message] = alerts.emails()
    assert (message.template, message.to) == ("alert_confirm", ADDRESS)
    assert message.context["confirm_url"].startswith("https://board.test/board/alerts/confirm?token=")
    assert message.context["search_url"] == "https://board.test/board?q=python&location=Berlin"


def test_the_answer_is_the_same_whatever_the_address_state(alerts: AlertsApi) -> None:
    answers = [alerts.subscribe(), alerts.subscribe(), alerts.subscribe(email="new@example.org")]

    assert len({(r.status_code, r.body) for r in answers}) == 1
    # The repeat of a still-unconfirmed search re-sends its confirmation; no second alert is stored.
    assert [m.to for m in alerts.emails()] == [ADDRESS, ADDRESS, "new@example.org"]
    assert sum(1 for item in alerts.stored() if item["SK"] == "ALERT") == 2


def test_the_openapi_example_is_accepted(alerts: AlertsApi) -> None:
    response = alerts.client.http.post("/alerts", headers=JSON, body=json.dumps(ALERT_SUBSCRIBE_EXAMPLE))

    assert response.status_code == 202
    [message] = alerts.emails()
    assert "location=Berlin&location=Remote+-+EU&remote=true" in message.context["search_url"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"frequency": "hourly"}, "frequency"),
        ({"search": {"salary": "lots"}}, "search"),
        ({"search": {"remote": "maybe"}}, None),
        ({"search": {"remote": ["true", "true", "true"]}}, "search"),
        ({"search": {"company": ["Acme"] * 21}}, "search"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_sign_ups_are_400_and_change_nothing(
    alerts: AlertsApi, changes: dict[str, Any], field: str | None
) -> None:
    response = alerts.subscribe(**changes)

    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    if field:
        assert field in error["fields"]
    assert alerts.emails() == []
    assert alerts.stored() == []


def test_the_client_limit_answers_429_with_retry_after(
    alerts: AlertsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_SUBSCRIBE_RATE_LIMIT", "2")
    get_settings.cache_clear()

    statuses = [alerts.subscribe(email=f"user{n}@example.org").status_code for n in range(3)]

    assert statuses == [202, 202, 429]
    response = alerts.subscribe(email="user9@example.org")
    assert json.loads(response.body)["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    assert len(alerts.emails()) == 2


def test_the_board_form_answers_303_to_the_check_your_inbox_page(alerts: AlertsApi) -> None:
    body = urlencode(
        [
            ("email", ADDRESS),
            ("frequency", "weekly"),
            ("q", "python"),
            ("location", "Berlin"),
            ("location", "Munich"),
        ]
    )

    response = alerts.client.http.post("/alerts", headers=FORM, body=body)

    assert response.status_code == 303
    assert response.headers["Location"] == "/board/alerts/subscribed"
    [message] = alerts.emails()
    assert (
        message.context["search_url"] == "https://board.test/board?q=python&location=Berlin&location=Munich"
    )
    assert message.context["frequency_text"] == "once a week"
    page = alerts.client.http.get("/board/alerts/subscribed")
    assert page.status_code == 200
    assert_private_page(page)
    assert "Check your inbox" in Page(page.body.decode()).words


def test_the_board_form_ignores_fields_it_does_not_know(alerts: AlertsApi) -> None:
    # An HTML form carries more than its data (a named submit button, a field a newer page adds).
    body = urlencode(
        [("email", ADDRESS), ("q", "python"), ("submit", "Get these jobs by email"), ("utm", "x")]
    )

    response = alerts.client.http.post("/alerts", headers=FORM, body=body)

    assert response.status_code == 303
    [message] = alerts.emails()
    assert message.context["search_url"] == "https://board.test/board?q=python"


def test_a_manage_post_with_a_bad_link_is_the_404_page_whatever_its_form(alerts: AlertsApi) -> None:
    for body in ("", "action=frequency", "action=nonsense"):
        response = alerts.client.http.post("/board/alerts/manage?token=garbage", headers=FORM, body=body)

        assert response.status_code == 404, body


def test_a_bad_board_form_answers_400_and_changes_nothing(alerts: AlertsApi) -> None:
    for body in (urlencode({"email": "nope", "q": "python"}), "email=a%40b.org&email=c%40d.org", "%ZZ=&"):
        response = alerts.client.http.post("/alerts", headers=FORM, body=body)

        assert response.status_code == 400, body
        assert json.loads(response.body)["error"]["code"] in ("invalid_request", "invalid_form")
    assert alerts.emails() == []
    assert alerts.stored() == []


def test_confirming_activates_and_links_to_the_manage_page(alerts: AlertsApi) -> None:
    page, manage = alerts.confirmed()

    assert page.status_code == 200
    assert_private_page(page)
    words = Page(page.body.decode()).words
    assert "Your job alert is on" in words and ADDRESS in words and "Once a day" in words
    assert manage.startswith("https://board.test/board/alerts/manage?token=")
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    assert alert["status"] == "active" and "expires_at" not in alert
    assert alert["watermark"] == alert["confirmed_at"]


def test_a_head_on_the_confirm_link_checks_it_without_confirming(alerts: AlertsApi) -> None:
    alerts.subscribe()
    [message] = alerts.emails()
    parts = urlsplit(message.context["confirm_url"])

    head = alerts.client.http.request("HEAD", f"{parts.path}?{parts.query}")
    bad = alerts.client.http.request("HEAD", f"{parts.path}?token=garbage")

    assert (head.status_code, head.body) == (200, b"")
    assert bad.status_code == 404
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    assert alert["status"] == "pending"


def test_the_manage_page_changes_frequency_pauses_resumes_and_deletes(alerts: AlertsApi) -> None:
    _page, manage = alerts.confirmed()

    page = alerts.get(manage)
    assert page.status_code == 200
    assert_private_page(page)
    forms = Page(page.body.decode()).forms
    assert all(
        form["method"] == "post" and form["action"] == urlsplit(manage).path + "?" + urlsplit(manage).query
        for form in forms
    )
    assert [b for form in forms for b in form["buttons"]] == ["frequency", "pause", "delete"]

    saved = alerts.post(manage, urlencode({"action": "frequency", "frequency": "instant"}))
    assert saved.status_code == 200 and "Saved." in Page(saved.body.decode()).words
    paused = alerts.post(manage, "action=pause")
    assert "resume" in [b for form in Page(paused.body.decode()).forms for b in form["buttons"]]
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    assert (alert["frequency"], alert["status"]) == ("instant", "paused")
    assert alerts.post(manage, "action=resume").status_code == 200
    assert alerts.post(manage, "action=explode").status_code == 400

    deleted = alerts.post(manage, "action=delete")

    assert deleted.status_code == 200 and "Alert deleted" in Page(deleted.body.decode()).words
    assert alerts.stored() == [] or all(item["PK"].startswith("RATE#") for item in alerts.stored())
    assert alerts.get(manage).status_code == 404


def test_unsubscribe_get_only_shows_a_button_and_post_unsubscribes(alerts: AlertsApi) -> None:
    alerts.confirmed()
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    url = deps.get_alert_links().url("unsubscribe", alert["alert_id"])

    page = alerts.get(url)
    assert page.status_code == 200
    assert_private_page(page)
    [form] = Page(page.body.decode()).forms
    assert form["method"] == "post"
    assert [item for item in alerts.stored() if item["SK"] == "ALERT"] != []

    response = alerts.post(url, "List-Unsubscribe=One-Click")

    assert response.status_code == 200
    assert "unsubscribed" in Page(response.body.decode()).words
    assert [item for item in alerts.stored() if not item["PK"].startswith("RATE#")] == []
    assert alerts.post(url, "List-Unsubscribe=One-Click").status_code == 200


def test_one_click_works_with_a_multipart_body_and_no_cookies(alerts: AlertsApi) -> None:
    alerts.confirmed()
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    url = deps.get_alert_links().url("unsubscribe", alert["alert_id"])
    body = '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n'

    response = alerts.post(url, body, headers={"Content-Type": "multipart/form-data; boundary=b"})

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert [item for item in alerts.stored() if item["SK"] == "ALERT"] == []


@pytest.mark.parametrize("page", ["confirm", "manage", "unsubscribe"])
@pytest.mark.parametrize("token", ["", "garbage", "wrong-purpose"])
def test_every_bad_token_is_the_same_404_page(alerts: AlertsApi, page: str, token: str) -> None:
    alerts.subscribe()
    [alert] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    if token == "wrong-purpose":
        token = deps.get_alert_links().token("confirm" if page != "confirm" else "manage", alert["alert_id"])

    responses = [alerts.client.http.get(f"/board/alerts/{page}?token={token}")]
    if page != "confirm":
        responses.append(
            alerts.client.http.post(f"/board/alerts/{page}?token={token}", headers=FORM, body="action=delete")
        )

    for response in responses:
        assert response.status_code == 404
        assert_private_page(response)
        assert "This link is not valid or has expired." in Page(response.body.decode()).words
    [after] = [item for item in alerts.stored() if item["SK"] == "ALERT"]
    assert after == alert


class BoardForm(HTMLParser):
    """The fields of the board page's alert form, as a browser without JavaScript would send them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inside = False
        self.action = ""
        self.fields: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("id") == "alert-form":
            self.inside, self.action = True, values["action"]
            assert values["method"] == "post"
        elif self.inside and tag == "input" and values.get("type") == "hidden":
            self.fields.append((values["name"], values["value"]))
        elif self.inside and tag == "option" and "selected" in values:
            self.fields.append(("frequency", values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def test_the_board_page_form_signs_up_for_the_search_on_screen_without_javascript(
    alerts: AlertsApi,
) -> None:
    put_postings(make_posting("Python Engineer", posting_id="post_alert"))
    html = alerts.client.http.get("/board?q=python&remote=true&location=Berlin&sort=newest").body.decode()
    form = BoardForm(html)

    assert form.action == "/alerts"
    assert sorted(form.fields) == [
        ("frequency", "daily"),
        ("location", "Berlin"),
        ("q", "python"),
        ("remote", "true"),
    ]
    response = alerts.client.http.post(
        form.action, headers=FORM, body=urlencode([*form.fields, ("email", ADDRESS)])
    )

    assert response.status_code == 303
    [message] = alerts.emails()
    assert message.context["search_url"] == "https://board.test/board?q=python&location=Berlin&remote=true"


def test_an_alert_keeps_pay_date_and_distance_filters_and_describes_them(alerts: AlertsApi) -> None:
    search = {"q": "nurse", "pay_min": "50000", "pay_currency": "EUR", "near": "Berlin", "radius_km": "25",
              "posted_within": "7d", "shows_pay": "true"}  # fmt: skip
    response = alerts.subscribe(search=search)

    assert response.status_code == 202
    [message] = alerts.emails()
    assert (
        "pay_min=50000&pay_currency=EUR&shows_pay=true&posted_within=7d&near=Berlin&radius_km=25"
        in (message.context["search_url"])
    )


@pytest.mark.parametrize(
    ("search", "status", "code"),
    [
        ({"near": "Atlantis Base 7"}, 422, "unknown_place"),
        ({"pay_min": "50000"}, 400, "pay_currency_required"),
        ({"pay_min": ["50000"], "pay_currency": "EUR"}, 400, "invalid_request"),  # one value, as on /jobs
        ({"posted_within": "2w"}, 400, "invalid_request"),
    ],
)
def test_alert_filters_are_refused_as_the_board_refuses_them(
    alerts: AlertsApi, search: dict[str, Any], status: int, code: str
) -> None:
    response = alerts.subscribe(search=search)

    assert response.status_code == status
    assert json.loads(response.body)["error"]["code"] == code
    assert alerts.emails() == [] and alerts.stored() == []
