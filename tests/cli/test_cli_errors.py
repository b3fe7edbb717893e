"""Every way the operator commands can be misconfigured ends in one `error:` line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from local.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
# Nothing of the developer's or the test suite's environment: only what each case gives.
BASE_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "PYTHONPATH": str(ROOT),
}
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}


def run(argv: list[str], **env: str) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "env", "names"),
    [
        (["employers", "list"], {}, ["--stage", "APP_STAGE"]),
        (["sync"], {}, ["--stage", "APP_STAGE"]),
        (["--stage", "prod", "employers", "list"], {}, ["--region", "AWS_REGION"]),
        (["--stage", "staging", "sync"], {"AWS_REGION": "eu-central-1"}, ["staging", "local, dev, prod"]),
        # A stage the config does not describe, by environment only: every missing name is listed.
        (
            ["employers", "list"],
            {"APP_STAGE": "prod", "AWS_REGION": "eu-central-1"},
            ["BOARD_TABLE", "IDEMPOTENCY_TABLE", "STACKONE_API_KEY_SECRET", "CURSOR_SIGNING_SECRET"],
        ),
        (
            ["--stage", "prod", "employers", "list"],
            {"AWS_REGION": "eu-central-1"},
            ["no AWS credentials"],
        ),
    ],
)
def test_missing_settings_name_what_to_set(argv: list[str], env: dict[str, str], names: list[str]) -> None:
    status, stdout, stderr = run(["-m", "chalicelib.cli", *argv], **env)

    assert status == 2
    assert stdout == ""
    line = one_error_line(stderr)
    for name in names:
        assert name in line


@pytest.mark.parametrize("command", [["employers", "list"], ["sync"]])
def test_an_unreachable_endpoint_is_one_line_naming_it(command: list[str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"

    status, _, stderr = run(
        ["-m", "chalicelib.cli", "--stage", "prod", *command],
        AWS_REGION="eu-central-1",
        AWS_ENDPOINT_URL=endpoint,
        **FAKE_KEYS,
    )

    assert status == 1
    assert endpoint in one_error_line(stderr)


@pytest.mark.parametrize(
    "argv", [["-m", "local.cli", "employers", "list"], ["-m", "local.scheduler", "--once"]]
)
def test_local_commands_without_a_running_stack_say_how_to_start_one(argv: list[str]) -> None:
    status, _, stderr = run(argv, LOCAL_MOTO_PORT=str(free_port()), LOCAL_STACKONE_PORT=str(free_port()))

    assert status == 2
    line = one_error_line(stderr)
    assert "make run" in line and "LOCAL_MOTO_PORT" in line
