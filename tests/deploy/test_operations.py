"""What an operator relies on in the packaged template: the resume upload bucket, access logs, the
dashboard, the pinned runtime, the handler strings, required Embloy URLs and the cursor secret."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.resume_uploads import UPLOAD_PREFIX
from deploy.render import LAMBDA_RUNTIME, StageConfigError, check_python
from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def evaluate(value: Any, parameters: dict[str, str]) -> Any:
    """The few intrinsics the CORS origin uses (Ref to a parameter, Fn::Split, Fn::Select, Fn::Join)."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return parameters[argument]
        if name == "Fn::Split":
            return evaluate(argument[1], parameters).split(argument[0])
        if name == "Fn::Select":
            return evaluate(argument[1], parameters)[int(argument[0])]
        if name == "Fn::Join":
            return argument[0].join(evaluate(part, parameters) for part in argument[1])
    return value


def test_resume_uploads_are_private_encrypted_and_expire_within_a_day(packaged: PackagedStage) -> None:
    bucket = packaged.resources["ResumeUploadBucket"]
    properties = bucket["Properties"]

    assert bucket["Type"] == "AWS::S3::Bucket"
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert "VersioningConfiguration" not in properties  # an expired upload is gone, not a noncurrent version
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Prefix"] == UPLOAD_PREFIX  # where the app writes uploads
    assert rule["ExpirationInDays"] == 1
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    policy = packaged.resources["ResumeUploadBucketPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("public_base_url", "origin"),
    [
        ("https://jobs.example.com/board", "https://jobs.example.com"),
        (
            "https://abc123.execute-api.eu-central-1.amazonaws.com/api/board",
            "https://abc123.execute-api.eu-central-1.amazonaws.com",
        ),
        ("http://localhost:8000", "http://localhost:8000"),
    ],
)
def test_browsers_may_post_uploads_only_from_the_boards_origin(
    packaged: PackagedStage, public_base_url: str, origin: str
) -> None:
    (rule,) = packaged.resources["ResumeUploadBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]

    assert rule["AllowedMethods"] == ["POST"]
    (allowed,) = rule["AllowedOrigins"]
    assert evaluate(allowed, {"PublicBaseUrl": public_base_url}) == origin


def test_functions_get_the_upload_bucket_and_the_embloy_urls_from_the_stack(packaged: PackagedStage) -> None:
    variables = packaged.template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["RESUME_UPLOAD_BUCKET"] == {"Ref": "ResumeUploadBucket"}
    assert variables["EMBLOY_API_URL"] == {"Ref": "EmbloyApiUrl"}
    assert variables["EMBLOY_PORTAL_URL"] == {"Ref": "EmbloyPortalUrl"}
    for logical_id in FUNCTIONS.values():
        own = packaged.resources[logical_id]["Properties"]["Environment"]["Variables"]
        for variable in ("RESUME_UPLOAD_BUCKET", "EMBLOY_API_URL", "EMBLOY_PORTAL_URL"):
            assert variable not in own, (logical_id, variable)


def test_embloy_urls_are_required_parameters(packaged: PackagedStage) -> None:
    # Hosted Embloy ended its API in June 2025: no default may point at it.
    parameters = packaged.template["Parameters"]
    for name in ("EmbloyApiUrl", "EmbloyPortalUrl", "PublicBaseUrl"):
        assert "Default" not in parameters[name], name
        pattern = re.compile(parameters[name]["AllowedPattern"])
        assert pattern.match("https://embloy.internal.example")
        assert not pattern.match("embloy.internal.example")


def test_cursor_signing_key_is_a_generated_secret_only_the_api_reads(packaged: PackagedStage) -> None:
    secret = packaged.resources["CursorSigningSecret"]["Properties"]
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32


def test_every_function_runs_the_pinned_runtime_through_app_py(packaged: PackagedStage) -> None:
    for name, logical_id in FUNCTIONS.items():
        properties = packaged.resources[logical_id]["Properties"]
        assert properties["Runtime"] == LAMBDA_RUNTIME, name
        if name == "employer_authorizer":
            continue  # Chalice's authorizers are not wrapped by middleware wherever they live
        expected = "app.app" if name == "api_handler" else f"app.{name}"
        assert properties["Handler"] == expected, name


def test_packaging_under_another_python_is_refused() -> None:
    check_python((3, 11))
    for version in ((3, 12), (3, 10)):
        with pytest.raises(StageConfigError, match=re.escape(LAMBDA_RUNTIME)):
            check_python(version)


def test_api_access_logs_go_to_a_retained_log_group_without_headers_or_bodies(
    packaged: PackagedStage,
) -> None:
    api = packaged.resources["RestAPI"]["Properties"]
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"requestId", "status", "resourcePath", "latencyMs", "ip"} <= set(fields)
    assert not any("header" in value.lower() or "body" in value.lower() for value in fields.values())
    group = packaged.resources["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] >= 7
    account = packaged.resources["ApiGatewayAccount"]
    assert account["Condition"] == "CreatesApiGatewayAccountRole"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}


def test_dashboard_shows_metrics_the_functions_emit(packaged: PackagedStage) -> None:
    pattern, variables = packaged.resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"Namespace", "Service", "ApiStage"}
    body = json.loads(re.sub(r"\$\{[^}]+\}", "X", pattern))
    titles = [widget["properties"]["title"] for widget in body["widgets"]]
    assert any("Sync outcomes" in title for title in titles)
    assert any("Postings live" in title for title in titles)
    assert any("Apply results" in title for title in titles)
    assert any("latency" in title.lower() for title in titles)
    custom = {
        metric[1]
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] == "X"  # our namespace, not AWS/*
    }
    assert custom >= {
        "AccountsSucceeded",
        "AccountsFailed",
        "BoardPostingsLive",
        "ApplicationsSubmitted",
        "AlertDigestsQueued",
        "EmployerDigestsQueued",
    }
    # Every function's errors are on the dashboard (the authorizer's show as the API's 5xx).
    errors = set(re.findall(r'\["AWS/Lambda", "Errors", "FunctionName", "\$\{(\w+)\}"\]', pattern))
    assert errors == set(FUNCTIONS.values()) - {"EmployerAuthorizer"}
    source = "\n".join(path.read_text() for path in CHALICELIB.rglob("*.py"))
    for name in custom:
        assert f'"{name}"' in source, f"the dashboard shows {name}, which no code emits"
