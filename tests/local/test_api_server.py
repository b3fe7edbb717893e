"""The local API server answers what the gateway answers itself in the deployment's error shape."""

from __future__ import annotations

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
