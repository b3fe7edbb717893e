"""Requests Chalice answers itself (415, 405) come back in the API's error shape."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.test import Client

from chalicelib.api.http_errors import framework_errors_blueprint


def app_with_a_json_route() -> Any:
    from chalice import Chalice

    app = Chalice(app_name="framework-errors")
    routes = Blueprint(__name__)

    @routes.route("/things", methods=["POST"])
    def create_thing() -> dict[str, str]:
        return {"ok": "yes"}

    app.register_blueprint(framework_errors_blueprint)
    app.register_blueprint(routes)
    return app


def test_unsupported_media_type_is_a_415_in_the_error_shape() -> None:
    with Client(app_with_a_json_route()) as client:
        response = client.http.post("/things", headers={"Content-Type": "text/plain"}, body=b"{}")

    assert response.status_code == 415
    assert json.loads(response.body) == {
        "error": {"code": "unsupported_media_type", "message": "Unsupported media type: text/plain"}
    }


def test_unknown_method_is_a_405_in_the_error_shape() -> None:
    with Client(app_with_a_json_route()) as client:
        response = client.http.request("DELETE", "/things")

    assert response.status_code == 405
    assert json.loads(response.body)["error"]["code"] == "method_not_allowed"


def test_views_own_responses_pass_through() -> None:
    with Client(app_with_a_json_route()) as client:
        response = client.http.post("/things", headers={"Content-Type": "application/json"}, body=b"{}")

    assert response.status_code == 200
    assert json.loads(response.body) == {"ok": "yes"}
