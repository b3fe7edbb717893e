"""Versioned deploys: every function behind a `live` alias, every caller invoking the alias, CodeDeploy
shifting it with the alarms that roll it back; and the template fixes around the API and the table.

The alias wiring is checked twice: on the packaged (SAM) template, and on what CloudFormation's SAM
transform makes of it (aws-sam-translator, the library the `AWS::Serverless-2016-10-31` transform runs).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.render import (
    ALIAS_NAME,
    API_GATEWAY_TIMEOUT_SECONDS,
    TEMPLATE_PATH,
    XRAY_ACTIONS,
    api_functions,
    function_role_id,
    load_app,
    request_deadline_cap_seconds,
)
from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS

ALIAS_REFS = {f"{logical_id}.Alias" for logical_id in FUNCTIONS.values()}


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _invocation_uri_target(uri: Any) -> str:
    """The `Ref` an API Gateway invocation URI names (our `Fn::Sub` with an `Alias` variable)."""
    pattern, variables = uri["Fn::Sub"]
    assert pattern.endswith("/functions/${Alias}/invocations"), pattern
    return str(variables["Alias"]["Ref"])


def test_every_function_is_published_behind_the_live_alias_with_a_deployment_preference(
    packaged: PackagedStage,
) -> None:
    api = api_functions(load_app())
    for function, logical_id in FUNCTIONS.items():
        properties = packaged.resources[logical_id]["Properties"]
        assert properties["AutoPublishAlias"] == ALIAS_NAME, function
        preference = properties["DeploymentPreference"]
        assert preference["Type"] == {"Ref": "DeploymentType"}, function
        alarms = {alarm["Ref"] for alarm in preference["Alarms"]}
        # A failing new version rolls back: its own errors, and for the API's functions the 5xx rate.
        expected = {f"{logical_id}ErrorsAlarm"} | ({"Api5xxRateAlarm"} if function in api else set())
        assert alarms == expected, function
        for alarm in alarms:
            assert packaged.resources[alarm]["Type"] == "AWS::CloudWatch::Alarm"


def test_the_deployment_type_is_a_canary_in_prod_and_all_at_once_in_dev(packaged: PackagedStage) -> None:
    parameter = packaged.template["Parameters"]["DeploymentType"]
    expected = {"prod": "Canary10Percent5Minutes", "dev": "AllAtOnce"}[packaged.deployment.stage]
    assert parameter["Default"] == expected
    assert {"AllAtOnce", "Canary10Percent5Minutes"} <= set(parameter["AllowedValues"])


def test_api_gateway_invokes_only_the_aliases(packaged: PackagedStage) -> None:
    from app import app

    body = packaged.resources["RestAPI"]["Properties"]["DefinitionBody"]
    text = json.dumps(body)
    # No function's unqualified ARN is left anywhere in the API definition.
    for logical_id in FUNCTIONS.values():
        assert f"${{{logical_id}.Arn}}" not in text, logical_id
    targets = set()
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration", {})
            if integration.get("type") == "aws_proxy":
                assert _invocation_uri_target(integration["uri"]) == "APIHandler.Alias", (path, method)
                targets.add((path, method))
    # Every route and method of the app, and the catch-all method of every path, reach the alias.
    routes = {(path, method.lower()) for path, entries in app.routes.items() for method in entries}
    assert routes <= targets
    for authorizer in app.builtin_auth_handlers:
        settings = body["securityDefinitions"][authorizer.name]["x-amazon-apigateway-authorizer"]
        assert _invocation_uri_target(settings["authorizerUri"]) == "EmployerAuthorizer.Alias"


def test_every_lambda_permission_grants_an_alias_and_nothing_invokes_a_function_unqualified(
    packaged: PackagedStage,
) -> None:
    permissions = {
        name: resource["Properties"]
        for name, resource in packaged.resources.items()
        if resource["Type"] == "AWS::Lambda::Permission"
    }
    assert permissions["APIHandlerInvokePermission"]["FunctionName"] == {"Ref": "APIHandler.Alias"}
    assert permissions["EmployerAuthorizerInvokePermission"]["FunctionName"] == {
        "Fn::GetAtt": ["EmployerAuthorizer.Alias", "AliasArn"]
    }
    for name, properties in permissions.items():
        target = properties["FunctionName"]
        named = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
        assert named in ALIAS_REFS, name
    # Schedules, queues and topics are the functions' SAM `Events`, which SAM points at the alias;
    # no rule, mapping or subscription of the template's own bypasses it.
    for name, resource in packaged.resources.items():
        assert resource["Type"] not in (
            "AWS::Lambda::EventSourceMapping",
            "AWS::Events::Rule",
            "AWS::Scheduler::Schedule",
        ), name
        if resource["Type"] == "AWS::SNS::Subscription":
            assert resource["Properties"]["Protocol"] != "lambda", name


@pytest.fixture(scope="module")
def transformed(packaged: PackagedStage) -> dict[str, Any]:
    """The packaged template after CloudFormation's SAM transform (as `cloudformation deploy` runs it)."""
    from samtranslator.translator.transform import transform

    template = json.loads(json.dumps(packaged.template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `aws cloudformation package` writes in place of the local zip.
            resource["Properties"]["CodeUri"] = "s3://artefacts/deployment.zip"

    class ManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the transform reads the pseudo-parameter's value
    try:
        result: dict[str, Any] = transform(template, {}, ManagedPolicies())
    finally:
        if region is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = region
    return result


def _alias_of(transformed: dict[str, Any], reference: Any) -> str:
    """The function logical id of the `live` alias `reference` names, or AssertionError."""
    resources = transformed["Resources"]
    logical_id = reference.get("Ref") or reference.get("Fn::GetAtt", [None])[0]
    alias = resources[logical_id]
    assert alias["Type"] == "AWS::Lambda::Alias", reference
    assert alias["Properties"]["Name"] == ALIAS_NAME
    return str(alias["Properties"]["FunctionName"]["Ref"])


def test_after_the_sam_transform_every_invoker_names_a_live_alias(
    packaged: PackagedStage, transformed: dict[str, Any]
) -> None:
    resources = transformed["Resources"]
    invoked: set[str] = set()
    for resource in resources.values():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission"):
            invoked.add(_alias_of(transformed, properties["FunctionName"]))
        elif kind == "AWS::Events::Rule":
            for target in properties["Targets"]:
                invoked.add(_alias_of(transformed, target["Arn"]))
        elif kind == "AWS::SNS::Subscription" and properties["Protocol"] == "lambda":
            invoked.add(_alias_of(transformed, properties["Endpoint"]))
    body = json.dumps(resources["RestAPI"]["Properties"]["Body"])
    uris = re.findall(r'"Alias": (\{[^{}]*\})', body)
    assert uris  # every integration and the authorizer
    for uri in uris:
        invoked.add(_alias_of(transformed, json.loads(uri)))
    assert not re.search(r"\$\{\w+\.Arn\}", body)
    # Every function is invoked by something, and only ever through its alias.
    assert invoked == set(FUNCTIONS.values())
    kinds = {resource["Type"] for resource in resources.values()}
    assert {"AWS::Lambda::EventSourceMapping", "AWS::Events::Rule", "AWS::SNS::Subscription"} <= kinds


def test_after_the_sam_transform_codedeploy_rolls_back_on_the_alarms(
    packaged: PackagedStage, transformed: dict[str, Any]
) -> None:
    resources = transformed["Resources"]
    groups = {
        name.removesuffix("DeploymentGroup"): resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    }
    assert set(groups) == set(FUNCTIONS.values())
    for logical_id, group in groups.items():
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        alarms = {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]}
        assert f"{logical_id}ErrorsAlarm" in alarms
    # The alias moves through CodeDeploy, not by a plain update.
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Alias":
            assert "CodeDeployLambdaAliasUpdate" in resource["UpdatePolicy"], name


def test_after_the_sam_transform_the_api_stage_follows_the_logging_role(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    (rest_api,) = [name for name, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert resources[rest_api]["DependsOn"] == "ApiGatewayAccountReady"
    # The stage is created from a deployment of that API, so it comes after the account settings.
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    deployment = resources[stage["Properties"]["DeploymentId"]["Ref"]]
    assert deployment["Properties"]["RestApiId"] == {"Ref": rest_api}


def test_the_api_stage_waits_for_the_logging_role_which_is_created_once_and_kept(
    packaged: PackagedStage,
) -> None:
    resources = packaged.resources
    assert resources["RestAPI"]["DependsOn"] == "ApiGatewayAccountReady"
    ready = resources["ApiGatewayAccountReady"]
    assert "Condition" not in ready  # a DependsOn may not name a resource whose condition is false
    assert ready["Metadata"]["AccountSettings"]["Fn::If"][:2] == [
        "CreatesApiGatewayAccountRole",
        {"Ref": "ApiGatewayAccount"},
    ]
    parameter = packaged.template["Parameters"]["CreateApiGatewayAccountRole"]
    assert parameter["AllowedValues"] == ["true", "false"]
    assert packaged.template["Conditions"]["CreatesApiGatewayAccountRole"] == {
        "Fn::Equals": [{"Ref": "CreateApiGatewayAccountRole"}, "true"]
    }
    for logical_id in ("ApiGatewayCloudWatchRole", "ApiGatewayAccount"):
        resource = resources[logical_id]
        assert resource["Condition"] == "CreatesApiGatewayAccountRole", logical_id
        # Another stage's API logs through the region's role: deleting this stack must not remove it.
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", logical_id


def test_the_api_timeout_is_below_the_gateways_and_above_the_longest_request_deadline(
    packaged: PackagedStage,
) -> None:
    from chalicelib.settings import Settings

    timeout = packaged.resources["APIHandler"]["Properties"]["Timeout"]
    assert timeout < API_GATEWAY_TIMEOUT_SECONDS
    # Whatever REQUEST_DEADLINE_SECONDS a stage sets, the app answers before Lambda stops it.
    configured = float(
        packaged.deployment.environment.get(
            "REQUEST_DEADLINE_SECONDS", Settings.model_fields["request_deadline_seconds"].default
        )
    )
    assert configured <= request_deadline_cap_seconds() < timeout
    with pytest.raises(ValueError, match="REQUEST_DEADLINE_SECONDS"):
        Settings(REQUEST_DEADLINE_SECONDS=timeout)


def test_the_board_table_refuses_deletion(packaged: PackagedStage) -> None:
    assert packaged.resources["BoardTable"]["Properties"]["DeletionProtectionEnabled"] is True


def test_xray_follows_the_stages_chalice_setting(packaged: PackagedStage) -> None:
    stage_config = packaged.config["stages"][packaged.deployment.stage]
    traced = stage_config.get("xray", False)
    assert traced is (packaged.deployment.stage == "prod")
    for function, logical_id in FUNCTIONS.items():
        tracing = packaged.resources[logical_id]["Properties"]["Tracing"]
        assert tracing == ("Active" if traced else "PassThrough"), function
    api = packaged.resources["RestAPI"]["Properties"]
    policy = packaged.resources.get("XRayTracingPolicy")
    if not traced:
        assert "TracingEnabled" not in api and policy is None
        return
    assert api["TracingEnabled"] is True
    assert policy is not None
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Allow", "*")
    assert statement["Action"] == list(XRAY_ACTIONS)
    roles = {role["Ref"] for role in policy["Properties"]["Roles"]}
    assert roles == {function_role_id(function) for function in FUNCTIONS}
    assert roles <= set(packaged.resources)


def test_settings_chalice_offers_come_from_chalices_config_not_the_merge_template(
    packaged: PackagedStage,
) -> None:
    from chalice.app import SQSEventConfig

    from app import app

    merge_template = TEMPLATE_PATH.read_text()
    for key in ("ScalingConfig", "MaximumConcurrency", "Tracing:", "EndpointConfiguration", "DomainName:"):
        assert key not in merge_template, key
    stage_config = packaged.config["stages"][packaged.deployment.stage]
    endpoint = packaged.resources["RestAPI"]["Properties"]["EndpointConfiguration"]
    assert endpoint == stage_config["api_gateway_endpoint_type"] == "REGIONAL"
    # The pollers' maximum concurrency is the decorators', which repeat each worker's reservation.
    sources = {source.name: source for source in app.event_sources if isinstance(source, SQSEventConfig)}
    for function, logical_id in FUNCTIONS.items():
        properties = packaged.resources[logical_id]["Properties"]
        for event in properties.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            maximum = event["Properties"]["ScalingConfig"]["MaximumConcurrency"]
            assert sources[function].maximum_concurrency is not None, function
            if function in ("sync_account", "send_email"):
                assert maximum == packaged.function_config(function)["reserved_concurrency"], function
            else:
                assert maximum == 2, function  # the fewest pollers SQS allows


def test_a_restored_table_replaces_the_stacks_table_for_every_function_and_grant(
    packaged: PackagedStage,
) -> None:
    from tests.deploy.template_helpers import BOARD_TABLE_IN_USE

    parameter = packaged.template["Parameters"]["BoardTableName"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("job-board-prod-restored-20261207")
    assert not pattern.fullmatch("job board")
    assert packaged.template["Conditions"]["UsesRestoredBoardTable"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "BoardTableName"}, ""]}]
    }
    # Every function reads the table in use, and every policy grants that table, never the stack's by name.
    for function, logical_id in FUNCTIONS.items():
        variable = packaged.resources[logical_id]["Properties"]["Environment"]["Variables"]["BOARD_TABLE"]
        assert variable["Fn::If"][:2] == ["UsesRestoredBoardTable", {"Ref": "BoardTableName"}], function
        role = packaged.resources[function_role_id(function)]
        text = json.dumps(role["Properties"]["Policies"])
        assert "BoardTable.Arn" not in text and '["BoardTable", "Arn"]' not in text, function
        assert json.dumps(BOARD_TABLE_IN_USE) in text, function  # every function reads the table
    output = packaged.template["Outputs"]["BoardTableName"]["Value"]
    assert output == BOARD_TABLE_IN_USE
    # The stack's own table stays, protected, whatever the parameter.
    table = packaged.resources["BoardTable"]
    assert "Condition" not in table and table["Properties"]["DeletionProtectionEnabled"] is True
