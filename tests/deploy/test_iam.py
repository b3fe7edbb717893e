"""Least privilege on the packaged template: one hand-written policy per function, nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS, as_list, classify_resource

_TABLE = ("table", "table-indexes")
_LOGS = {("logs:CreateLogStream", "own-log-group"), ("logs:PutLogEvents", "own-log-group")}


def _grants(actions: list[str], resources: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(action, resource) for action in actions for resource in resources}


# What each function's code calls (checked against the handlers; see docs/deployment.md).
EXPECTED_GRANTS: dict[str, set[tuple[str, str]]] = {
    "api_handler": _LOGS
    | _grants(
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
        _TABLE,
    )
    | _grants(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        ("idempotency-table",),
    )
    # SendMessageBatch is authorised by sqs:SendMessage.
    | _grants(["sqs:SendMessage"], ("sync-queue",))
    | _grants(["secretsmanager:GetSecretValue"], ("stackone-key-secret", "webhook-secret", "embloy-secrets"))
    | _grants(
        [
            "secretsmanager:CreateSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:DeleteSecret",
            "secretsmanager:DescribeSecret",
            "secretsmanager:TagResource",
        ],
        ("embloy-secrets",),
    ),
    "employer_authorizer": _LOGS | _grants(["dynamodb:GetItem"], ("table",)),
    "sync_all": _LOGS
    | _grants(
        ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"], _TABLE
    )
    | _grants(["sqs:SendMessage"], ("sync-queue",))
    | _grants(["secretsmanager:GetSecretValue"], ("stackone-key-secret",)),
    "sync_account": _LOGS
    | _grants(
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        ("sync-queue",),
    )
    | _grants(
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
        _TABLE,
    )
    | _grants(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        ("idempotency-table",),
    )
    | _grants(["secretsmanager:GetSecretValue"], ("stackone-key-secret",)),
}


def _role_id(packaged: PackagedStage, function: str) -> str:
    logical_id, attribute = packaged.resources[FUNCTIONS[function]]["Properties"]["Role"]["Fn::GetAtt"]
    assert attribute == "Arn"
    return str(logical_id)


def _role(packaged: PackagedStage, function: str) -> dict[str, Any]:
    role: dict[str, Any] = packaged.resources[_role_id(packaged, function)]
    assert role["Type"] == "AWS::IAM::Role"
    return role


def _statements(packaged: PackagedStage, function: str) -> list[dict[str, Any]]:
    (policy,) = _role(packaged, function)["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def _granted(packaged: PackagedStage, function: str) -> set[tuple[str, str]]:
    granted = set()
    for statement in _statements(packaged, function):
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                granted.add((action, classify_resource(packaged.template, resource, function)))
    return granted


def test_stage_config_turns_off_generated_policies_and_names_one_policy_file_per_function(
    packaged: PackagedStage,
) -> None:
    stage_config = packaged.config["stages"][packaged.deployment.stage]
    assert stage_config["autogen_policy"] is False
    files = [stage_config["lambda_functions"][function]["iam_policy_file"] for function in FUNCTIONS]
    assert len(set(files)) == len(FUNCTIONS)


def test_every_function_has_a_role_of_its_own_with_only_its_inline_policy(packaged: PackagedStage) -> None:
    assert len({_role_id(packaged, function) for function in FUNCTIONS}) == len(FUNCTIONS)
    for role in (_role(packaged, function) for function in FUNCTIONS):
        properties = role["Properties"]
        assert "ManagedPolicyArns" not in properties
        assert len(properties["Policies"]) == 1
        (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_wildcard_actions_and_no_wildcard_resources(packaged: PackagedStage, function: str) -> None:
    for statement in _statements(packaged, function):
        assert statement["Effect"] == "Allow"
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        for action in as_list(statement["Action"]):
            assert "*" not in action, (function, action)
        for resource in as_list(statement["Resource"]):
            assert resource != "*", function
            assert isinstance(resource, dict), f"{function}: literal ARN {resource!r} names an account"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_is_granted_exactly_what_it_uses(packaged: PackagedStage, function: str) -> None:
    assert _granted(packaged, function) == EXPECTED_GRANTS[function]


def test_secrets_are_read_only_by_name_and_written_only_under_the_embloy_prefix(
    packaged: PackagedStage,
) -> None:
    board_secrets = {"stackone-key-secret", "webhook-secret", "embloy-secrets"}
    for function in FUNCTIONS:
        for action, resource in _granted(packaged, function):
            if not action.startswith("secretsmanager:"):
                continue
            if action == "secretsmanager:GetSecretValue":
                assert resource in board_secrets, (function, resource)
            else:
                assert resource == "embloy-secrets", (function, action, resource)
