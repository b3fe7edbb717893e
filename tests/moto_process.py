"""A real `moto_server` on a free loopback port, started by its own binary and stopped by PID."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local.processes import ManagedProcess, free_port, http_answers, wait_until
from local.stack import PROJECT_DIR


@contextmanager
def moto_server_process(log_dir: Path) -> Iterator[str]:
    """The URL of a moto server that runs for the `with` block (its log in `log_dir`)."""
    port = free_port()
    process = ManagedProcess(
        "moto server",
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env={"PATH": "/usr/bin:/bin"},
        cwd=PROJECT_DIR,
        log_path=log_dir / "moto.log",
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
