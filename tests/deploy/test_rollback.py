"""`make rollback`: every function's `live` alias goes back one version, or nothing moves."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy.rollback import RollbackError, rollback, stack_functions

REGION = "eu-west-1"


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("lambda", region_name=REGION)


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def _function(lambda_client: Any, name: str, versions: int, live: int) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": _code()}
    )
    for _ in range(versions):
        lambda_client.update_function_code(FunctionName=name, ZipFile=_code())
        lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=str(live))


def _live(lambda_client: Any, name: str) -> str:
    return str(lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"])


def test_every_alias_moves_to_the_version_before_it(lambda_client: Any) -> None:
    _function(lambda_client, "jobs-api-handler", versions=3, live=3)
    _function(lambda_client, "jobs-sync-all", versions=2, live=2)

    moves = rollback(lambda_client, ["jobs-api-handler", "jobs-sync-all"])

    assert [(m.function, m.from_version, m.to_version) for m in moves] == [
        ("jobs-api-handler", "3", "2"),
        ("jobs-sync-all", "2", "1"),
    ]
    assert _live(lambda_client, "jobs-api-handler") == "2"
    assert _live(lambda_client, "jobs-sync-all") == "1"


def test_a_function_on_its_first_version_stops_the_rollback_before_anything_moves(lambda_client: Any) -> None:
    _function(lambda_client, "jobs-api-handler", versions=2, live=2)
    _function(lambda_client, "jobs-sync-all", versions=1, live=1)

    with pytest.raises(RollbackError, match="jobs-sync-all"):
        rollback(lambda_client, ["jobs-api-handler", "jobs-sync-all"])

    assert _live(lambda_client, "jobs-api-handler") == "2"


def test_a_dry_run_moves_nothing(lambda_client: Any) -> None:
    _function(lambda_client, "jobs-api-handler", versions=2, live=2)

    (move,) = rollback(lambda_client, ["jobs-api-handler"], dry_run=True)

    assert (move.from_version, move.to_version) == ("2", "1")
    assert _live(lambda_client, "jobs-api-handler") == "2"


def test_the_stacks_functions_are_found_by_type() -> None:
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        template = {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
                },
                "Handler": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "FunctionName": "jobs-api-handler",
                        "Runtime": "python3.11",
                        "Handler": "index.handler",
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
                    },
                },
                "Queue": {"Type": "AWS::SQS::Queue"},
            }
        }
        cloudformation.create_stack(StackName="jobs", TemplateBody=json.dumps(template))

        assert stack_functions(cloudformation, "jobs") == ["jobs-api-handler"]
