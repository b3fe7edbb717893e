"""`chalice local` with API Gateway's gateway responses as the deployment configures them.

Chalice's local gateway answers two kinds of request itself, before any view runs, in API Gateway's
default shapes: an unknown path is 403 `{"message": "Missing Authentication Token"}` and an employer
route without an `Authorization` header is 401 `{"message": "Unauthorized"}`. The deployed API replaces
those through `x-amazon-apigateway-gateway-responses` in deploy/resources.yaml (404 `not_found`,
401 `unauthenticated`); this server answers with the same templates, read from that file, and the same
headers `deploy/render.py` puts on every gateway response, so local runs and the deployment agree.

HTTP itself is kept whole on a keep-alive connection: a HEAD answer never carries a body (a body would
be read as the start of the next response), and every method reaches the app, which answers a method a
path does not have with 405 in the API's error shape (`http.server` alone answers an unknown method, such
as TRACE, with a 501 HTML page). Everything else is `chalice local --no-autoreload`.

    python -m local.api_server --stage local --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
)

from deploy.render import GATEWAY_RESPONSE_HEADERS

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESOURCES = PROJECT_DIR / "deploy" / "resources.yaml"


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: bytes


@functools.cache
def gateway_responses(path: Path = RESOURCES) -> dict[str, GatewayResponse]:
    """The deployment's gateway responses that have a fixed status and JSON body, by response type."""
    import yaml

    template: dict[str, Any] = yaml.safe_load(path.read_text())
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    found: dict[str, GatewayResponse] = {}
    for kind, spec in definition["x-amazon-apigateway-gateway-responses"].items():
        body = (spec.get("responseTemplates") or {}).get("application/json")
        if "statusCode" in spec and body and "$" not in body:
            found[kind] = GatewayResponse(int(spec["statusCode"]), body.encode())
    return found


class _GatewayAnswer(LocalGatewayException):
    def __init__(self, response: GatewayResponse, headers: dict[str, str]) -> None:
        super().__init__(
            {**headers, **GATEWAY_RESPONSE_HEADERS, "Content-Type": "application/json"}, response.body
        )
        self.CODE = response.status


class ShapedLocalGateway(LocalGateway):
    """Chalice's LocalGateway whose own 401/403 answers use the deployment's gateway responses."""

    def _is_route(self, path: str) -> bool:
        try:
            self.event_converter._route_matcher.match_route(path)
        except ValueError:
            return False
        return True

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super().handle_request(method, path, headers, body)
        except NotAuthorizedError as exc:
            raise self._answer("UNAUTHORIZED", exc) from exc
        except ForbiddenError as exc:
            kind = "ACCESS_DENIED" if self._is_route(path) else "MISSING_AUTHENTICATION_TOKEN"
            raise self._answer(kind, exc) from exc

    @staticmethod
    def _answer(kind: str, original: LocalGatewayException) -> LocalGatewayException:
        response = gateway_responses().get(kind)
        if response is None:
            return original
        request_id = {k: v for k, v in original.headers.items() if k.lower() == "x-amzn-requestid"}
        return _GatewayAnswer(response, request_id)


class ShapedRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with the shaped gateway, body-less HEAD answers and every method routed."""

    def __init__(
        self, request: Any, client_address: Any, server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        self.local_gateway = ShapedLocalGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        # `http.server` looks up `do_<METHOD>` and answers 501 without one: send every method to the app.
        if name.startswith("do_") and name[3:].isalpha():
            return self._generic_handle
        raise AttributeError(name)

    def _send_http_response_with_body(self, code: int, headers: Any, body: str | bytes) -> None:
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        encoded = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(encoded)))  # the headers of the answer, not its body
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)


def handler_class() -> type:
    return ShapedRequestHandler


def create_server(stage: str, host: str, port: int) -> LocalDevServer:
    """What `chalice local --stage <stage>` builds, with the shaped gateway."""
    from chalice.cli import _configure_cli_env_vars
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    _configure_cli_env_vars()
    factory = CLIFactory(str(PROJECT_DIR), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    gateway_responses()  # fail at start, not on the first unknown path, if the template is unreadable
    return LocalDevServer(app, config, host, port, handler_cls=handler_class())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.chdir(PROJECT_DIR)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    create_server(args.stage, args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
