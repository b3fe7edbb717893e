"""Least privilege on the packaged template: one hand-written policy per function, nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.aws.board_snapshots import POINTER_KEY
from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS, as_list, classify_resource

_TABLE = ("table", "table-indexes")
_LOGS = {("logs:CreateLogStream", "own-log-group"), ("logs:PutLogEvents", "own-log-group")}
SNAPSHOT_BUILDERS = ("build_board_snapshot", "board_snapshot_requested")


def _grants(actions: list[str], resources: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(action, resource) for action in actions for resource in resources}


# The builder: reads the live index (every shard, paginated), reads and conditionally replaces the pointer
# item (limited to its partition, see below), uploads the snapshot's files (PutObject covers
# CreateMultipartUpload/UploadPart/CompleteMultipartUpload; s3transfer aborts a failed multipart upload).
_SNAPSHOT_BUILDER = (
    _LOGS
    | _grants(["dynamodb:Query"], ("live-index",))
    | _grants(["dynamodb:GetItem", "dynamodb:PutItem"], ("table",))
    | _grants(["s3:PutObject", "s3:AbortMultipartUpload"], ("snapshot-objects",))
)


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
    # The snapshot's files (download_file: HeadObject and ranged GetObject, both authorised by GetObject).
    | _grants(["s3:GetObject"], ("snapshot-objects",))
    | _grants(
        ["secretsmanager:GetSecretValue"],
        ("stackone-key-secret", "webhook-secret", "cursor-secret", "embloy-secrets"),
    )
    # Resume uploads: the presigned POST is signed with the function's credentials (PutObject), the
    # apply path reads the upload and deletes it once the ATS has it.
    | _grants(["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], ("resume-uploads",))
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
    # A sync that changed postings asks for a new board snapshot.
    | _grants(["sqs:SendMessage"], ("snapshot-queue",))
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
    "build_board_snapshot": _SNAPSHOT_BUILDER,
    # The event source mapping polls with the function's role.
    "board_snapshot_requested": _SNAPSHOT_BUILDER
    | _grants(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ("snapshot-queue",)),
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
    board_secrets = {"stackone-key-secret", "webhook-secret", "cursor-secret", "embloy-secrets"}
    for function in FUNCTIONS:
        for action, resource in _granted(packaged, function):
            if not action.startswith("secretsmanager:"):
                continue
            if action == "secretsmanager:GetSecretValue":
                assert resource in board_secrets, (function, resource)
            else:
                assert resource == "embloy-secrets", (function, action, resource)


@pytest.mark.parametrize("function", SNAPSHOT_BUILDERS)
def test_the_builder_reaches_only_the_pointer_item(packaged: PackagedStage, function: str) -> None:
    table_statements = [
        statement
        for statement in _statements(packaged, function)
        if any(
            classify_resource(packaged.template, resource, function) == "table"
            for resource in as_list(statement["Resource"])
        )
    ]
    (statement,) = table_statements
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [POINTER_KEY["PK"]]}
    }


def test_only_the_builders_write_snapshots_and_only_the_api_reads_them(packaged: PackagedStage) -> None:
    for function in FUNCTIONS:
        s3_grants = {grant for grant in _granted(packaged, function) if grant[0].startswith("s3:")}
        s3_actions = {action for action, resource in s3_grants if resource == "snapshot-objects"}
        if function in SNAPSHOT_BUILDERS:
            assert s3_actions == {"s3:PutObject", "s3:AbortMultipartUpload"}, function
        elif function == "api_handler":
            assert s3_actions == {"s3:GetObject"}
        else:
            assert s3_actions == set(), function
        uploads = {action for action, resource in s3_grants if resource == "resume-uploads"}
        # Only the API signs upload forms (PutObject), reads an upload and deletes it once delivered.
        expected = {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} if function == "api_handler" else set()
        assert uploads == expected, function
