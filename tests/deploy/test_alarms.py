"""The packaged template's alarms: what they watch, that the code emits it, and where they notify."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deploy.render import api_functions, load_app
from tests.deploy.code_metrics import emitted_metric_names
from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS, resolve


def _alarms(packaged: PackagedStage) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in packaged.resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def _watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math queries."""
    if "MetricName" in alarm:
        return [alarm]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def _env(packaged: PackagedStage, name: str) -> str:
    return packaged.deployment.environment[name]


def test_every_alarm_notifies_the_one_alarm_topic_whose_email_subscription_is_optional(
    packaged: PackagedStage,
) -> None:
    for name, alarm in _alarms(packaged).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        # The name docs/runbook.md's commands use.
        assert alarm["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}, name
    topics = [r for r in packaged.resources.values() if r["Type"] == "AWS::SNS::Topic"]
    assert len(topics) == 2  # the alarm topic and SES's bounce and complaint topic
    subscription = packaged.resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert packaged.template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert packaged.template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_every_custom_metric_an_alarm_watches_is_emitted_by_the_code(packaged: PackagedStage) -> None:
    emitted = emitted_metric_names()
    custom = []
    for name, alarm in _alarms(packaged).items():
        for metric in _watched_metrics(alarm):
            namespace = resolve(packaged.template, metric["Namespace"])
            if namespace.startswith("AWS/"):
                continue
            # Powertools' namespace and `service` dimension, as the stage's functions are configured.
            assert namespace == _env(packaged, "POWERTOOLS_METRICS_NAMESPACE"), name
            dimensions = {d["Name"]: resolve(packaged.template, d["Value"]) for d in metric["Dimensions"]}
            assert dimensions == {"service": _env(packaged, "POWERTOOLS_SERVICE_NAME")}, name
            assert metric["MetricName"] in emitted, (
                f"{name} watches {metric['MetricName']}, which no code emits"
            )
            custom.append(metric["MetricName"])
    assert {"SnapshotsPublished", "ApplicationsFailed", "AccountsFailed"} <= set(custom)


def test_every_function_has_an_errors_alarm_and_the_api_functions_a_throttles_alarm(
    packaged: PackagedStage,
) -> None:
    app = load_app()
    api = api_functions(app)
    assert set(api) == {"api_handler", "employer_authorizer"}
    watched: dict[tuple[str, str], str] = {}
    for name, alarm in _alarms(packaged).items():
        if alarm.get("Namespace") == "AWS/Lambda":
            ((dimension),) = alarm["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            watched[(dimension["Value"]["Ref"], alarm["MetricName"])] = name
            assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for function, logical_id in FUNCTIONS.items():
        assert watched[(logical_id, "Errors")] == f"{logical_id}ErrorsAlarm", function
        if function in api:
            assert watched[(logical_id, "Throttles")] == f"{logical_id}ThrottlesAlarm", function
            # A caller is waiting: the last 5 minutes, not a 15-minute period.
            assert _alarms(packaged)[f"{logical_id}ErrorsAlarm"]["Period"] == 60


def _python(expression: str) -> str:
    """A metric math expression (arithmetic, comparisons, IF) as Python; IF evaluates one branch only."""
    start = expression.find("IF(")
    if start < 0:
        return expression
    depth, parts, current = 0, [], ""
    for index, char in enumerate(expression[start + 3 :], start + 3):
        if char == "(":
            depth += 1
        elif char == ")" and depth == 0:
            parts.append(current)
            end = index
            break
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    condition, then, otherwise = (_python(part.strip()) for part in parts)
    rest = _python(expression[end + 1 :])
    return f"{expression[:start]}(({then}) if ({condition}) else ({otherwise})){rest}"


def _evaluate(expression: str, errors: float, requests: float) -> float:
    python = _python(expression)
    assert re.fullmatch(r"[\w\s()<>=*/+.-]+", python), python
    result: float = eval(python, {"__builtins__": {}}, {"errors": errors, "requests": requests})
    return result


@pytest.mark.parametrize(
    ("errors", "requests", "fires"),
    [
        (10, 10, True),  # a quiet board where every request fails
        (1, 10, True),  # 10 %
        (4, 100, False),  # 4 %: scattered errors on a busy board
        (5, 100, True),
        (3, 3, False),  # too few requests to judge
        (0, 0, False),
    ],
)
def test_the_5xx_alarm_is_a_rate_over_a_minimum_number_of_requests(
    packaged: PackagedStage, errors: int, requests: int, fires: bool
) -> None:
    alarm = _alarms(packaged)["Api5xxRateAlarm"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    assert queries["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert queries["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    for query_id in ("errors", "requests"):
        metric = queries[query_id]["MetricStat"]["Metric"]
        dimensions = {d["Name"]: resolve(packaged.template, d["Value"]) for d in metric["Dimensions"]}
        assert dimensions == {
            "ApiName": {"Ref": "AWS::StackName"},
            "Stage": packaged.deployment.api_gateway_stage,
        }
        assert queries[query_id]["MetricStat"]["Stat"] == "Sum"
        assert queries[query_id]["ReturnData"] is False
    (returned,) = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
    value = _evaluate(returned["Expression"], errors, requests)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (value >= alarm["Threshold"]) is fires
    assert packaged.resources["RestAPI"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}


def test_a_builder_that_stops_publishing_fires_the_stale_snapshot_alarm(packaged: PackagedStage) -> None:
    alarm = _alarms(packaged)["BoardSnapshotStaleAlarm"]
    assert alarm["MetricName"] == "SnapshotsPublished"
    # No builder run at all leaves no data point: that is the failure this alarm is for.
    assert alarm["TreatMissingData"] == "breaching"
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Statistic"]) == (
        "LessThanThreshold",
        1,
        "Sum",
    )
    hours = int(resolve(packaged.template, alarm["EvaluationPeriods"]))
    assert int(resolve(packaged.template, alarm["DatapointsToAlarm"])) == hours
    schedule_minutes = int(_env(packaged, "BOARD_SNAPSHOT_SCHEDULE_MINUTES"))
    # Three schedule periods without a publish: one failed build never pages anyone.
    assert alarm["Period"] * hours >= 3 * schedule_minutes * 60
    # ... and it fires days before the bucket's lifecycle rule deletes the current snapshot.
    (rule,) = packaged.resources["SnapshotBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert alarm["Period"] * hours <= rule["ExpirationInDays"] * 86400 // 2


@pytest.mark.parametrize("queue", ["SyncQueue", "SnapshotQueue", "EmailQueue"])
def test_the_age_of_the_oldest_message_of_each_queue_is_watched(packaged: PackagedStage, queue: str) -> None:
    (alarm,) = [
        alarm
        for alarm in _alarms(packaged).values()
        if alarm.get("MetricName") == "ApproximateAgeOfOldestMessage"
        and alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    threshold = int(resolve(packaged.template, alarm["Threshold"]))
    visibility = int(resolve(packaged.template, packaged.resources[queue]["Properties"]["VisibilityTimeout"]))
    # A message that merely came back once after a failed receive is not yet an alarm.
    assert threshold > visibility
    retention = packaged.resources[queue]["Properties"]["MessageRetentionPeriod"]
    assert threshold < retention  # it fires before messages expire unsent


def test_failed_applications_are_watched(packaged: PackagedStage) -> None:
    alarm = _alarms(packaged)["ApplicationsFailedAlarm"]
    from chalicelib.services.apply import APPLY_OUTCOME_METRICS

    assert alarm["MetricName"] == APPLY_OUTCOME_METRICS["failed"]
    assert alarm["Statistic"] == "Sum"
    assert alarm["TreatMissingData"] == "notBreaching"
