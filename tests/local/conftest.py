"""Fixtures for the local stack: a real `moto_server` on a free loopback port, stopped by PID."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.processes import ManagedProcess, free_port, http_answers, wait_until
from local.stack import PROJECT_DIR

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto server started for this module by its own binary."""
    port = free_port()
    process = ManagedProcess(
        "moto server",
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env={"PATH": "/usr/bin:/bin"},
        cwd=PROJECT_DIR,
        log_path=tmp_path_factory.mktemp("moto") / "moto.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_answers(f"{url}/moto-api/", ok_statuses=lambda status: status == 200),
            what="moto server",
            timeout_seconds=20,
            process=process,
        )
        yield url
    finally:
        process.stop()
