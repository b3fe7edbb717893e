"""`python -m chalicelib.cli employers ...`: create, list, rotate-key, revoke-key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import deps
from chalicelib.cli.__main__ import main
from chalicelib.services.employers import API_KEY_PREFIX, hash_api_key

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["employers", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_create_prints_the_key_once_and_stores_only_its_hash(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "create", "--name", "Acme Robotics", "--id", "emp_acme", "--json")

    assert status == 0
    printed = json.loads(out)
    assert printed["employer_id"] == "emp_acme"
    assert printed["api_key"].startswith(API_KEY_PREFIX)
    assert deps.get_employer_service().authenticate(printed["api_key"]) == "emp_acme"
    items = deps.get_table().scan()["Items"]
    assert printed["api_key"] not in repr(items)
    assert any(item["PK"] == f"APIKEY#{hash_api_key(printed['api_key'])}" for item in items)


def test_create_with_a_taken_id_fails_cleanly(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "create", "--name", "Acme", "--id", "emp_acme")

    status, out, err = run(capsys, "create", "--name", "Impostor", "--id", "emp_acme")

    assert status == 1
    assert out == ""
    assert "already exists" in err and "Traceback" not in err


def test_list_shows_employers_and_key_state_without_keys(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, created, _ = run(capsys, "create", "--name", "Acme Robotics", "--id", "emp_acme", "--json")
    run(capsys, "create", "--name", "Globex", "--id", "emp_globex")
    run(capsys, "revoke-key", "emp_globex")

    status, out, _ = run(capsys, "list")
    _, as_json, _ = run(capsys, "list", "--json")

    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["emp_acme", "active"] and lines[0].endswith("Acme Robotics")
    assert lines[1].split()[:2] == ["emp_globex", "revoked"]
    assert [(e["employer_id"], e["key"]) for e in json.loads(as_json)] == [
        ("emp_acme", "active"),
        ("emp_globex", "revoked"),
    ]
    assert json.loads(created)["api_key"] not in out + as_json


def test_rotate_and_revoke(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    _, created, _ = run(capsys, "create", "--name", "Acme", "--id", "emp_acme", "--json")
    old_key = json.loads(created)["api_key"]

    status, rotated, err = run(capsys, "rotate-key", "emp_acme", "--json")
    new_key = json.loads(rotated)["api_key"]
    deps.reset_dependencies()  # a fresh API process: no cached keys

    assert status == 0 and "revoked" in err
    assert deps.get_employer_service().authenticate(old_key) is None
    assert deps.get_employer_service().authenticate(new_key) == "emp_acme"

    assert run(capsys, "revoke-key", "emp_acme")[0] == 0
    deps.reset_dependencies()
    assert deps.get_employer_service().authenticate(new_key) is None


@pytest.mark.parametrize("command", ["rotate-key", "revoke-key"])
def test_unknown_employer_is_a_clean_error(
    aws: None, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    status, out, err = run(capsys, command, "emp_nobody")

    assert status == 1
    assert out == ""
    assert err.startswith("error: No employer emp_nobody")


def test_missing_table_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    from moto import mock_aws

    with mock_aws():  # an account without the table
        status, _, err = run(capsys, "list")

    assert status == 1
    assert "ResourceNotFoundException" in err and "Traceback" not in err


@pytest.fixture
def moto_server() -> Iterator[str]:
    """A real HTTP AWS emulator on loopback, as `make run` uses; the CLI reaches it via AWS_ENDPOINT_URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    from chalicelib.aws.table_schema import create_table_kwargs

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(**create_table_kwargs("job-board-cli-test"))
    yield endpoint
    server.stop()


def test_works_as_a_separate_process_against_an_aws_endpoint(moto_server: str) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server, "BOARD_TABLE": "job-board-cli-test"}

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "employers", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    created = cli("create", "--name", "Acme Robotics", "--id", "emp_acme")
    listed = cli("list", "--json")

    assert created.returncode == 0, created.stderr
    assert "api_key:     jbk_" in created.stdout
    assert "shown only once" in created.stderr
    assert json.loads(listed.stdout)[0]["employer_id"] == "emp_acme"
