"""The merge template takes its names and sizes from the stage config, and refuses an incomplete stage."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.services.board.snapshot import STORED_REFRESH
from deploy.render import (
    MIN_BUILDER_OUTAGE_MINUTES,
    StageConfigError,
    function_logical_id,
    load_config,
    render,
    stage_deployment,
)


def _config() -> dict[str, Any]:
    return copy.deepcopy(load_config())


def test_rendered_mapping_carries_the_stage_names_and_worker_sizing() -> None:
    config = _config()
    stage = config["stages"]["prod"]
    stage["environment_variables"]["SYNC_QUEUE_NAME"] = "jobs-sync"
    stage["lambda_functions"]["sync_account"].update({"lambda_timeout": 120, "reserved_concurrency": 4})
    stage["environment_variables"]["SYNC_WORKER_CONCURRENCY"] = "4"

    mapping = render(stage_deployment("prod", config))["Mappings"]["Board"]

    assert mapping["Names"]["SyncQueue"] == "jobs-sync"
    assert mapping["Names"]["SyncDeadLetterQueue"] == "jobs-sync-dlq"
    assert mapping["Names"]["BoardTable"] == stage["environment_variables"]["BOARD_TABLE"]
    assert mapping["Sizing"]["SyncQueueVisibilityTimeout"] == "720"
    # A sync request older than the visibility timeout plus two 15-minute schedule periods is stuck.
    assert mapping["Alarms"]["SyncQueueMaxAgeSeconds"] == str(720 + 2 * 15 * 60)


def test_rendered_mapping_carries_the_snapshot_queue_prefix_and_builder_sizing() -> None:
    config = _config()
    stage = config["stages"]["dev"]
    stage["environment_variables"].update(
        {"BOARD_SNAPSHOT_QUEUE_NAME": "jobs-snapshot", "BOARD_SNAPSHOT_PREFIX": "snapshots/v2/"}
    )
    stage["lambda_functions"]["board_snapshot_requested"]["lambda_timeout"] = 600

    mapping = render(stage_deployment("dev", config))["Mappings"]["Board"]

    assert mapping["Names"]["SnapshotQueue"] == "jobs-snapshot"
    assert mapping["Names"]["SnapshotDeadLetterQueue"] == "jobs-snapshot-dlq"
    assert mapping["Names"]["SnapshotPrefix"] == "snapshots/v2/"
    assert mapping["Sizing"]["SnapshotQueueVisibilityTimeout"] == "3600"


def test_rendered_mapping_carries_the_email_queue_topic_and_sender_sizing() -> None:
    config = _config()
    stage = config["stages"]["prod"]
    stage["environment_variables"].update(
        {"EMAIL_QUEUE_NAME": "jobs-email", "EMAIL_EVENTS_TOPIC_NAME": "jobs-email-events"}
    )
    stage["lambda_functions"]["send_email"].update({"lambda_timeout": 90, "reserved_concurrency": 3})
    stage["environment_variables"]["EMAIL_SENDER_CONCURRENCY"] = "3"

    mapping = render(stage_deployment("prod", config))["Mappings"]["Board"]

    assert mapping["Names"]["EmailQueue"] == "jobs-email"
    assert mapping["Names"]["EmailDeadLetterQueue"] == "jobs-email-dlq"
    assert mapping["Names"]["EmailEventsTopic"] == "jobs-email-events"
    assert mapping["Sizing"]["EmailQueueVisibilityTimeout"] == "540"


@pytest.mark.parametrize(
    ("variable", "function"),
    [("SYNC_WORKER_CONCURRENCY", "sync_account"), ("EMAIL_SENDER_CONCURRENCY", "send_email")],
)
def test_a_poller_concurrency_that_does_not_repeat_the_reserved_concurrency_is_refused(
    variable: str, function: str
) -> None:
    # The decorators hand Chalice the setting; the reservation is the function's: they must agree, or
    # the poller invokes more instances than are reserved and batches are throttled back.
    config = _config()
    config["stages"]["prod"]["lambda_functions"][function]["reserved_concurrency"] = 7
    with pytest.raises(StageConfigError, match=variable):
        stage_deployment("prod", config)


def test_rendered_mapping_carries_the_numbers_queue_and_counter_sizing() -> None:
    config = _config()
    stage = config["stages"]["prod"]
    stage["environment_variables"].update(
        {
            "NUMBERS_QUEUE_NAME": "jobs-numbers",
            "NUMBERS_BATCH_WINDOW_SECONDS": "30",
            "NUMBERS_COUNTER_CONCURRENCY": "3",
        }
    )
    stage["lambda_functions"]["count_events"].update({"lambda_timeout": 40, "reserved_concurrency": 3})

    mapping = render(stage_deployment("prod", config))["Mappings"]["Board"]

    assert mapping["Names"]["NumbersQueue"] == "jobs-numbers"
    assert mapping["Names"]["NumbersDeadLetterQueue"] == "jobs-numbers-dlq"
    assert mapping["Sizing"]["NumbersQueueVisibilityTimeout"] == str(6 * 40 + 30)
    assert stage_deployment("prod", config).numbers_counter_concurrency == 3


@pytest.mark.parametrize("variable", ["EMAIL_QUEUE_NAME", "EMAIL_EVENTS_TOPIC_NAME", "NUMBERS_QUEUE_NAME"])
def test_stage_without_the_email_names_is_refused(variable: str) -> None:
    config = _config()
    del config["stages"]["prod"]["environment_variables"][variable]
    with pytest.raises(StageConfigError, match=variable):
        stage_deployment("prod", config)


@pytest.mark.parametrize("concurrency", [None, 1, 1001, True])
def test_email_sender_without_a_usable_reserved_concurrency_is_refused(concurrency: object) -> None:
    config = _config()
    sender = config["stages"]["dev"]["lambda_functions"]["send_email"]
    if concurrency is None:
        del sender["reserved_concurrency"]
    else:
        sender["reserved_concurrency"] = concurrency
    with pytest.raises(StageConfigError, match=r"send_email\.reserved_concurrency"):
        stage_deployment("dev", config)


def test_ephemeral_storage_is_added_to_the_functions_that_ask_for_it() -> None:
    config = _config()
    functions = config["stages"]["prod"]["lambda_functions"]
    for settings in functions.values():
        settings.pop("ephemeral_storage_mb", None)
    functions["api_handler"]["ephemeral_storage_mb"] = 4096
    functions["build_board_snapshot"]["ephemeral_storage_mb"] = 1024

    resources = render(stage_deployment("prod", config))["Resources"]

    assert resources["APIHandler"]["Properties"]["EphemeralStorage"] == {"Size": 4096}
    assert resources["BuildBoardSnapshot"]["Properties"]["EphemeralStorage"] == {"Size": 1024}
    assert "EphemeralStorage" not in resources["BoardSnapshotRequested"]["Properties"]
    assert "EphemeralStorage" not in resources["SyncAccount"]["Properties"]


@pytest.mark.parametrize("size", [256, 10241, "2048", True])
def test_ephemeral_storage_outside_lambdas_range_is_refused(size: object) -> None:
    config = _config()
    config["stages"]["dev"]["lambda_functions"]["api_handler"]["ephemeral_storage_mb"] = size
    with pytest.raises(StageConfigError, match=r"api_handler\.ephemeral_storage_mb"):
        stage_deployment("dev", config)


def test_logical_ids_follow_chalice() -> None:
    assert function_logical_id("api_handler") == "APIHandler"
    assert function_logical_id("board_snapshot_requested") == "BoardSnapshotRequested"
    assert function_logical_id("sync_all") == "SyncAll"


@pytest.mark.parametrize("prefix", ["board/snapshots", "/board/snapshots/", "board/*/", ""])
def test_snapshot_prefix_that_is_not_a_directory_of_its_own_is_refused(prefix: str) -> None:
    config = _config()
    config["stages"]["dev"]["environment_variables"]["BOARD_SNAPSHOT_PREFIX"] = prefix
    with pytest.raises(StageConfigError, match="BOARD_SNAPSHOT_PREFIX"):
        stage_deployment("dev", config)


def test_snapshot_schedule_that_would_let_the_current_snapshot_expire_is_refused() -> None:
    config = _config()
    environment = config["stages"]["prod"]["environment_variables"]
    expiry_days = 7  # deploy/resources.yaml, SnapshotBucket's lifecycle rule
    # The files the current snapshot uses are uploaded again once this old.
    refresh = int(STORED_REFRESH.total_seconds() // 60)
    longest = expiry_days * 24 * 60 - MIN_BUILDER_OUTAGE_MINUTES - refresh
    environment["BOARD_SNAPSHOT_SCHEDULE_MINUTES"] = str(longest)
    render(stage_deployment("prod", config))

    environment["BOARD_SNAPSHOT_SCHEDULE_MINUTES"] = str(longest + 1)
    with pytest.raises(StageConfigError, match="builder outage"):
        render(stage_deployment("prod", config))

    environment["BOARD_SNAPSHOT_SCHEDULE_MINUTES"] = "0"
    with pytest.raises(StageConfigError, match="BOARD_SNAPSHOT_SCHEDULE_MINUTES"):
        stage_deployment("prod", config)


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(StageConfigError, match="No stage"):
        stage_deployment("staging", _config())


def test_stage_without_a_resource_name_is_refused() -> None:
    config = _config()
    del config["stages"]["dev"]["environment_variables"]["BOARD_TABLE"]
    with pytest.raises(StageConfigError, match="BOARD_TABLE"):
        stage_deployment("dev", config)


@pytest.mark.parametrize("concurrency", [None, 1, 1001])
def test_worker_without_a_usable_reserved_concurrency_is_refused(concurrency: int | None) -> None:
    config = _config()
    worker = config["stages"]["dev"]["lambda_functions"]["sync_account"]
    if concurrency is None:
        del worker["reserved_concurrency"]
    else:
        worker["reserved_concurrency"] = concurrency
    with pytest.raises(StageConfigError, match="reserved_concurrency"):
        stage_deployment("dev", config)


def test_gateway_errors_carry_the_first_cors_origin_only_when_one_is_configured() -> None:
    config = _config()
    environment = config["stages"]["prod"]["environment_variables"]

    environment["CORS_ORIGINS"] = ""
    responses = _gateway_responses(render(stage_deployment("prod", config)))
    assert all(
        "gatewayresponse.header.Access-Control-Allow-Origin" not in response.get("responseParameters", {})
        for response in responses.values()
    )

    environment["CORS_ORIGINS"] = "https://jobs.example.com,https://other.example.com"
    responses = _gateway_responses(render(stage_deployment("prod", config)))
    for response in responses.values():
        parameters = response["responseParameters"]
        assert (
            parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://jobs.example.com'"
        )
    assert responses["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def _gateway_responses(template: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"
    ]
    return responses


def test_a_function_the_template_does_not_name_gets_an_alias_a_deployment_preference_and_an_alarm() -> None:
    # Another change adds a function to the stage: it is covered without touching deploy/resources.yaml.
    config = _config()
    config["stages"]["prod"]["lambda_functions"]["purge_expired_postings"] = {"lambda_timeout": 60}

    resources = render(stage_deployment("prod", config))["Resources"]

    logical_id = function_logical_id("purge_expired_postings")
    properties = resources[logical_id]["Properties"]
    assert properties["AutoPublishAlias"] == "live"
    assert properties["DeploymentPreference"] == {
        "Type": {"Ref": "DeploymentType"},
        "Alarms": [{"Ref": f"{logical_id}ErrorsAlarm"}],
    }
    alarm = resources[f"{logical_id}ErrorsAlarm"]["Properties"]
    assert alarm["MetricName"] == "Errors"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("timeout", [29, 30, 24])
def test_an_api_timeout_outside_the_request_deadline_and_the_gateways_limit_is_refused(timeout: int) -> None:
    # At least the longest REQUEST_DEADLINE_SECONDS (20) plus a cold start (5), below API Gateway's 29 s.
    config = _config()
    config["stages"]["prod"]["lambda_functions"]["api_handler"]["lambda_timeout"] = timeout
    with pytest.raises(StageConfigError, match=r"api_handler\.lambda_timeout"):
        stage_deployment("prod", config)


def test_the_deployment_type_defaults_to_the_stages_preference() -> None:
    config = _config()
    config["stages"]["dev"]["deployment_preference"] = "Linear10PercentEvery1Minute"
    assert render(stage_deployment("dev", config))["Parameters"]["DeploymentType"]["Default"] == (
        "Linear10PercentEvery1Minute"
    )
    assert (
        render(stage_deployment("prod"))["Parameters"]["DeploymentType"]["Default"]
        == "Canary10Percent5Minutes"
    )
