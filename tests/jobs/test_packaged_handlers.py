"""Every deployed function, run the way Lambda runs it, emits its metrics as CloudWatch EMF lines.

Lambda imports the module named by the function's handler string (what `chalice package` writes as
`Handler`) in a fresh process; only the middleware registered on the way reaches the handler. Each
function here runs in its own interpreter (tests/jobs/lambda_runtime.py) from its handler string.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ses_events import bounce, sns_event
from tests.sync_support import sqs_event

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-central-1"
SCHEDULED_EVENT = {
    "version": "0",
    "id": "evt-1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-01T00:00:00Z",
    "region": REGION,
    "resources": [],
    "detail": {},
}
API_EVENT = {
    "resource": "/jobs",
    "path": "/jobs",
    "httpMethod": "GET",
    "headers": {"Accept": "application/json", "Host": "example.test"},
    "multiValueHeaders": {"Accept": ["application/json"], "Host": ["example.test"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/jobs",
        "httpMethod": "GET",
        "path": "/api/jobs",
        "stage": "api",
        "requestId": "req-1",
        "identity": {"sourceIp": "127.0.0.1"},
    },
    "body": None,
    "isBase64Encoded": False,
}


def handler_strings() -> dict[str, str]:
    """Function name -> handler string, as `chalice package` writes them (API and event functions)."""
    from app import app

    strings = {source.name: source.handler_string for source in app.event_sources}
    strings["api_handler"] = "app.app"
    return strings


def run_function(handler: str, event: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    """(EMF documents printed, return value) of one Lambda-style invocation in a fresh interpreter."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_ENDPOINT_URL", "POWERTOOLS_METRICS_DISABLED"))
    }
    environment.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "SYNC_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/job-board-sync",
            "EMAIL_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/job-board-email",
            "POWERTOOLS_SERVICE_NAME": "job-board",
            "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
            "PYTHONPATH": str(ROOT),
        }
    )
    completed = subprocess.run(
        [sys.executable, "-m", "tests.jobs.lambda_runtime", handler, json.dumps(event)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    documents = []
    result: Any = None
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents, result


def metric_names(documents: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "JobBoard"
            assert ["service"] in directive["Dimensions"]
            names.update(metric["Name"] for metric in directive["Metrics"])
        assert document["service"] == "job-board"
    return names


def test_every_function_is_reached_through_the_app_module() -> None:
    # app.py registers the middleware: a handler string outside it would run without metrics or logs.
    strings = handler_strings()
    assert set(strings) == {
        "api_handler",
        "sync_all",
        "sync_account",
        "build_board_snapshot",
        "board_snapshot_requested",
        "send_email",
        "email_events",
        "send_alert_digests",
        "send_employer_digests",
        "count_events",
    }
    assert all(handler.startswith("app.") for handler in strings.values()), strings


@pytest.mark.parametrize(
    ("function", "event", "expected"),
    [
        ("sync_all", SCHEDULED_EVENT, {"AccountsEnqueued"}),
        (
            "sync_account",
            sqs_event([{"account_id": "acc1", "run_id": "run-1", "mode": "full"}], ["m1"]),
            {"AccountsSucceeded", "PostingsUpserted"},
        ),
        ("build_board_snapshot", SCHEDULED_EVENT, {"SnapshotsPublished", "BoardPostingsLive"}),
        (
            "board_snapshot_requested",
            sqs_event([{"requested_at": "2026-12-01T00:00:00Z"}], ["m2"]),
            {"SnapshotsPublished", "BoardPostingsLive"},
        ),
        ("api_handler", API_EVENT, {"BoardSearchLatency"}),
        (
            "email_events",
            sns_event(bounce("ana@example.org")),
            {"EmailEventsReceived", "EmailAddressesSuppressed"},
        ),
        # Nothing due on an empty board: the counts are 0, but the invocation's EMF line carries them.
        ("send_alert_digests", SCHEDULED_EVENT, {"AlertDigestsQueued", "AlertDigestsDeferred"}),
        ("send_employer_digests", SCHEDULED_EVENT, {"EmployerDigestsQueued"}),
        # An event of a job that is not on the board: dropped, and the counts say so.
        (
            "count_events",
            sqs_event([{"job_id": "YWNjMQpwMQ", "type": "view", "day": "2026-12-07"}], ["m3"]),
            {"NumbersEventsCounted", "NumbersWrites"},
        ),
    ],
)
def test_each_packaged_function_emits_emf_metric_lines(
    function: str, event: dict[str, Any], expected: set[str]
) -> None:
    documents, result = run_function(handler_strings()[function], event)

    assert expected <= metric_names(documents), (function, documents, result)
    if function == "api_handler":
        assert result["statusCode"] == 200
