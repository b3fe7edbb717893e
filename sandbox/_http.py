"""A tiny threaded HTTP layer shared by the sandboxes (stdlib only, so importing a sandbox stays cheap).

Routes are `(method, regex)` pairs; handlers receive a parsed `Request` and return a `Response`.
The server runs in a background thread with HTTP/1.1 keep-alive, so parallel clients are not serialised.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The JSON body; raises ValueError when it is not JSON."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded (or JSON object) body as a flat str dict; repeated keys keep the first value."""
        content_type = self.headers.get("content-type", "")
        if "application/json" in content_type:
            data = self.json()
            if not isinstance(data, dict):
                raise ValueError("JSON body is not an object")
            return {
                str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items() if v is not None
            }
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # simulate a transport failure: close without answering


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode(), "text/html; charset=utf-8")


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8", dict(headers or {}))


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path pattern) to handlers; `{name}` in a pattern captures one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, pattern, re.compile(regex), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str] | bool | None:
        """(handler, params, pattern); False: the path exists with another method only; None: unknown."""
        path_known = False
        for route_method, pattern, regex, handler in self._routes:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return handler, {k: unquote(v) for k, v in found.groupdict().items()}, pattern
                path_known = True
        return False if path_known else None


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    dispatch: Callable[[Request], Response]

    def log_message(self, format: str, *args: Any) -> None:
        return  # the sandboxes keep their own counters; per-request stderr lines only add noise

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = type(self).dispatch(request)
        if response.drop_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class RunningServer:
    """A server listening on host:port in a daemon thread; `stop()` shuts it down and frees the port."""

    def __init__(self, dispatch: Callable[[Request], Response], host: str, port: int) -> None:
        handler = type("SandboxHandler", (_QuietHandler,), {"dispatch": staticmethod(dispatch)})
        self._server = _Server((host, port), handler)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"sandbox-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_until_interrupted(self, banner: str = "") -> None:
        """Print `banner`, then block the calling thread until Ctrl-C / SIGTERM-as-KeyboardInterrupt, then
        stop. The banner is written inside: a stop that arrives while it is being written (a caller that
        reads it may signal at once) still ends cleanly."""
        try:
            if banner:
                print(banner, flush=True)
            self._thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
