"""The merge template takes its names and sizes from the stage config, and refuses an incomplete stage."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deploy.render import StageConfigError, load_config, render, stage_deployment


def _config() -> dict[str, Any]:
    return copy.deepcopy(load_config())


def test_rendered_mapping_carries_the_stage_names_and_worker_sizing() -> None:
    config = _config()
    stage = config["stages"]["prod"]
    stage["environment_variables"]["SYNC_QUEUE_NAME"] = "jobs-sync"
    stage["lambda_functions"]["sync_account"].update({"lambda_timeout": 120, "reserved_concurrency": 4})

    mapping = render(stage_deployment("prod", config))["Mappings"]["Board"]

    assert mapping["Names"]["SyncQueue"] == "jobs-sync"
    assert mapping["Names"]["SyncDeadLetterQueue"] == "jobs-sync-dlq"
    assert mapping["Names"]["BoardTable"] == stage["environment_variables"]["BOARD_TABLE"]
    assert mapping["Sizing"] == {"SyncQueueVisibilityTimeout": "720", "SyncWorkerConcurrency": "4"}


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
