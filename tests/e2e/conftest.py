"""End-to-end browser fixtures: Debian's chromium through Playwright, servers on free loopback ports.

Playwright never downloads a browser here: it drives `/usr/bin/chromium` (installed by `make browser`).
Screenshots land in `artifacts/e2e/` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process started by its own binary; stopped by PID."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_server(
    name: str, argv: list[str], *, port: int, health_path: str, env: dict[str, str], timeout: float = 60.0
) -> Server:
    """Start `argv` and wait until `GET health_path` answers below 500 (polling a real process's startup)."""
    logs = ARTIFACTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name=name, process=process, url=f"http://127.0.0.1:{port}", log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(server.url + health_path, timeout=2).status_code < 500:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # waiting for a real process to bind its port, not for app logic
    server.stop()
    raise RuntimeError(f"{name} did not start within {timeout}s:\n{server.log_tail()}")


def base_env() -> dict[str, str]:
    """The environment for child servers: ours without the test suite's endpoint overrides."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_SECURITY_TOKEN", None)
    return env


def chalice_argv(port: int) -> list[str]:
    chalice = Path(sys.executable).with_name("chalice")
    return [
        str(chalice),
        "local",
        "--no-autoreload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--stage",
        "local",
    ]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run `make browser`")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def open_page(browser: Any, viewport: dict[str, int], *, javascript: bool = True) -> tuple[Any, Any]:
    """A fresh context and page; the page records script errors and CSP violations in `js_errors`."""
    context = browser.new_context(viewport=viewport, service_workers="block", java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    opened.js_errors = errors
    return context, opened


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context, opened = open_page(browser, DESKTOP)
    yield opened
    context.close()
    # Script errors and CSP violations fail the test that caused them.
    assert opened.js_errors == [], opened.js_errors


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# WCAG 2.1 A and AA rules plus axe's best practices.
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def accessibility_violations(page: Any, *, impacts: tuple[str, ...] | None = None) -> list[str]:
    """axe-core's violations on the page as it is now, one line each (empty when the page passes).

    `impacts` keeps only violations of those impacts (e.g. ("serious", "critical")).
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    return [
        f"{violation['id']} ({violation.get('impact')}): {violation['help']} -> "
        f"{[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if impacts is None or violation.get("impact") in impacts
    ]
