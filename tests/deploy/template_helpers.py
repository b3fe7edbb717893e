"""Reading the packaged template: resolving the board's mapping and classifying IAM resources."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.table_schema import CHANGES_INDEX, LIVE_INDEX

# Chalice function name -> logical id in the packaged template.
FUNCTIONS = {
    "api_handler": "APIHandler",
    "employer_authorizer": "EmployerAuthorizer",
    "sync_all": "SyncAll",
    "sync_account": "SyncAccount",
    "build_board_snapshot": "BuildBoardSnapshot",
    "board_snapshot_requested": "BoardSnapshotRequested",
    "send_email": "SendEmail",
    "email_events": "EmailEvents",
    "send_alert_digests": "SendAlertDigests",
    "send_employer_digests": "SendEmployerDigests",
    "count_events": "CountEvents",
}
# Chalice function name -> the suffix of its deployed name (`<stack name>-<suffix>`).
FUNCTION_NAME_SUFFIXES = {
    "api_handler": "api-handler",
    "employer_authorizer": "employer-authorizer",
    "sync_all": "sync-all",
    "sync_account": "sync-account",
    "build_board_snapshot": "snapshot-build",
    "board_snapshot_requested": "snapshot-requested",
    "send_email": "send-email",
    "email_events": "email-events",
    "send_alert_digests": "alert-digests",
    "send_employer_digests": "employer-digests",
    "count_events": "count-events",
}


# The table the functions use: the stack's own, or the one the BoardTableName parameter names.
BOARD_TABLE_IN_USE = {"Fn::If": ["UsesRestoredBoardTable", {"Ref": "BoardTableName"}, {"Ref": "BoardTable"}]}


def board_table_arn(suffix: str = "") -> dict[str, Any]:
    """The ARN the policies grant the application table (or its indexes, with a suffix) by."""
    pattern = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}" + suffix
    return {"Fn::Sub": [pattern, {"Table": BOARD_TABLE_IN_USE}]}


def resolve(template: dict[str, Any], value: Any) -> Any:
    """`value` with `Fn::FindInMap` into the template's mappings resolved; anything else as it is."""
    if isinstance(value, dict) and set(value) == {"Fn::FindInMap"}:
        mapping, top, key = value["Fn::FindInMap"]
        return template["Mappings"][mapping][top][key]
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def classify_resource(template: dict[str, Any], resource: Any, function: str) -> str:
    """A symbolic name for an IAM statement's resource, or AssertionError if it is not one we grant on."""
    known: dict[str, Any] = {
        "table": board_table_arn(),
        "table-indexes": board_table_arn("/index/*"),
        # GSI1 holds the live board (`LIVE#<shard>`), the due alerts (`ALERTS#<frequency>`) and the
        # employer list (`EMPLOYERS`); GSI2 the board's change feed (`CHANGES#<shard>`).
        "live-index": board_table_arn(f"/index/{LIVE_INDEX}"),
        "changes-index": board_table_arn(f"/index/{CHANGES_INDEX}"),
        "idempotency-table": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
        "sync-queue": {"Fn::GetAtt": ["SyncQueue", "Arn"]},
        "snapshot-queue": {"Fn::GetAtt": ["SnapshotQueue", "Arn"]},
        "email-queue": {"Fn::GetAtt": ["EmailQueue", "Arn"]},
        "numbers-queue": {"Fn::GetAtt": ["NumbersQueue", "Arn"]},
        # The stack's sending domain and configuration set, in this account and region only.
        "ses-identity": {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailDomain}"
        },
        "ses-configuration-set": {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
            ":configuration-set/${EmailConfigurationSet}"
        },
        "stackone-key-secret": {"Ref": "StackOneApiKeySecret"},
        "webhook-secret": {"Ref": "WebhookSecret"},
        "cursor-secret": {"Ref": "CursorSigningSecret"},
        "resume-uploads": {"Fn::Sub": "${ResumeUploadBucket.Arn}/resumes/*"},
    }
    for name, expected in known.items():
        if resource == expected:
            return name
    own_logs = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
        f"${{AWS::StackName}}-{FUNCTION_NAME_SUFFIXES[function]}:*"
    )
    if resource == {"Fn::Sub": own_logs}:
        return "own-log-group"
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list):
        pattern, variables = resource["Fn::Sub"]
        prefix = resolve(template, variables.get("Prefix"))
        snapshot_prefix = template["Mappings"]["Board"]["Names"]["SnapshotPrefix"]
        # Objects under the snapshot prefix only: never the bucket itself, never another prefix.
        if pattern == "${SnapshotBucket.Arn}/${Prefix}*" and prefix == snapshot_prefix:
            assert prefix.endswith("/"), f"{function}: snapshot prefix {prefix!r} is not a directory"
            return "snapshot-objects"
        embloy_prefix = template["Mappings"]["Board"]["Names"]["EmbloySecretPrefix"]
        if (
            pattern
            == "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Prefix}*"
            and prefix == embloy_prefix
            and prefix.endswith("/")
        ):
            return "embloy-secrets"
    raise AssertionError(f"{function}: unexpected IAM resource {resource!r}")
