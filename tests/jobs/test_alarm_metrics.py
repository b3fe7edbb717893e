"""Every custom metric an alarm of the stack watches is emitted by the function that should emit it.

The alarms come from the rendered merge template (deploy/resources.yaml, as `make package` renders it);
each metric has a scenario that runs its function through the app, middleware included (the route through
the test client's HTTP gateway, the event functions through `lambda_.invoke`), and reads the Powertools
EMF line the invocation printed. A new alarm on a custom metric without a scenario here fails the suite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.apply_factories import application_body, json_headers, make_posting, store_posting
from tests.api.board_factories import make_posting as make_board_posting
from tests.api.board_factories import put_postings
from tests.sync_support import StackOneStub, sqs_event

NAMESPACE = "JobBoard"  # POWERTOOLS_METRICS_NAMESPACE of the tests (tests/conftest.py)
SCHEDULED_EVENT = {
    "version": "0",
    "id": "evt-1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-01T00:00:00Z",
    "region": "eu-central-1",
    "resources": [],
    "detail": {},
}


def _account_sync_fails(client: Any, stackone: StackOneStub) -> None:
    # StackOne refuses the account's credentials: the run ends needing attention, a failed sync.
    stackone.add_account("acc1", postings=1)
    stackone.status_for_account["acc1"] = 401
    client.lambda_.invoke("sync_account", sqs_event([{"account_id": "acc1", "run_id": "r1"}], ["m1"]))


def _snapshot_is_built(client: Any, stackone: StackOneStub) -> None:
    put_postings(make_board_posting("Heartbeat Engineer"))
    client.lambda_.invoke("build_board_snapshot", SCHEDULED_EVENT)


def _application_fails_upstream(client: Any, stackone: StackOneStub) -> None:
    posting = store_posting(make_posting())
    stackone.router.post("/unified/ats/applications").respond(500, json={"statusCode": 500})
    response = client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )
    assert response.status_code == 503


# Custom metric an alarm watches -> the invocation that must emit it.
SCENARIOS: dict[str, Callable[[Any, StackOneStub], None]] = {
    "AccountsFailed": _account_sync_fails,
    "SnapshotsPublished": _snapshot_is_built,
    "ApplicationsFailed": _application_fails_upstream,
}


def alarm_metrics(stage: str) -> set[str]:
    """The custom (namespace `Board.Names.MetricsNamespace`) metrics the stage's alarms watch."""
    from deploy.render import render, stage_deployment

    template = render(stage_deployment(stage))
    namespace = {"Fn::FindInMap": ["Board", "Names", "MetricsNamespace"]}
    watched: set[str] = set()
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        properties = resource["Properties"]
        metrics = [properties] + [
            query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query
        ]
        watched.update(metric["MetricName"] for metric in metrics if metric.get("Namespace") == namespace)
    return watched


def emitted(output: str) -> set[str]:
    """The metric names of the EMF documents in `output` (our namespace, the `service` dimension)."""
    names: set[str] = set()
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] == NAMESPACE and ["service"] in directive["Dimensions"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
    return names


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_custom_metric_an_alarm_watches_has_a_scenario(stage: str) -> None:
    assert alarm_metrics(stage) == set(SCENARIOS)


@pytest.mark.parametrize("metric", sorted(SCENARIOS))
def test_the_function_behind_each_alarm_emits_its_metric(
    metric: str,
    client: Any,
    queue_url: str,
    stackone: StackOneStub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()

    SCENARIOS[metric](client, stackone)

    assert metric in emitted(capsys.readouterr().out)
