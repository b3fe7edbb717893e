"""Renders `deploy/resources.yaml` for one Chalice stage: fills the `Board` mapping from the config.

The stage's environment variables are the single source of the resource names: the functions read them
at run time, and this script writes the same values into the template that creates the resources.

    python -m deploy.render --stage prod --out build/prod-resources.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / ".chalice" / "config.json"
TEMPLATE_PATH = Path(__file__).resolve().parent / "resources.yaml"
WORKER_FUNCTION = "sync_account"
# AWS's recommendation for SQS event sources: visibility timeout = 6 x the function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
_CHALICE_DEFAULT_TIMEOUT = 60


class StageConfigError(ValueError):
    """The stage in `.chalice/config.json` lacks something the deployment needs."""


@dataclass(frozen=True)
class StageDeployment:
    """What the merge template needs to know about one stage."""

    stage: str
    api_gateway_stage: str
    environment: dict[str, str]
    worker_timeout_seconds: int
    worker_concurrency: int

    @property
    def sync_queue_visibility_timeout(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.worker_timeout_seconds


REQUIRED_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "BOARD_TABLE",
    "IDEMPOTENCY_TABLE",
    "SYNC_QUEUE_NAME",
    "STACKONE_API_KEY_SECRET",
    "STACKONE_WEBHOOK_SECRET",
    "EMBLOY_SECRET_PREFIX",
)


def load_config(path: Path = CONFIG_PATH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def stage_deployment(stage: str, config: dict[str, Any] | None = None) -> StageDeployment:
    """The stage's merged settings (top-level values overridden by the stage's, as Chalice does)."""
    config = config if config is not None else load_config()
    stages = config.get("stages", {})
    if stage not in stages:
        raise StageConfigError(f"No stage {stage!r} in .chalice/config.json.")
    stage_config = stages[stage]
    environment = {**config.get("environment_variables", {}), **stage_config.get("environment_variables", {})}
    missing = [name for name in REQUIRED_VARIABLES if not environment.get(name)]
    if missing:
        raise StageConfigError(f"Stage {stage!r} lacks environment variables: {', '.join(missing)}.")
    worker = stage_config.get("lambda_functions", {}).get(WORKER_FUNCTION, {})
    concurrency = worker.get("reserved_concurrency")
    # SQS event sources accept a maximum concurrency of 2 to 1000.
    if not isinstance(concurrency, int) or not 2 <= concurrency <= 1000:
        raise StageConfigError(f"Stage {stage!r}: {WORKER_FUNCTION}.reserved_concurrency must be 2..1000.")
    timeout = worker.get(
        "lambda_timeout",
        stage_config.get("lambda_timeout", config.get("lambda_timeout", _CHALICE_DEFAULT_TIMEOUT)),
    )
    return StageDeployment(
        stage=stage,
        api_gateway_stage=stage_config.get("api_gateway_stage", config.get("api_gateway_stage", "api")),
        environment=environment,
        worker_timeout_seconds=int(timeout),
        worker_concurrency=concurrency,
    )


def render(deployment: StageDeployment, template_text: str | None = None) -> dict[str, Any]:
    """The merge template with the `Board` mapping filled in for `deployment`."""
    template: dict[str, Any] = yaml.safe_load(
        template_text if template_text is not None else TEMPLATE_PATH.read_text()
    )
    env = deployment.environment
    template["Mappings"]["Board"] = {
        "Names": {
            "ApiStage": deployment.api_gateway_stage,
            "ServiceName": env["POWERTOOLS_SERVICE_NAME"],
            "MetricsNamespace": env["POWERTOOLS_METRICS_NAMESPACE"],
            "BoardTable": env["BOARD_TABLE"],
            "IdempotencyTable": env["IDEMPOTENCY_TABLE"],
            "SyncQueue": env["SYNC_QUEUE_NAME"],
            "SyncDeadLetterQueue": f"{env['SYNC_QUEUE_NAME']}-dlq",
            "StackOneApiKeySecret": env["STACKONE_API_KEY_SECRET"],
            "WebhookSecret": env["STACKONE_WEBHOOK_SECRET"],
            "EmbloySecretPrefix": env["EMBLOY_SECRET_PREFIX"],
        },
        "Sizing": {
            "SyncQueueVisibilityTimeout": str(deployment.sync_queue_visibility_timeout),
            "SyncWorkerConcurrency": str(deployment.worker_concurrency),
        },
    }
    _allow_cors_on_gateway_responses(template, env.get("CORS_ORIGINS", ""))
    return template


def _allow_cors_on_gateway_responses(template: dict[str, Any], cors_origins: str) -> None:
    """Gateway errors (401, 429, ...) carry the routes' allowed origin, so a browser can read them."""
    origins = [origin.strip() for origin in cors_origins.split(",") if origin.strip()]
    if not origins:
        return
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    for response in definition["x-amazon-apigateway-gateway-responses"].values():
        parameters = response.setdefault("responseParameters", {})
        # API Gateway static values are single-quoted string literals.
        parameters["gatewayresponse.header.Access-Control-Allow-Origin"] = f"'{origins[0]}'"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    rendered = render(stage_deployment(args.stage))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rendered, indent=2) + "\n")


if __name__ == "__main__":
    main()
