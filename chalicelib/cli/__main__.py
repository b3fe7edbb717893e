"""Entry point: dispatches to one module per command group.

    python -m chalicelib.cli --stage prod --region eu-central-1 employers create --name "Acme Robotics"

`--stage` takes the stage's names (table, queues, secrets) from `.chalice/config.json`, the same values
the deployed functions get; `--region` (or AWS_REGION / AWS_DEFAULT_REGION) picks the region. Any
missing setting, credential or unreachable endpoint ends in one `error: ...` line and exit status 2 (1
for a failed command), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from chalicelib.cli import employers, sync

CONFIG_PATH = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


class CliSetupError(Exception):
    """The CLI cannot start: the message says which setting to give."""


def stage_environment(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives `stage` (top level, then the stage's)."""
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise CliSetupError(f"cannot read {config_path}: {exc}") from None
    stages = config.get("stages", {})
    if stage not in stages:
        raise CliSetupError(f"no stage {stage!r} in .chalice/config.json (stages: {', '.join(stages)})")
    environment = dict(config.get("environment_variables", {}))
    environment.update(stages[stage].get("environment_variables", {}))
    return {name: str(value) for name, value in environment.items()}


def configure(stage: str | None, region: str | None, environ: dict[str, str] | None = None) -> None:
    """Set the process environment the app's settings and boto3 read, before either is used."""
    env = os.environ if environ is None else environ
    if stage:
        env.update(stage_environment(stage))
        env["APP_STAGE"] = stage
    elif not env.get("APP_STAGE"):
        raise CliSetupError("no stage: pass --stage (local, dev or prod) or set APP_STAGE")
    # boto3 reads only AWS_DEFAULT_REGION (and profiles); AWS_REGION is what most people set.
    chosen = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not chosen:
        raise CliSetupError("no AWS region: pass --region or set AWS_REGION")
    env["AWS_DEFAULT_REGION"] = chosen
    env["AWS_REGION"] = chosen
    from chalicelib.settings import describe_settings_error, get_settings

    get_settings.cache_clear()
    try:
        get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CliSetupError(describe_settings_error(exc)) from None


def _root_cause(exc: BaseException) -> str:
    """The AWS error behind `exc` (what an operator can act on: an endpoint, a code), else the innermost."""
    from botocore.exceptions import BotoCoreError, ClientError

    current: BaseException | None = exc.__cause__ or exc.__context__
    last: BaseException | None = None
    while current is not None:
        if isinstance(current, BotoCoreError | ClientError):
            last = current
            break
        last = current
        current = current.__cause__ or current.__context__
    text = str(last).strip() if last is not None else ""
    return text.splitlines()[0] if text else ""


def _setup_cause(exc: BaseException) -> BaseException | None:
    """The missing-credentials or missing-region error behind a translated AWS failure, if any."""
    from botocore.exceptions import NoCredentialsError, NoRegionError

    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None:
        if isinstance(current, NoCredentialsError | NoRegionError):
            return current
        current = current.__cause__ or current.__context__
    return None


def guarded(run: Callable[[], int]) -> int:
    """Run a command; setup, configuration and AWS errors become one line on stderr, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from chalicelib.errors import AppError
    from chalicelib.settings import SettingsError

    no_credentials = "no AWS credentials: configure a profile or AWS_ACCESS_KEY_ID"
    no_region = "no AWS region: pass --region or set AWS_REGION"
    try:
        return run()
    except CliSetupError as exc:
        message, status = str(exc), 2
    except SettingsError as exc:
        message, status = str(exc), 2
    except NoCredentialsError:
        message, status = no_credentials, 2
    except NoRegionError:
        message, status = no_region, 2
    except AppError as exc:
        # Adapters translate every AWS failure into a 503-style error; setup problems stay setup problems.
        setup = _setup_cause(exc)
        if isinstance(setup, NoCredentialsError):
            message, status = no_credentials, 2
        elif isinstance(setup, NoRegionError):
            message, status = no_region, 2
        else:
            cause = _root_cause(exc)
            message, status = exc.message + (f" ({cause})" if cause else ""), 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        message, status = f"AWS refused the request: {error.get('Code')}: {error.get('Message')}", 1
    except BotoCoreError as exc:
        message, status = f"AWS could not be reached: {exc}", 1
    print(f"error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.cli", description="Job board operator commands."
    )
    parser.add_argument(
        "--stage", help="stage in .chalice/config.json whose names to use (default $APP_STAGE)"
    )
    parser.add_argument("--region", help="AWS region (default $AWS_REGION, then $AWS_DEFAULT_REGION)")
    groups = parser.add_subparsers(dest="group", required=True)
    employers.register(groups)
    sync.register(groups)
    args = parser.parse_args(argv)

    def run() -> int:
        configure(args.stage, args.region)
        return int(args.handler(args))

    return guarded(run)


if __name__ == "__main__":
    sys.exit(main())
