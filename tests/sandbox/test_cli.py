"""`python -m sandbox.stackone` / `python -m sandbox.embloy` start, answer, and stop on SIGTERM."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import httpx
import pytest

from tests.sandbox.conftest import PLAIN_HTTP


@pytest.mark.parametrize(
    ("module", "extra", "probe"),
    [
        ("sandbox.stackone", ["--api-key", "cli-key", "--seed", "3"], "/accounts"),
        ("sandbox.embloy", [], "/_sandbox/health"),
    ],
)
def test_module_entry_point_serves_until_terminated(module: str, extra: list[str], probe: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        listening = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert listening is not None
        base_url = listening.group(0)
        headers = {"Authorization": "Basic " + base64.b64encode(b"cli-key:").decode()}
        with httpx.Client(base_url=base_url, **PLAIN_HTTP) as client:
            response = client.get(probe, headers=headers)
        assert response.status_code == 200
        if module == "sandbox.stackone":
            assert len(response.json()) == 4
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
