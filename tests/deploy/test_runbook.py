"""docs/runbook.md: a section for every alarm of the stack, and every command it documents is real.

Every `aws` command (also inside `$(...)`) must name an AWS CLI operation or waiter of the service and
only options of that operation; `make` targets must exist; the outputs and secrets it reads must be the
stack's. The table restore runs against moto through the `aws` shim of tests/deploy/aws_cli_shim.py.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.aws.table_schema import create_table_kwargs
from deploy.render import function_logical_id, render, stage_deployment
from tests.deploy.test_deployment_doc import REGION, moto_url, run_block  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbook.md"
# AWS CLI names that differ from botocore's.
CLI_SERVICES = {"deploy": "codedeploy"}
# The CLI's own options, valid on every operation.
GLOBAL_OPTIONS = {
    "--query",
    "--output",
    "--region",
    "--cli-binary-format",
    "--cli-read-timeout",
    "--no-cli-pager",
}
# Commands the CLI adds on top of the service models, with their options.
CUSTOM_COMMANDS = {("logs", "tail"): {"--since", "--format", "--follow", "--filter-pattern"}}


def text() -> str:
    return RUNBOOK.read_text()


def shell_blocks() -> list[str]:
    return [textwrap_dedent(block) for block in re.findall(r"```sh\n(.*?)```", text(), flags=re.DOTALL)]


def textwrap_dedent(block: str) -> str:
    import textwrap

    return textwrap.dedent(block)


def logical_lines(block: str) -> list[str]:
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def aws_commands() -> list[list[str]]:
    """Every `aws ...` command of the runbook's shell blocks, as tokens."""
    commands = []
    for block in shell_blocks():
        for line in logical_lines(block):
            for match in re.finditer(r"(?:^|[\s(])aws\s", line):
                rest = line[match.end() :]
                # The command ends where its `$(...)` closes, or at the end of the line.
                depth, end = 0, len(rest)
                for index, char in enumerate(rest):
                    if char == "(":
                        depth += 1
                    elif char == ")":
                        if depth == 0:
                            end = index
                            break
                        depth -= 1
                commands.append(["aws", *shlex.split(rest[:end])])
    return commands


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def _check(command: list[str]) -> None:
    from botocore import xform_name

    _, cli_service, operation, *rest = command
    options = {token for token in rest if token.startswith("--")}
    if (cli_service, operation) in CUSTOM_COMMANDS:
        assert options <= CUSTOM_COMMANDS[(cli_service, operation)] | GLOBAL_OPTIONS, command
        return
    service = CLI_SERVICES.get(cli_service, cli_service)
    assert service in _session().get_available_services(), command
    model = _session().get_service_model(service)
    if operation == "wait":
        waiters = _session().get_waiter_model(service).waiter_names
        assert rest[0] in {xform_name(name, "-") for name in waiters}, command
        operation_name = (
            _session()
            .get_waiter_model(service)
            .get_waiter(next(name for name in waiters if xform_name(name, "-") == rest[0]))
            .operation
        )
    else:
        by_cli = {xform_name(name, "-"): name for name in model.operation_names}
        assert operation in by_cli, command
        operation_name = by_cli[operation]
    shape = model.operation_model(operation_name).input_shape
    members = shape.members if shape is not None else {}
    allowed = {"--" + xform_name(name, "-") for name in members}
    allowed |= {
        "--no-" + xform_name(name, "-") for name, member in members.items() if member.type_name == "boolean"
    }
    assert options <= allowed | GLOBAL_OPTIONS, (command, sorted(options - allowed - GLOBAL_OPTIONS))


def test_the_runbook_documents_aws_commands() -> None:
    assert len(aws_commands()) >= 20


@pytest.mark.parametrize("command", aws_commands(), ids=lambda c: " ".join(c[1:3]))
def test_every_documented_aws_command_is_a_real_operation_with_real_options(command: list[str]) -> None:
    _check(command)


def test_every_documented_make_target_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_-]+):", makefile, flags=re.MULTILINE))
    lines = [line for block in shell_blocks() for line in logical_lines(block)]
    documented = [line.split()[1] for line in lines if line.startswith("make ")]
    assert "rollback" in documented
    for target in documented:
        assert target in targets, target


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_alarm_of_the_stack_has_a_section(stage: str) -> None:
    deployment = stage_deployment(stage)
    template = render(deployment)
    alarms = {name for name, r in template["Resources"].items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    alarms_section = text().split("## Alarms", 1)[1].split("\n## ", 1)[0]
    headings = "\n".join(re.findall(r"^### (.+)$", alarms_section, flags=re.MULTILINE))
    generated = {f"{function_logical_id(function)}ErrorsAlarm" for function in deployment.functions}
    for alarm in alarms:
        # Each alarm has its own section; a function's generated errors alarm falls back on the generic one.
        assert alarm in headings or (alarm in generated and "<Function>ErrorsAlarm" in headings), alarm


def test_the_outputs_and_secrets_the_runbook_reads_are_the_stacks() -> None:
    template = render(stage_deployment("prod"))
    for name in re.findall(r"\$\(output (\w+)\)", text()):
        assert name in template["Outputs"], name
    environment = stage_deployment("prod").environment
    for secret in re.findall(r"--secret-id (\S+)", text()):
        assert secret in (environment["STACKONE_API_KEY_SECRET"], environment["STACKONE_WEBHOOK_SECRET"])
    assert "`job-board/prod/stackone-webhook-secret`" in text()
    # The webhook events the runbook lists are the ones the service acts on.
    from chalicelib.services.webhooks import POSTING_REFRESH_EVENTS

    listed = set(re.findall(r"`((?:ats_job_postings|account)\.\w+)`", text()))
    assert listed == POSTING_REFRESH_EVENTS | {
        "ats_job_postings.deleted",
        "account.created",
        "account.updated",
        "account.deleted",
    }


def test_the_table_restore_makes_a_new_table_under_the_documented_name(moto_url: str, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN the stage's table with point-in-time recovery
    table_name = stage_deployment("prod").environment["BOARD_TABLE"]
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="doc",
        aws_secret_access_key="doc",
    )
    dynamodb.create_table(**create_table_kwargs(table_name))
    dynamodb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    section = text().split("## Restore the table", 1)[1].split("\n## ", 1)[0]
    (restore,) = [
        line
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
        for line in logical_lines(textwrap_dedent(block))
        if "restore-table-to-point-in-time" in line
    ]

    run_block(restore, moto_url, tmp_path, tmp_path)

    target = shlex.split(restore)[shlex.split(restore).index("--target-table-name") + 1]
    assert target != table_name
    restored = dynamodb.describe_table(TableName=target)["Table"]
    indexes = {index["IndexName"] for index in restored.get("GlobalSecondaryIndexes", [])}
    assert indexes == {
        index["IndexName"] for index in create_table_kwargs(table_name)["GlobalSecondaryIndexes"]
    }
    # ... and the stack takes it through its BoardTableName parameter.
    assert "BoardTableName=" + target in text()
    assert "BoardTableName" in render(stage_deployment("prod"))["Parameters"]
