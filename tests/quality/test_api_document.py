"""The API document tells the truth, checked over HTTP against the whole local stack (`make run`).

`python -m local.run` starts moto's server, both sandboxes, the bootstrap (demo employers with API keys,
Embloy tokens) and `chalice local` through local/api_server.py on free ports; its scheduler syncs the
demo accounts at once. Then:

- every example the document gives (request bodies) is sent, with real ids and a valid employer key,
  and must be accepted;
- schemathesis (pinned in requirements-dev.txt) runs over every operation of the document served at
  `/openapi.json` (examples, coverage and fuzzing phases, positive and negative data, a valid Bearer key)
  and must find no 5xx and no conformance failure. It prints requests sent, per-status counts and
  failures. SCHEMATHESIS_EXAMPLES (per operation) and SCHEMATHESIS_SEED tune it; `make fuzz` runs more.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from chalicelib.services.webhooks import sign
from local.processes import free_port
from local.stack import PORT_VARIABLES, PROJECT_DIR

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
# The run's whole output and its HAR (every request and response) are kept here (gitignored).
ARTIFACTS = PROJECT_DIR / "artifacts" / "schemathesis"
READY_LINE = "Processes:"
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "160"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261207")
MIN_REQUESTS = 2000
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# The employer whose key schemathesis sends: an Ashby account with an Embloy token (tests/local bootstrap).
FUZZ_EMPLOYER = "emp_demo_northwind"
# The Embloy token example is uploaded for an employer whose ATS Embloy does not serve: uploaded for the
# employer of the example job, the example token (not one the Embloy sandbox accepts) would replace the
# working one and the Embloy apply example would be refused.
TOKEN_EXAMPLE_EMPLOYER = "emp_demo_acme"
DOCUMENT_FIGURES: dict[str, Any] = {}


@dataclass(frozen=True)
class LocalStack:
    api_url: str
    moto_url: str
    api_keys: dict[str, str]  # employer id -> API key

    def webhook_secret(self) -> str:
        """The signing secret the bootstrap stored in the stack's Secrets Manager (moto)."""
        import boto3

        from local.stack import local_settings

        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=self.moto_url,
            region_name="eu-central-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        name = local_settings().webhook_secret_name
        return str(secrets.get_secret_value(SecretId=name)["SecretString"])


def _read_until(lines: queue.Queue[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} within {timeout} s; output:\n{''.join(seen)}") from None
        seen.append(line)
        if marker in line:
            return "".join(seen)


def _wait_for_board(api_url: str, timeout: float) -> None:
    """The scheduler's first sync and snapshot reach the API (a real process's startup, polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{api_url}/jobs?limit=1", timeout=10)
        if response.status_code == 200 and response.json()["total"] > 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"the local board has no jobs after {timeout} s")


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    # Every port the stack binds (the mail catcher's too) is a free one: a `make run` may be going.
    ports = {variable: str(free_port()) for variable, _ in PORT_VARIABLES.values()}
    env = {
        **os.environ,
        **ports,
        # The scheduler syncs once at start; nothing else should change the board during the run.
        "LOCAL_SYNC_INTERVAL_SECONDS": "3600",
        "LOCAL_DRAIN_INTERVAL_SECONDS": "3600",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped below by that group's id
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        output = _read_until(lines, READY_LINE, timeout=120)
        api_keys = dict(re.findall(r"^\s+(emp_demo_\w+)\s.*?(jbk_[A-Za-z0-9_-]+)\s*$", output, re.MULTILINE))
        assert FUZZ_EMPLOYER in api_keys, output
        api_url = f"http://127.0.0.1:{ports['LOCAL_API_PORT']}"
        _wait_for_board(api_url, timeout=120)
        moto_url = f"http://127.0.0.1:{ports['LOCAL_MOTO_PORT']}"
        yield LocalStack(api_url=api_url, moto_url=moto_url, api_keys=api_keys)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def _document(stack: LocalStack) -> dict[str, Any]:
    response = httpx.get(f"{stack.api_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _live_jobs(stack: LocalStack) -> list[dict[str, Any]]:
    listing = httpx.get(f"{stack.api_url}/jobs?limit=100", timeout=10).json()["data"]
    return [httpx.get(f"{stack.api_url}/jobs/{job['job_id']}", timeout=10).json() for job in listing]


def _example_path_values(stack: LocalStack, employer_id: str) -> dict[str, str]:
    """Real ids for the examples' path parameters: a job without questions that takes applications
    (the body example answers none) and an account of the calling employer."""
    jobs = _live_jobs(stack)
    job = next(
        job
        for job in jobs
        if job["apply"]["native"]
        and job["employer_id"] == employer_id
        and not any(questionnaire["questions"] for questionnaire in job.get("questionnaires") or [])
    )
    accounts = httpx.get(
        f"{stack.api_url}/accounts",
        headers={"Authorization": f"Bearer {stack.api_keys[employer_id]}"},
        timeout=30,
    ).json()["data"]
    return {"job_id": job["job_id"], "account_id": accounts[0]["account_id"]}


def test_every_example_in_the_document_is_accepted(local_stack: LocalStack) -> None:
    document = _document(local_stack)
    employer_id = FUZZ_EMPLOYER
    values = _example_path_values(local_stack, employer_id)
    sent = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            bodies = [
                media["example"]
                for media_type, media in (operation.get("requestBody") or {}).get("content", {}).items()
                if "example" in media and media_type == "application/json"
            ]
            # Parameter examples go where their parameter goes (none are documented today).
            given = {
                location: {
                    parameter["name"]: str(parameter["example"])
                    for parameter in operation.get("parameters", [])
                    if "example" in parameter and parameter["in"] == location
                }
                for location in ("path", "query", "header")
            }
            if not bodies and not any(given.values()):
                continue
            body = bodies[0] if bodies else None
            raw = json.dumps(body).encode() if body is not None else b""
            caller = TOKEN_EXAMPLE_EMPLOYER if path == "/employer/embloy-token" else employer_id
            headers = {
                "Authorization": f"Bearer {local_stack.api_keys[caller]}",
                "Content-Type": "application/json",
                **given["header"],
            }
            url = local_stack.api_url + path.format(**{**values, **given["path"]})
            if given["query"]:
                url += "?" + urlencode(given["query"])
            if path == "/webhooks/stackone":
                # Signed, and refused as it stands: its `sent_at` is past the freshness window (documented).
                secret = local_stack.webhook_secret()
                headers["x-stackone-signature"] = sign(secret, raw)
                stale = httpx.post(url, headers=headers, content=raw, timeout=30)
                assert (stale.status_code, stale.json()["error"]["code"]) == (401, "webhook_expired")
                assert body is not None
                fresh = {**body, "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
                raw = json.dumps(fresh).encode()
                headers["x-stackone-signature"] = sign(secret, raw)
            response = httpx.request(method.upper(), url, headers=headers, content=raw, timeout=30)
            sent.append(f"{method.upper()} {path}: {response.status_code}")
            assert 200 <= response.status_code < 300, (
                method,
                path,
                body,
                response.status_code,
                response.text,
            )
    print("document examples:", "; ".join(sent))
    assert len(sent) >= 6, sent  # the request bodies of six operations carry an example


def test_schemathesis_finds_no_disagreement_between_the_document_and_the_server(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    har = ARTIFACTS / "run.har"
    har.unlink(missing_ok=True)
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "run",
        f"{local_stack.api_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {local_stack.api_keys[FUZZ_EMPLOYER]}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "PYTHONPATH": str(PROJECT_DIR)}
    started = time.monotonic()
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3000)
    seconds = time.monotonic() - started
    output = run.stdout + run.stderr
    (ARTIFACTS / "output.txt").write_text(output)

    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    statuses = collections.Counter(entry["response"]["status"] for entry in entries)
    tested = re.search(r"Tested: (\d+)", output)
    failures = re.search(r"(\d+) generated, (\d+) found (\d+) unique failures", output)
    DOCUMENT_FIGURES.update(
        requests=len(entries),
        statuses=dict(sorted(statuses.items())),
        unique_failures=int(failures.group(3)) if failures else None,
        operations_tested=int(tested.group(1)) if tested else None,
        seconds=round(seconds),
        seed=SEED,
        examples_per_operation=EXAMPLES_PER_OPERATION,
    )
    print(output[-6000:])

    found = output[output.find("FAILURES") : output.find("WARNINGS")]
    assert run.returncode == 0, f"schemathesis found disagreements (exit {run.returncode}):\n{found}"
    assert not [status for status in statuses if status >= 500]
    assert len(entries) >= MIN_REQUESTS, DOCUMENT_FIGURES
    document = _document(local_stack)
    # Schemathesis leaves out the operation that serves the document it was loaded from.
    operations = sum(len(item) for path, item in document["paths"].items() if path != "/openapi.json")
    assert tested is not None and int(tested.group(1)) == operations, output[-3000:]
