"""docs/deployment.md, step by step: each step's commands run as written (bash, with `aws` played by
tests/deploy/aws_cli_shim.py against a moto server), or the step names why it cannot run offline.

`STEPS` maps every heading of "Deploying, step by step" to the test that checks it or to the reason
none can; a new heading without an entry fails `test_every_step_has_a_check_or_a_stated_reason`.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import boto3
import pytest

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

from chalicelib.aws.table_schema import create_table_kwargs
from chalicelib.services.employers import hash_api_key
from deploy.render import render, stage_deployment
from tests.deploy.template_helpers import FUNCTION_NAME_SUFFIXES
from tests.moto_process import moto_server_process

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
REGION = "eu-west-1"
STACK = "job-board-prod"
ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/"

STEPS: dict[str, str] = {
    "Prerequisites": "test_step_5_creates_the_first_employer_with_only_aws_region_set (the region line); "
    "the account, credentials, quotas and the artefact bucket cannot be checked offline",
    "1. Choose the stage's names and settings": "test_step_1_names_are_the_prod_stages",
    "2. Package": "reason: `make package` needs several minutes; tests/deploy/conftest.py packages both "
    "stages the same way and test_template.py runs cfn-lint on the result",
    "3. Deploy": "test_step_3_outputs_are_read_as_documented (the outputs and parameters); reason: "
    "`cloudformation package/deploy` need S3 and CloudFormation with the Serverless transform, which "
    "moto does not run",
    "4. Fill in the secrets": "test_step_4_secrets_from_files_work_despite_the_trailing_newline",
    "5. Create the first employer": "test_step_5_creates_the_first_employer_with_only_aws_region_set",
    "6. Point StackOne's webhook at the board": "test_step_6_webhook_url_reaches_the_webhook_route",
    "7. Serve the board on your own domain (optional)": "test_step_7_custom_domain_maps_the_api_stage",
    "8. Check": "test_step_8_names_the_stacks_log_groups_and_functions; reason: `curl` and `aws logs` "
    "need the deployed stack (tests/api covers /health and /jobs)",
    "9. Send email: verify the domain and leave the SES sandbox": "test_step_9_prints_the_dkim_records_and_"
    "the_identity_status; reason: verification needs real DNS, and production access is granted by AWS",
}


def steps() -> dict[str, str]:
    """Heading -> text of every step of "Deploying, step by step"."""
    text = DOC.read_text()
    section = text[text.index("## Deploying, step by step") : text.index("## Upgrading")]
    parts = re.split(r"^### (.+)$", section, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def shell_blocks(step: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", steps()[step], flags=re.DOTALL)


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server_process(tmp_path_factory.mktemp("moto")) as url:
        yield url


def client(moto_url: str, service: str) -> object:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="doc",
        aws_secret_access_key="doc",
    )


def run_block(block: str, moto_url: str, cwd: Path, tmp_path: Path, **variables: str) -> str:
    """Run a documented block with bash; `aws` is the shim, AWS is moto; only AWS_REGION is set."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    aws = bin_dir / "aws"
    aws.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.deploy.aws_cli_shim "$@"\n')
    aws.chmod(aws.stat().st_mode | stat.S_IEXEC)
    environment = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "AWS_REGION": REGION,  # as the prerequisites export it; boto3 alone would ignore it
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "doc",
        "AWS_SECRET_ACCESS_KEY": "doc",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "STACK": STACK,
        **variables,
    }
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_every_step_has_a_check_or_a_stated_reason() -> None:
    assert list(steps()) == list(STEPS)
    for check in STEPS.values():
        names = re.findall(r"\btest_\w+\b(?!\.)", check)
        assert names or check.startswith("reason:"), check
        for name in names:
            assert name in globals(), f"{name} is not a test of this module"


def test_step_1_names_are_the_prod_stages() -> None:
    environment = stage_deployment("prod").environment
    named = set(re.findall(r"`(job-board[^`]*)`", steps()["1. Choose the stage's names and settings"]))
    configured = set(environment.values())
    for name in named:
        assert name in configured or name.removesuffix("-dlq") in configured, name
    assert {environment["CURSOR_SIGNING_SECRET"], environment["BOARD_TABLE"]} <= named


def test_step_3_outputs_are_read_as_documented(moto_url: str, tmp_path: Path) -> None:
    template = render(stage_deployment("prod"))
    # The deploy command passes every parameter that has no default.
    (deploy_block,) = [b for b in shell_blocks("3. Deploy") if "cloudformation deploy" in b]
    passed = set(re.findall(r"\b([A-Za-z]+)=", deploy_block.split("--parameter-overrides", 1)[1]))
    required = {name for name, spec in template["Parameters"].items() if "Default" not in spec}
    assert required <= passed
    assert passed <= set(template["Parameters"])
    # The outputs the later steps read exist (EndpointURL is Chalice's own output).
    text = steps()["3. Deploy"]
    for name in re.findall(r"output (\w+)\)", text):
        assert name == "EndpointURL" or name in template["Outputs"], name
    # GIVEN a stack with those outputs, the documented snippet yields them (no trailing slash).
    cloudformation = client(moto_url, "cloudformation")
    cloudformation.create_stack(  # type: ignore[attr-defined]
        StackName=STACK,
        TemplateBody=json.dumps(
            {
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {
                    "EndpointURL": {"Value": ENDPOINT},
                    "SnapshotBucketName": {"Value": "job-board-prod-snapshotbucket-1a2b3c"},
                },
            }
        ),
    )
    (snippet,) = [b for b in shell_blocks("3. Deploy") if "output()" in b]

    printed = run_block(snippet + 'echo "$ENDPOINT_URL|$SNAPSHOT_BUCKET"\n', moto_url, tmp_path, tmp_path)

    assert printed.strip().splitlines()[-1] == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/api|job-board-prod-snapshotbucket-1a2b3c"
    )


def test_step_4_secrets_from_files_work_despite_the_trailing_newline(moto_url: str, tmp_path: Path) -> None:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from chalicelib.aws.secret_store import SecretStore

    secrets = client(moto_url, "secretsmanager")
    environment = stage_deployment("prod").environment
    for name in (environment["STACKONE_API_KEY_SECRET"], environment["STACKONE_WEBHOOK_SECRET"]):
        secrets.create_secret(Name=name, SecretString="placeholder-from-cloudformation")  # type: ignore[attr-defined]
    # Files as an editor saves them: with a final newline.
    (tmp_path / "stackone-api-key.txt").write_text("v1.eu1.real-key\n")
    (tmp_path / "stackone-webhook-secret.txt").write_text("whsec_real\r\n")
    (block,) = shell_blocks("4. Fill in the secrets")

    run_block(block, moto_url, tmp_path, tmp_path)

    stored = secrets.get_secret_value(SecretId=environment["STACKONE_API_KEY_SECRET"])  # type: ignore[attr-defined]
    assert stored["SecretString"] == "v1.eu1.real-key\n"  # what `file://` stores
    store = SecretStore(
        SecretsProvider(boto3_client=cast("SecretsManagerClient", secrets)), max_age_seconds=0
    )
    assert store.get(environment["STACKONE_API_KEY_SECRET"]) == "v1.eu1.real-key"
    assert store.get(environment["STACKONE_WEBHOOK_SECRET"]) == "whsec_real"


def test_step_5_creates_the_first_employer_with_only_aws_region_set(moto_url: str, tmp_path: Path) -> None:
    table_name = stage_deployment("prod").environment["BOARD_TABLE"]
    client(moto_url, "dynamodb").create_table(**create_table_kwargs(table_name))  # type: ignore[attr-defined]
    (block,) = shell_blocks("5. Create the first employer")

    printed = run_block(block, moto_url, ROOT, tmp_path)

    api_key = re.search(r"api_key:\s+(\S+)", printed)
    assert api_key, printed
    items = client(moto_url, "dynamodb").scan(TableName=table_name)["Items"]  # type: ignore[attr-defined]
    assert any(item["PK"]["S"] == f"APIKEY#{hash_api_key(api_key.group(1))}" for item in items)
    assert any(item.get("name", {}).get("S") == "Acme Robotics" for item in items)


def test_step_6_webhook_url_reaches_the_webhook_route() -> None:
    from app import app

    template = render(stage_deployment("prod"))
    url = template["Outputs"]["StackOneWebhookUrl"]["Value"]["Fn::Sub"]
    stage = stage_deployment("prod").api_gateway_stage
    assert url.endswith(f"/{stage}/webhooks/stackone")
    assert "POST" in app.routes["/webhooks/stackone"]
    text = steps()["6. Point StackOne's webhook at the board"]
    assert f".amazonaws.com/{stage}/webhooks/stackone" in text
    assert "https://<your domain>/webhooks/stackone" in text  # the base-path mapping of step 7 is empty


def test_step_7_custom_domain_maps_the_api_stage(moto_url: str, tmp_path: Path) -> None:
    # GIVEN the stack's REST API (named after the stack) with its `api` stage
    apigateway = client(moto_url, "apigateway")
    api_id = apigateway.create_rest_api(name=STACK)["id"]  # type: ignore[attr-defined]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]  # type: ignore[attr-defined]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")  # type: ignore[attr-defined]
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")  # type: ignore[attr-defined]
    stage = stage_deployment("prod").api_gateway_stage
    apigateway.create_deployment(restApiId=api_id, stageName=stage)  # type: ignore[attr-defined]
    (block,) = shell_blocks("7. Serve the board on your own domain (optional)")
    assert f"--stage {stage}" in block

    printed = run_block(
        block,
        moto_url,
        tmp_path,
        tmp_path,
        CERTIFICATE_ARN=f"arn:aws:acm:{REGION}:123456789012:certificate/0000",
    )

    (mapping,) = apigateway.get_base_path_mappings(domainName="jobs.example.com")["items"]  # type: ignore[attr-defined]
    assert mapping["restApiId"] == api_id
    assert mapping["stage"] == stage
    assert mapping.get("basePath") in (None, "", "(none)")  # routes keep their paths
    domain = apigateway.get_domain_name(domainName="jobs.example.com")  # type: ignore[attr-defined]
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert printed.strip().splitlines()[-1] == domain["regionalDomainName"]


def test_step_8_names_the_stacks_log_groups_and_functions() -> None:
    text = steps()["8. Check"]
    template = render(stage_deployment("prod"))
    for suffix in re.findall(r"/aws/lambda/\$STACK-([a-z-]+)", text):
        assert suffix in FUNCTION_NAME_SUFFIXES.values(), suffix
    (invoked,) = re.findall(r'--function-name "\$STACK-([a-z-]+)"', text)
    assert invoked == FUNCTION_NAME_SUFFIXES["build_board_snapshot"]
    access = template["Resources"]["ApiAccessLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
    assert access.replace("${AWS::StackName}", "$STACK") in text
    assert "DashboardName" in template["Outputs"]


def test_step_9_prints_the_dkim_records_and_the_identity_status(moto_url: str, tmp_path: Path) -> None:
    from chalicelib.settings import Settings

    step = "9. Send email: verify the domain and leave the SES sandbox"
    template = render(stage_deployment("prod"))
    # The outputs the step reads exist; the rate it names is the setting the senders share.
    records = [f"EmailDkimRecord{n}" for n in (1, 2, 3)]
    assert set(records) <= set(template["Outputs"])
    assert 'output "EmailDkimRecord$n"' in steps()[step]
    assert "EMAIL_SEND_RATE_PER_SECOND" in {field.alias for field in Settings.model_fields.values()}
    assert stage_deployment("prod").environment["EMAIL_SEND_RATE_PER_SECOND"] == "1"
    # GIVEN a stack with the DKIM outputs and its domain identity (moto: not verified)
    values = {
        name: f"tok{n}._domainkey.jobs.example.com CNAME tok{n}.dkim.amazonses.com"
        for n, name in enumerate(records, 1)
    }
    client(moto_url, "cloudformation").create_stack(  # type: ignore[attr-defined]
        StackName="job-board-email",
        TemplateBody=json.dumps(
            {
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {name: {"Value": value} for name, value in values.items()},
            }
        ),
    )
    client(moto_url, "sesv2").create_email_identity(EmailIdentity="jobs.example.com")  # type: ignore[attr-defined]
    (output_function,) = [b for b in shell_blocks("3. Deploy") if "output()" in b]
    (block,) = shell_blocks(step)  # indented under its list item

    printed = run_block(
        output_function + textwrap.dedent(block),
        moto_url,
        tmp_path,
        tmp_path,
        STACK="job-board-email",
        EMAIL_DOMAIN="jobs.example.com",
    )

    lines = printed.strip().splitlines()
    assert lines[-4:-1] == list(values.values())
    assert lines[-1].split("\t") == ["False", "NOT_STARTED"]
