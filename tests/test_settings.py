"""Settings fail closed: only the stage literally named `local` has defaults and debug output."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from pydantic import ValidationError

from chalicelib import deps
from chalicelib.settings import (
    LOCAL_DEFAULTS,
    REQUIRED_AT_RUNTIME,
    REQUIRED_NAMES,
    Settings,
    describe_settings_error,
    get_settings,
    setting_variable,
)

REQUIRED_VARIABLES = [setting_variable(name) for name in REQUIRED_NAMES]
RUNTIME_VARIABLES = [setting_variable(name) for name in REQUIRED_AT_RUNTIME]


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No app variable set (the test suite's own names removed)."""
    local = [setting_variable(name) for name in LOCAL_DEFAULTS]
    for name in [*REQUIRED_VARIABLES, *RUNTIME_VARIABLES, *local, "APP_STAGE", "AWS_LAMBDA_FUNCTION_NAME"]:
        monkeypatch.delenv(name, raising=False)
    yield


def settings(**environment: str) -> Settings:
    return Settings.model_validate(environment)


def test_without_a_stage_nothing_starts(bare_environment: None) -> None:
    with pytest.raises(ValidationError) as raised:
        settings()

    assert describe_settings_error(raised.value) == "APP_STAGE: is not set"


def test_a_deployed_stage_without_its_names_refuses_and_names_every_missing_variable(
    bare_environment: None,
) -> None:
    with pytest.raises(ValidationError) as raised:
        settings(APP_STAGE="prod", BOARD_TABLE="job-board-prod")

    message = describe_settings_error(raised.value)
    assert message.startswith("stage 'prod' needs ")
    assert "BOARD_TABLE" not in message
    for variable in set(REQUIRED_VARIABLES) - {"BOARD_TABLE"}:
        assert variable in message
    assert "\n" not in message


def test_inside_lambda_the_stack_provided_values_are_required_too(bare_environment: None) -> None:
    names = {variable: "x" for variable in REQUIRED_VARIABLES}

    assert settings(APP_STAGE="prod", **names).table_name == "x"  # packaging: not in Lambda
    with pytest.raises(ValidationError) as raised:
        settings(APP_STAGE="prod", AWS_LAMBDA_FUNCTION_NAME="job-board-prod-api-handler", **names)

    message = describe_settings_error(raised.value)
    for variable in RUNTIME_VARIABLES:
        assert variable in message
    assert "EMBLOY_API_URL" in message and "PUBLIC_BASE_URL" in message


@pytest.mark.parametrize("stage", ["Local", "local ", "dev", "prod", "test"])
def test_only_the_stage_literally_named_local_is_local(bare_environment: None, stage: str) -> None:
    names = {variable: "x" for variable in REQUIRED_VARIABLES}

    configured = settings(APP_STAGE=stage, **names)

    assert configured.is_local is False
    assert configured.public_base_url == ""  # no default leaks into a deployed stage
    assert configured.embloy_api_url == ""
    assert configured.stackone_base_url == "https://api.stackone.com"  # the sandbox only locally
    with pytest.raises(ValidationError):
        settings(APP_STAGE=stage)


def test_the_local_stage_has_defaults_for_every_name(bare_environment: None) -> None:
    configured = settings(APP_STAGE="local")

    assert configured.is_local is True
    for name, value in LOCAL_DEFAULTS.items():
        assert getattr(configured, name) == value
    # Explicit values still win locally.
    assert settings(APP_STAGE="local", BOARD_TABLE="mine").table_name == "mine"


def test_the_app_turns_debug_on_only_in_the_local_stage() -> None:
    from app import app

    assert get_settings().stage == "test"
    assert app.debug is False


def test_inline_body_limit_cannot_exceed_what_lambda_accepts(bare_environment: None) -> None:
    with pytest.raises(ValidationError):
        settings(APP_STAGE="local", APPLICATION_MAX_BODY_BYTES="7340032")


def test_the_request_deadline_is_ten_seconds_and_stays_well_under_api_gateways_29(
    bare_environment: None,
) -> None:
    assert settings(APP_STAGE="local").request_deadline_seconds == 10.0
    assert settings(APP_STAGE="local", REQUEST_DEADLINE_SECONDS="4.5").request_deadline_seconds == 4.5
    for refused in ("25", "29", "0", "-1"):
        with pytest.raises(ValidationError):
            settings(APP_STAGE="local", REQUEST_DEADLINE_SECONDS=refused)


def test_secret_values_are_stripped_of_surrounding_whitespace(aws: None) -> None:
    # `put-secret-value --secret-string file://key.txt` keeps the file's trailing newline.
    name = get_settings().stackone_api_key_secret_name
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="  v1.eu1.key-from-a-file\r\n")

    assert deps.get_secret_store().get(name) == "v1.eu1.key-from-a-file"


def test_cursor_keys_come_from_the_cursor_secret_and_differ_per_purpose(aws: None) -> None:
    first = deps.cursor_key("board-cursor")
    assert first != deps.cursor_key("applications-cursor")

    boto3.client("secretsmanager").put_secret_value(
        SecretId=get_settings().cursor_secret_name, SecretString="another-deployment"
    )
    deps.reset_dependencies()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    assert deps.cursor_key("board-cursor") != first
