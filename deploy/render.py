"""Renders `deploy/resources.yaml` for one Chalice stage: fills the `Board` mapping from the config.

The stage's environment variables are the single source of the resource names: the functions read them
at run time, and this script writes the same values into the template that creates the resources.

    python -m deploy.render --stage prod --out build/prod-resources.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from chalicelib.http_headers import RESPONSE_SECURITY_HEADERS
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalice import Chalice

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / ".chalice" / "config.json"
TEMPLATE_PATH = Path(__file__).resolve().parent / "resources.yaml"
WORKER_FUNCTION = "sync_account"
SNAPSHOT_REQUESTED_FUNCTION = "board_snapshot_requested"
EMAIL_SENDER_FUNCTION = "send_email"
NUMBERS_COUNTER_FUNCTION = "count_events"
# AWS's recommendation for SQS event sources: visibility timeout = 6 x the function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
_CHALICE_DEFAULT_TIMEOUT = 60
# Per-function /tmp size. Chalice 1.34 has no setting for it, so it is a key of ours in the function's
# block of .chalice/config.json (Chalice ignores keys it does not know) that this script turns into the
# function's `EphemeralStorage`. Lambda allows 512 to 10240 MB.
EPHEMERAL_STORAGE_KEY = "ephemeral_storage_mb"
EPHEMERAL_STORAGE_RANGE = (512, 10240)
# Chalice's logical id for a function is its CamelCased name, except for the API handler.
_LOGICAL_ID_EXCEPTIONS = {"api_handler": "APIHandler"}
# The snapshot bucket's lifecycle rule (deploy/resources.yaml) expires every object, the current snapshot's
# files too, by age. A working builder uploads again every file the current snapshot still uses once it is
# STORED_REFRESH old (chalicelib/services/board/snapshot.py), and builds every BOARD_SNAPSHOT_SCHEDULE_MINUTES
# at most; the expiry must leave at least this long on top, for the builder to be fixed before cold starts
# find no files.
SNAPSHOT_LIFECYCLE_RULE = "ExpireOldSnapshots"
MIN_BUILDER_OUTAGE_MINUTES = 3 * 24 * 60


# On every answer API Gateway gives itself (401, 403, 404, 413, 429, 504, ...), as on the Lambda's: none is
# worth storing, and the security headers hold for the whole origin. `local/api_server.py` sends the same.
GATEWAY_RESPONSE_HEADERS = {**RESPONSE_SECURITY_HEADERS, "Cache-Control": "no-store"}
# A method a path does not have reaches the API handler, which answers 405 with `Allow` in the API's error
# shape; without it API Gateway answers such a request as an unknown path (404). Explicit methods win over
# this one. (API Gateway refuses TRACE and CONNECT itself: its methods are DELETE, GET, HEAD, OPTIONS,
# PATCH, POST and PUT.)
ANY_METHOD = "x-amazon-apigateway-any-method"
# Every function is published as a version behind this alias (SAM's AutoPublishAlias); everything that
# invokes a function (API Gateway's integrations, authorizers and permissions; SAM wires the schedules,
# queues and topics of a function's `Events`) names the alias, so `live` decides which code runs.
ALIAS_NAME = "live"
_INVOCATIONS_URI = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Alias}/invocations"
)


def invocations_uri(logical_id: str) -> dict[str, Any]:
    """API Gateway's URI for invoking the function's `live` alias. `<function>.Alias` is SAM's reference
    to the alias it generates (`Ref` gives its ARN); `Fn::Sub` is the key Chalice writes the URI under."""
    return {"Fn::Sub": [_INVOCATIONS_URI, {"Alias": {"Ref": f"{logical_id}.Alias"}}]}


# How CodeDeploy shifts `live` to a new version: `deployment_preference` in the stage's block of
# .chalice/config.json (a key of ours, like `ephemeral_storage_mb`) is the DeploymentType parameter's default.
DEPLOYMENT_PREFERENCE_KEY = "deployment_preference"
DEFAULT_DEPLOYMENT_PREFERENCE = "AllAtOnce"
API_FUNCTION = "api_handler"
# API Gateway stops waiting for the API handler after 29 s (its integration timeout). The handler's own
# timeout stays below it, and above the longest request deadline the settings allow plus a cold start's
# snapshot download, so the app answers (503 with Retry-After) before Lambda or the gateway cut it off.
API_GATEWAY_TIMEOUT_SECONDS = 29
COLD_START_MARGIN_SECONDS = 5


# The Lambda runtime every function is pinned to. `chalice package` picks the runtime, and the native wheels
# of the deployment zip, from the Python that runs it: packaging under any other version is refused.
LAMBDA_RUNTIME = "python3.11"
LAMBDA_PYTHON = (3, 11)


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
    snapshot_requested_timeout_seconds: int = _CHALICE_DEFAULT_TIMEOUT
    email_sender_timeout_seconds: int = _CHALICE_DEFAULT_TIMEOUT
    # send_email's reserved_concurrency (also its event source's maximum concurrency).
    email_sender_concurrency: int = 2
    numbers_counter_timeout_seconds: int = _CHALICE_DEFAULT_TIMEOUT
    numbers_counter_concurrency: int = 2
    # Chalice function name -> MB of /tmp (only the functions that set `ephemeral_storage_mb`).
    ephemeral_storage: dict[str, int] = field(default_factory=dict)
    # Every function of the stage's `lambda_functions` (each gets the pinned runtime).
    functions: tuple[str, ...] = ()
    # Chalice's `xray` for the stage: Active tracing on every function and on the API stage.
    xray: bool = False
    # The DeploymentType parameter's default for the stage.
    deployment_preference: str = DEFAULT_DEPLOYMENT_PREFERENCE

    @property
    def sync_queue_visibility_timeout(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.worker_timeout_seconds

    @property
    def snapshot_queue_visibility_timeout(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.snapshot_requested_timeout_seconds

    @property
    def email_queue_visibility_timeout(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.email_sender_timeout_seconds

    @property
    def numbers_queue_visibility_timeout(self) -> int:
        # AWS: at least 6 x the function's timeout plus the event source's batching window.
        window = int(self.environment.get("NUMBERS_BATCH_WINDOW_SECONDS", "180"))
        return VISIBILITY_TIMEOUT_FACTOR * self.numbers_counter_timeout_seconds + window

    @property
    def snapshot_schedule_minutes(self) -> int:
        return int(self.environment["BOARD_SNAPSHOT_SCHEDULE_MINUTES"])

    @property
    def sync_schedule_minutes(self) -> int:
        return int(self.environment.get("SYNC_SCHEDULE_MINUTES", "15"))

    @property
    def sync_queue_max_age_seconds(self) -> int:
        """A sync request this old waited out a failed receive and two schedule periods."""
        return self.sync_queue_visibility_timeout + 2 * 60 * self.sync_schedule_minutes

    @property
    def snapshot_queue_max_age_seconds(self) -> int:
        """A snapshot request this old waited out a throttled receive and two build schedule periods."""
        return self.snapshot_queue_visibility_timeout + 2 * 60 * self.snapshot_schedule_minutes

    @property
    def snapshot_stale_hours(self) -> int:
        """Hours without a published snapshot before the stale alarm: 3 build schedule periods, at least 2
        hours and at most a day (CloudWatch evaluates an alarm over at most a day of hourly periods)."""
        return min(24, max(2, math.ceil(3 * self.snapshot_schedule_minutes / 60)))


REQUIRED_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "BOARD_TABLE",
    "IDEMPOTENCY_TABLE",
    "SYNC_QUEUE_NAME",
    "BOARD_SNAPSHOT_QUEUE_NAME",
    "BOARD_SNAPSHOT_PREFIX",
    "BOARD_SNAPSHOT_SCHEDULE_MINUTES",
    "STACKONE_API_KEY_SECRET",
    "STACKONE_WEBHOOK_SECRET",
    "CURSOR_SIGNING_SECRET",
    "EMBLOY_SECRET_PREFIX",
    "EMAIL_QUEUE_NAME",
    "EMAIL_EVENTS_TOPIC_NAME",
    "NUMBERS_QUEUE_NAME",
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
    functions = stage_config.get("lambda_functions", {})
    _check_snapshot_settings(stage, environment)
    _check_api_timeout(stage, environment, _timeout(config, stage_config, API_FUNCTION))
    worker_concurrency = _event_source_concurrency(stage, functions, WORKER_FUNCTION)
    email_sender_concurrency = _event_source_concurrency(stage, functions, EMAIL_SENDER_FUNCTION)
    # The decorators in chalicelib/jobs/ give Chalice the pollers' maximum concurrency from these settings.
    _check_repeats(stage, environment, "SYNC_WORKER_CONCURRENCY", WORKER_FUNCTION, worker_concurrency)
    _check_repeats(
        stage, environment, "EMAIL_SENDER_CONCURRENCY", EMAIL_SENDER_FUNCTION, email_sender_concurrency
    )
    numbers_counter_concurrency = _event_source_concurrency(stage, functions, NUMBERS_COUNTER_FUNCTION)
    _check_repeats(
        stage,
        environment,
        "NUMBERS_COUNTER_CONCURRENCY",
        NUMBERS_COUNTER_FUNCTION,
        numbers_counter_concurrency,
    )
    return StageDeployment(
        stage=stage,
        api_gateway_stage=stage_config.get("api_gateway_stage", config.get("api_gateway_stage", "api")),
        environment=environment,
        worker_timeout_seconds=_timeout(config, stage_config, WORKER_FUNCTION),
        worker_concurrency=worker_concurrency,
        snapshot_requested_timeout_seconds=_timeout(config, stage_config, SNAPSHOT_REQUESTED_FUNCTION),
        email_sender_timeout_seconds=_timeout(config, stage_config, EMAIL_SENDER_FUNCTION),
        email_sender_concurrency=email_sender_concurrency,
        numbers_counter_timeout_seconds=_timeout(config, stage_config, NUMBERS_COUNTER_FUNCTION),
        numbers_counter_concurrency=numbers_counter_concurrency,
        ephemeral_storage=_ephemeral_storage(stage, functions),
        functions=tuple(functions),
        xray=bool(stage_config.get("xray", config.get("xray", False))),
        deployment_preference=str(
            stage_config.get(
                DEPLOYMENT_PREFERENCE_KEY,
                config.get(DEPLOYMENT_PREFERENCE_KEY, DEFAULT_DEPLOYMENT_PREFERENCE),
            )
        ),
    )


def _check_repeats(
    stage: str, environment: dict[str, str], variable: str, function: str, reserved: int
) -> None:
    configured = environment.get(variable)
    if configured != str(reserved):
        raise StageConfigError(
            f"Stage {stage!r}: {variable} ({configured}) must repeat "
            f"{function}.reserved_concurrency ({reserved})."
        )


def request_deadline_cap_seconds() -> float:
    """The longest REQUEST_DEADLINE_SECONDS the settings accept."""
    for constraint in Settings.model_fields["request_deadline_seconds"].metadata:
        limit = getattr(constraint, "le", None)
        if limit is not None:
            return float(limit)
    raise StageConfigError("REQUEST_DEADLINE_SECONDS has no upper bound in chalicelib/settings.py.")


def _check_api_timeout(stage: str, environment: dict[str, str], timeout: int) -> None:
    """The API handler's timeout sits between the longest request deadline (plus a cold start) and 29 s."""
    lowest = request_deadline_cap_seconds() + COLD_START_MARGIN_SECONDS
    if not lowest <= timeout < API_GATEWAY_TIMEOUT_SECONDS:
        raise StageConfigError(
            f"Stage {stage!r}: {API_FUNCTION}.lambda_timeout must be at least {lowest:g} s (the longest "
            f"REQUEST_DEADLINE_SECONDS plus {COLD_START_MARGIN_SECONDS} s) and below API Gateway's "
            f"{API_GATEWAY_TIMEOUT_SECONDS} s."
        )


def _event_source_concurrency(stage: str, functions: dict[str, Any], function: str) -> int:
    """The function's reserved_concurrency, which its SQS event source's maximum concurrency repeats
    (so the poller never invokes more instances than are reserved and no batch is throttled back)."""
    concurrency = functions.get(function, {}).get("reserved_concurrency")
    # SQS event sources accept a maximum concurrency of 2 to 1000.
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 2 <= concurrency <= 1000:
        raise StageConfigError(f"Stage {stage!r}: {function}.reserved_concurrency must be 2..1000.")
    return concurrency


def _timeout(config: dict[str, Any], stage_config: dict[str, Any], function: str) -> int:
    """The function's lambda_timeout as Chalice resolves it (function, then stage, then top level)."""
    configured = stage_config.get("lambda_functions", {}).get(function, {})
    return int(
        configured.get(
            "lambda_timeout",
            stage_config.get("lambda_timeout", config.get("lambda_timeout", _CHALICE_DEFAULT_TIMEOUT)),
        )
    )


def _check_snapshot_settings(stage: str, environment: dict[str, str]) -> None:
    prefix = environment["BOARD_SNAPSHOT_PREFIX"]
    # The prefix scopes IAM grants and the lifecycle rule: it must name a "directory" of its own.
    if not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix:
        raise StageConfigError(
            f"Stage {stage!r}: BOARD_SNAPSHOT_PREFIX must end with '/' and not start with '/' or hold '*'."
        )
    minutes = environment["BOARD_SNAPSHOT_SCHEDULE_MINUTES"]
    if not minutes.isdigit() or int(minutes) < 1:
        raise StageConfigError(f"Stage {stage!r}: BOARD_SNAPSHOT_SCHEDULE_MINUTES must be a number ≥ 1.")


def _ephemeral_storage(stage: str, functions: dict[str, Any]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    low, high = EPHEMERAL_STORAGE_RANGE
    for name, settings in functions.items():
        if EPHEMERAL_STORAGE_KEY not in settings:
            continue
        size = settings[EPHEMERAL_STORAGE_KEY]
        if not isinstance(size, int) or isinstance(size, bool) or not low <= size <= high:
            raise StageConfigError(f"Stage {stage!r}: {name}.{EPHEMERAL_STORAGE_KEY} must be {low}..{high}.")
        sizes[name] = size
    return sizes


def function_logical_id(function: str) -> str:
    """The function's logical id in Chalice's packaged template."""
    if function in _LOGICAL_ID_EXCEPTIONS:
        return _LOGICAL_ID_EXCEPTIONS[function]
    return _camel(function)


def function_role_id(function: str) -> str:
    """The logical id of the function's role in Chalice's packaged template (`ApiHandlerRole` too)."""
    return f"{_camel(function)}Role"


def _camel(function: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in function.replace("-", "_").split("_") if word)


def load_app() -> Chalice:
    """The Chalice app, for its routes and authorizers (neither depends on the stage's variables; `main`
    sets them anyway before the first import, as `chalice package` does)."""
    app: Chalice = importlib.import_module("app").app
    return app


def api_functions(app: Chalice) -> tuple[str, ...]:
    """The functions API Gateway invokes: the API handler and every built-in authorizer."""
    return (API_FUNCTION, *(authorizer.name for authorizer in app.builtin_auth_handlers))


def check_python(version: tuple[int, int] | None = None) -> None:
    """Refuse to package with a Python other than the pinned Lambda runtime's."""
    running = version or (sys.version_info.major, sys.version_info.minor)
    if tuple(running) != LAMBDA_PYTHON:
        wanted, found = ".".join(map(str, LAMBDA_PYTHON)), ".".join(map(str, running))
        raise StageConfigError(
            f"Package with Python {wanted} (the functions run on {LAMBDA_RUNTIME}); this is Python "
            f"{found}: its wheels would not load on Lambda."
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
            "CursorSigningSecret": env["CURSOR_SIGNING_SECRET"],
            "EmbloySecretPrefix": env["EMBLOY_SECRET_PREFIX"],
            "SnapshotQueue": env["BOARD_SNAPSHOT_QUEUE_NAME"],
            "SnapshotDeadLetterQueue": f"{env['BOARD_SNAPSHOT_QUEUE_NAME']}-dlq",
            "SnapshotPrefix": env["BOARD_SNAPSHOT_PREFIX"],
            "EmailQueue": env["EMAIL_QUEUE_NAME"],
            "EmailDeadLetterQueue": f"{env['EMAIL_QUEUE_NAME']}-dlq",
            "EmailEventsTopic": env["EMAIL_EVENTS_TOPIC_NAME"],
            "NumbersQueue": env["NUMBERS_QUEUE_NAME"],
            "NumbersDeadLetterQueue": f"{env['NUMBERS_QUEUE_NAME']}-dlq",
        },
        "Sizing": {
            "SyncQueueVisibilityTimeout": str(deployment.sync_queue_visibility_timeout),
            "SnapshotQueueVisibilityTimeout": str(deployment.snapshot_queue_visibility_timeout),
            "EmailQueueVisibilityTimeout": str(deployment.email_queue_visibility_timeout),
            "NumbersQueueVisibilityTimeout": str(deployment.numbers_queue_visibility_timeout),
        },
    }
    template["Mappings"]["Board"]["Alarms"] = {
        "SyncQueueMaxAgeSeconds": str(deployment.sync_queue_max_age_seconds),
        "SnapshotQueueMaxAgeSeconds": str(deployment.snapshot_queue_max_age_seconds),
        "SnapshotStaleHours": str(deployment.snapshot_stale_hours),
    }
    app = load_app()
    _check_snapshot_expiry(template, deployment)
    _set_ephemeral_storage(template, deployment.ephemeral_storage)
    _pin_runtime(template, deployment.functions)
    _secure_gateway_responses(template)
    _allow_cors_on_gateway_responses(template, env.get("CORS_ORIGINS", ""))
    _answer_every_method(template)
    _add_function_alarms(template, deployment.functions, api_functions(app))
    _publish_behind_aliases(template, deployment, api_functions(app))
    _invoke_through_aliases(template, app)
    _trace(template, deployment)
    _notify_every_alarm(template)
    _read_the_table_in_use(template, deployment.functions)
    return template


# The application table the functions use: the stack's own, or the BoardTableName parameter's (a
# point-in-time restore). The IAM policies name the same table (`.chalice/policy-*.json`).
BOARD_TABLE_IN_USE = {
    "Fn::If": [
        "UsesRestoredBoardTable",
        {"Ref": "BoardTableName"},
        {"Fn::FindInMap": ["Board", "Names", "BoardTable"]},
    ]
}


def _read_the_table_in_use(template: dict[str, Any], functions: tuple[str, ...]) -> None:
    for function in functions:
        properties = (
            template["Resources"].setdefault(function_logical_id(function), {}).setdefault("Properties", {})
        )
        properties.setdefault("Environment", {}).setdefault("Variables", {})["BOARD_TABLE"] = (
            BOARD_TABLE_IN_USE
        )


def _add_function_alarms(template: dict[str, Any], functions: tuple[str, ...], api: tuple[str, ...]) -> None:
    """`<function>ErrorsAlarm` for every function (unless the template writes its own), and
    `<function>ThrottlesAlarm` for the functions API Gateway invokes (a throttled one fails a request)."""
    resources = template["Resources"]
    for function in functions:
        logical_id = function_logical_id(function)
        metrics = ("Errors", "Throttles") if function in api else ("Errors",)
        for metric in metrics:
            name = f"{logical_id}{metric}Alarm"
            if name in resources:
                continue
            verb = "raised or timed out" if metric == "Errors" else "was throttled"
            # The API's functions answer callers: any error in the last 5 minutes. The others run on
            # schedules and queues: any error in a 15-minute period.
            timing = (
                {"Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 1}
                if function in api
                else {"Period": 900, "EvaluationPeriods": 1}
            )
            resources[name] = {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": f"The function {function} {verb}.",
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
                    "Statistic": "Sum",
                    **timing,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                },
            }


def _publish_behind_aliases(
    template: dict[str, Any], deployment: StageDeployment, api: tuple[str, ...]
) -> None:
    """Every function: a new version on each deploy behind `live`, shifted by CodeDeploy, which rolls
    back when the function's errors alarm (and, for the API's functions, the 5xx-rate alarm) fires."""
    allowed = template["Parameters"]["DeploymentType"]["AllowedValues"]
    if deployment.deployment_preference not in allowed:
        raise StageConfigError(
            f"Stage {deployment.stage!r}: {DEPLOYMENT_PREFERENCE_KEY} must be one of {', '.join(allowed)}."
        )
    template["Parameters"]["DeploymentType"]["Default"] = deployment.deployment_preference
    for function in deployment.functions:
        logical_id = function_logical_id(function)
        alarms = [{"Ref": f"{logical_id}ErrorsAlarm"}]
        if function in api:
            alarms.append({"Ref": "Api5xxRateAlarm"})
        properties = template["Resources"].setdefault(logical_id, {}).setdefault("Properties", {})
        properties["AutoPublishAlias"] = ALIAS_NAME
        properties["DeploymentPreference"] = {"Type": {"Ref": "DeploymentType"}, "Alarms": alarms}


def _invoke_through_aliases(template: dict[str, Any], app: Chalice) -> None:
    """API Gateway invokes the `live` aliases: every route's integration, every authorizer, and the
    permissions Chalice writes (deep-merged over Chalice's values, under the same intrinsic keys)."""
    resources = template["Resources"]
    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]
    paths = definition.setdefault("paths", {})
    for path, entries in app.routes.items():
        for method in entries:
            operation = paths.setdefault(path, {}).setdefault(method.lower(), {})
            operation.setdefault("x-amazon-apigateway-integration", {})["uri"] = invocations_uri("APIHandler")
    resources["APIHandlerInvokePermission"] = {"Properties": {"FunctionName": {"Ref": "APIHandler.Alias"}}}
    security = definition.setdefault("securityDefinitions", {})
    for authorizer in app.builtin_auth_handlers:
        logical_id = function_logical_id(authorizer.name)
        security.setdefault(authorizer.name, {})["x-amazon-apigateway-authorizer"] = {
            "authorizerUri": invocations_uri(logical_id)
        }
        # Chalice grants the function by `Fn::GetAtt`: the alias's ARN under the same key.
        resources[f"{logical_id}InvokePermission"] = {
            "Properties": {"FunctionName": {"Fn::GetAtt": [f"{logical_id}.Alias", "AliasArn"]}}
        }


# X-Ray accepts no resource-level permissions: these two actions on `*` are what a traced function needs.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def _trace(template: dict[str, Any], deployment: StageDeployment) -> None:
    """With the stage's `xray` (Chalice sets every function's Tracing to Active), the API stage traces too,
    and every function's role may send the traces."""
    if not deployment.xray:
        return
    template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] = True
    template["Resources"]["XRayTracingPolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "xray-traces",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}],
            },
            "Roles": [{"Ref": function_role_id(function)} for function in deployment.functions],
        },
    }


def _notify_every_alarm(template: dict[str, Any]) -> None:
    """Every alarm of the stack notifies the alarm topic (the e-mail subscription is a parameter) and is
    named `<stack>-<logical id>`, the name docs/runbook.md uses."""
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            resource["Properties"].setdefault("AlarmActions", [{"Ref": "AlarmTopic"}])
            resource["Properties"].setdefault("AlarmName", {"Fn::Sub": f"${{AWS::StackName}}-{logical_id}"})


def bucket_lifecycle_rules(logical_id: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """The lifecycle rules of one of the template's buckets, in S3's API shape (put_bucket_lifecycle_
    configuration), with `Fn::FindInMap: [Board, Names, X]` prefixes taken from `names`: the local
    stack's buckets get exactly the rules the deployed ones have."""
    template = yaml.safe_load(TEMPLATE_PATH.read_text())
    rules = template["Resources"][logical_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    converted: list[dict[str, Any]] = []
    for rule in rules:
        prefix = rule.get("Prefix", "")
        if isinstance(prefix, dict):
            _board, _names, name = prefix["Fn::FindInMap"]
            prefix = names[name]
        entry: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": prefix},
            "Expiration": {"Days": int(rule["ExpirationInDays"])},
        }
        if "AbortIncompleteMultipartUpload" in rule:
            days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            entry["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        converted.append(entry)
    return converted


def _check_snapshot_expiry(template: dict[str, Any], deployment: StageDeployment) -> None:
    """The current snapshot must outlive a builder outage of MIN_BUILDER_OUTAGE_MINUTES."""
    rules = template["Resources"]["SnapshotBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = (rule for rule in rules if rule.get("Id") == SNAPSHOT_LIFECYCLE_RULE)
    days = int(rule["ExpirationInDays"])
    # A file the current snapshot uses was uploaded at most STORED_REFRESH plus one build period ago.
    from chalicelib.services.board.snapshot import STORED_REFRESH

    refresh_minutes = int(STORED_REFRESH.total_seconds() // 60)
    if days * 24 * 60 - deployment.snapshot_schedule_minutes - refresh_minutes < MIN_BUILDER_OUTAGE_MINUTES:
        raise StageConfigError(
            f"Stage {deployment.stage!r}: snapshots expire after {days} day(s); with "
            f"BOARD_SNAPSHOT_SCHEDULE_MINUTES={deployment.snapshot_schedule_minutes} a builder outage of "
            f"{MIN_BUILDER_OUTAGE_MINUTES // 1440} days would leave the board without a snapshot."
        )


def _set_ephemeral_storage(template: dict[str, Any], sizes: dict[str, int]) -> None:
    for function, size in sizes.items():
        resource = template["Resources"].setdefault(function_logical_id(function), {})
        resource.setdefault("Properties", {})["EphemeralStorage"] = {"Size": size}


def _pin_runtime(template: dict[str, Any], functions: tuple[str, ...]) -> None:
    for function in functions:
        resource = template["Resources"].setdefault(function_logical_id(function), {})
        resource.setdefault("Properties", {})["Runtime"] = LAMBDA_RUNTIME


def _secure_gateway_responses(template: dict[str, Any]) -> None:
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    for response in definition["x-amazon-apigateway-gateway-responses"].values():
        parameters = response.setdefault("responseParameters", {})
        for name, value in GATEWAY_RESPONSE_HEADERS.items():
            parameters[f"gatewayresponse.header.{name}"] = f"'{value}'"


def _answer_every_method(template: dict[str, Any]) -> None:
    """An ANY method on every API path, sent to the API handler (deep-merged into Chalice's paths)."""
    from chalicelib.api.openapi import OPERATIONS  # the route table, checked against the app's routes

    params_by_path = {operation.path: tuple(operation.path_params) for operation in OPERATIONS}
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"].setdefault("paths", {})
    for path, params in sorted(params_by_path.items()):
        method: dict[str, Any] = {
            "consumes": ["*/*"],
            "produces": ["application/json"],
            "responses": {"200": {"description": "200 response", "schema": {"$ref": "#/definitions/Empty"}}},
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": invocations_uri("APIHandler"),
                "passthroughBehavior": "when_no_match",
                "contentHandling": "CONVERT_TO_TEXT",
                "responses": {"default": {"statusCode": "200"}},
            },
        }
        if params:
            method["parameters"] = [
                {"name": name, "in": "path", "required": True, "type": "string"} for name in params
            ]
        paths.setdefault(path, {})[ANY_METHOD] = method


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
    try:
        check_python()
        deployment = stage_deployment(args.stage)
        os.environ.update(deployment.environment)
        rendered = render(deployment)
    except StageConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rendered, indent=2) + "\n")


if __name__ == "__main__":
    main()
