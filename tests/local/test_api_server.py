"""The local API server answers what the gateway answers itself in the deployment's error shape."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chalice.config import Config
from chalice.local import LocalDevServer, LocalGateway, LocalGatewayException

from local.api_server import ShapedLocalGateway, gateway_responses, handler_class
from local.processes import free_port


@pytest.fixture
def served_app(aws: None) -> Iterator[str]:
    from app import app

    port = free_port()
    server = LocalDevServer(app, Config(), "127.0.0.1", port, handler_cls=handler_class())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=5)


def answer(gateway: LocalGateway, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    with pytest.raises(LocalGatewayException) as caught:
        gateway.handle_request(method, path, headers, b"")
    assert caught.value.body is not None
    return caught.value.CODE, json.loads(caught.value.body)


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer jbk_nope"}])
def test_unknown_path_is_404_not_found(aws: None, headers: dict[str, str]) -> None:
    from app import app

    status, body = answer(ShapedLocalGateway(app, Config()), "GET", "/no/such/route", headers)
    assert (status, body["error"]["code"]) == (404, "not_found")
    plain_status, _ = answer(LocalGateway(app, Config()), "GET", "/no/such/route", headers)
    assert plain_status == 403  # what chalice local answers on its own


def test_missing_key_is_401_unauthenticated(aws: None) -> None:
    from app import app

    status, body = answer(ShapedLocalGateway(app, Config()), "GET", "/accounts", {})
    assert status == 401
    assert body == json.loads(gateway_responses()["UNAUTHORIZED"].body)
    assert body["error"]["code"] == "unauthenticated"


def test_served_over_http(served_app: str) -> None:
    unknown = httpx.get(f"{served_app}/definitely/not/here", timeout=5)
    keyless = httpx.post(f"{served_app}/connect-sessions", json={}, timeout=5)
    health = httpx.get(f"{served_app}/health", timeout=5)

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert unknown.headers["content-type"] == "application/json"
    assert (keyless.status_code, keyless.json()["error"]["code"]) == (401, "unauthenticated")
    assert health.json() == {"status": "ok"}


def exchange(base: str, requests: list[tuple[str, str]]) -> list[tuple[int, dict[str, str], bytes]]:
    """Send `requests` one after another on ONE keep-alive connection; each answer as read off the wire."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    answers = []
    try:
        for method, path in requests:
            connection.request(method, path)
            response = connection.getresponse()
            answers.append((response.status, dict(response.getheaders()), response.read()))
    finally:
        connection.close()
    return answers


def test_head_answers_every_get_route_without_a_body_and_keeps_the_connection_whole(served_app: str) -> None:
    answers = exchange(
        served_app,
        [
            ("HEAD", "/health"),
            ("HEAD", "/openapi.json"),
            ("HEAD", "/robots.txt"),
            ("HEAD", "/connect-sessions"),  # a POST-only path: 405, still without a body
            ("HEAD", "/no/such/route"),  # the gateway's own 404, without a body
            ("GET", "/health"),
        ],
    )

    heads, last = answers[:-1], answers[-1]
    assert [status for status, _, _ in heads] == [200, 200, 200, 405, 404]
    assert all(body == b"" for _, _, body in heads)
    assert heads[1][1]["Content-Type"] == "application/json"
    assert "ETag" in heads[1][1]
    # Had any HEAD answer carried a body, it would have been read as the start of this one.
    assert (last[0], json.loads(last[2])) == (200, {"status": "ok"})


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "PROPFIND"])
def test_a_method_the_path_does_not_have_is_405_in_the_error_shape(served_app: str, method: str) -> None:
    (answer, after) = exchange(served_app, [(method, "/health"), ("GET", "/health")])

    status, headers, body = answer
    assert status == 405
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
    assert {part.strip() for part in headers["Allow"].split(",")} == {"GET", "HEAD"}
    assert after[0] == 200


def test_every_answer_carries_hsts_and_the_gateways_own_answers_are_not_stored(served_app: str) -> None:
    health = httpx.get(f"{served_app}/health", timeout=5)
    unknown = httpx.get(f"{served_app}/definitely/not/here", timeout=5)
    keyless = httpx.get(f"{served_app}/applications", timeout=5)

    for response in (health, unknown, keyless):
        assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert unknown.headers["Cache-Control"] == keyless.headers["Cache-Control"] == "no-store"
