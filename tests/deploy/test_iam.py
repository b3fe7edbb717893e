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
    # SendMessageBatch is authorised by sqs:SendMessage. The email queue: alert confirmations. The
    # numbers queue: one message per counted event.
    | _grants(["sqs:SendMessage"], ("sync-queue", "email-queue", "numbers-queue"))
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
    # A sync that changed postings asks for a new board snapshot; one that found a connection broken
    # queues the employer's notice.
    | _grants(["sqs:SendMessage"], ("snapshot-queue", "email-queue"))
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
    # Drains the email queue (its event source mapping), checks suppressions and takes from the shared
    # send rate (both limited to their partitions, see below), records each key as sent, and sends
    # through SES from the stack's identity and configuration set only.
    "send_email": _LOGS
    | _grants(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ("email-queue",))
    | _grants(["dynamodb:GetItem", "dynamodb:UpdateItem"], ("table",))
    | _grants(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        ("idempotency-table",),
    )
    | _grants(["ses:SendEmail", "ses:SendRawEmail"], ("ses-identity", "ses-configuration-set")),
    # Writes suppressions (limited to their partition) and deletes the alerts of a suppressed address.
    "email_events": _LOGS
    | _grants(["dynamodb:PutItem"], ("table",))
    | _grants(["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], _TABLE),
    # Opens the board as the API does (the pointer item, limited to its partition; the snapshot's files;
    # the change feed on GSI2; the cursor key, from which the alert links' key is derived too), reads the
    # due alerts from GSI1, queues the digests and advances the alerts (limited to alert items, below).
    "send_alert_digests": _LOGS
    | _grants(["dynamodb:Query"], ("live-index", "changes-index"))
    | _grants(["dynamodb:GetItem", "dynamodb:UpdateItem"], ("table",))
    | _grants(["s3:GetObject"], ("snapshot-objects",))
    | _grants(["secretsmanager:GetSecretValue"], ("cursor-secret",))
    | _grants(["sqs:SendMessage"], ("email-queue",)),
    # Reads the opted-in employers from GSI1 and each one's applications of the day (a Query on the
    # employer's partition, limited below), and queues the digests.
    "send_employer_digests": _LOGS
    | _grants(["dynamodb:Query"], ("live-index", "table"))
    | _grants(["sqs:SendMessage"], ("email-queue",)),
    # Drains the numbers queue (its event source mapping), looks up each job's posting for its employer
    # and adds each batch's sums to the numbers items (both limited to their partitions, see below).
    "count_events": _LOGS
    | _grants(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ("numbers-queue",))
    | _grants(["dynamodb:GetItem", "dynamodb:UpdateItem"], ("table",)),
}
# Every function that queues email (and what it may do there: send, nothing else).
EMAIL_PRODUCERS = ("api_handler", "sync_account", "send_alert_digests", "send_employer_digests")
# Every function that opens the board (and only reads the snapshot's files).
SNAPSHOT_READERS = ("api_handler", "send_alert_digests")


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


def test_only_the_builders_write_snapshots_and_only_the_board_readers_read_them(
    packaged: PackagedStage,
) -> None:
    for function in FUNCTIONS:
        s3_grants = {grant for grant in _granted(packaged, function) if grant[0].startswith("s3:")}
        s3_actions = {action for action, resource in s3_grants if resource == "snapshot-objects"}
        if function in SNAPSHOT_BUILDERS:
            assert s3_actions == {"s3:PutObject", "s3:AbortMultipartUpload"}, function
        elif function in SNAPSHOT_READERS:
            assert s3_actions == {"s3:GetObject"}, function
        else:
            assert s3_actions == set(), function
        uploads = {action for action, resource in s3_grants if resource == "resume-uploads"}
        # Only the API signs upload forms (PutObject), reads an upload and deletes it once delivered.
        expected = {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} if function == "api_handler" else set()
        assert uploads == expected, function


def test_only_the_email_sender_sends_email_and_only_as_the_stacks_identity(packaged: PackagedStage) -> None:
    for function in FUNCTIONS:
        ses = {grant for grant in _granted(packaged, function) if grant[0].startswith("ses:")}
        if function == "send_email":
            assert ses == _grants(
                ["ses:SendEmail", "ses:SendRawEmail"], ("ses-identity", "ses-configuration-set")
            )
        else:
            assert ses == set(), function


def test_the_email_queue_is_written_by_the_producers_and_read_only_by_the_sender(
    packaged: PackagedStage,
) -> None:
    for function in FUNCTIONS:
        actions = {action for action, resource in _granted(packaged, function) if resource == "email-queue"}
        if function in EMAIL_PRODUCERS:
            assert actions == {"sqs:SendMessage"}, function
        elif function == "send_email":
            assert actions == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
        else:
            assert actions == set(), function


def _table_statements(packaged: PackagedStage, function: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in _statements(packaged, function)
        if any(
            classify_resource(packaged.template, resource, function) == "table"
            for resource in as_list(statement["Resource"])
        )
    ]


def test_the_sender_reads_only_suppressions_and_the_send_rate_item(packaged: PackagedStage) -> None:
    from chalicelib.aws.email_suppressions import address_hash
    from chalicelib.aws.rate_budget import DynamoDBWindowCounter

    (statement,) = _table_statements(packaged, "send_email")
    (patterns,) = statement["Condition"]["ForAllValues:StringLike"].values()
    assert set(statement["Condition"]["ForAllValues:StringLike"]) == {"dynamodb:LeadingKeys"}
    # The keys the code writes match the patterns; nothing else of the table does.
    suppression_key = f"SUPPRESSED#{address_hash('ana@example.org')}"
    rate_key = DynamoDBWindowCounter(None, "email#ses")._key["PK"]  # type: ignore[arg-type]
    assert _like(suppression_key, patterns)
    assert _like(rate_key, patterns)
    for other in ("BOARD", "JOB#1", "EMPLOYER#e1", "RATE#stackone"):
        assert not _like(other, patterns), other


def test_the_event_handler_writes_only_suppressions(packaged: PackagedStage) -> None:
    puts = [
        statement
        for statement in _table_statements(packaged, "email_events")
        if "dynamodb:PutItem" in as_list(statement["Action"])
    ]
    (statement,) = puts
    assert as_list(statement["Action"]) == ["dynamodb:PutItem"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SUPPRESSED#*"]}}


def _table_conditions(packaged: PackagedStage, function: str) -> dict[str, tuple[str, list[str]]]:
    """Action -> (condition operator, LeadingKeys patterns) of every grant on the table itself."""
    conditions: dict[str, tuple[str, list[str]]] = {}
    for statement in _table_statements(packaged, function):
        ((operator, keys),) = statement["Condition"].items()
        assert set(keys) == {"dynamodb:LeadingKeys"}, (function, statement)
        for action in as_list(statement["Action"]):
            assert action not in conditions, (function, action)
            conditions[action] = (operator, keys["dynamodb:LeadingKeys"])
    return conditions


def test_the_alert_digests_read_only_the_pointer_and_write_only_alert_items(packaged: PackagedStage) -> None:
    from chalicelib.aws.alerts_repository import DynamoDBAlertStore

    conditions = _table_conditions(packaged, "send_alert_digests")
    assert conditions["dynamodb:GetItem"] == ("ForAllValues:StringEquals", [POINTER_KEY["PK"]])
    operator, patterns = conditions["dynamodb:UpdateItem"]
    assert operator == "ForAllValues:StringLike"
    # The key the store advances matches; the address slots, suppressions, postings and the pointer do not.
    alert_key = _recorded_update_key(DynamoDBAlertStore, "a1")
    assert _like(alert_key, patterns)
    others = ("ALERTADDR#0f1e", "SUPPRESSED#0f1e", "BOARD", "ACCOUNT#acc1", "EMPLOYER#e1", "RATE#email#ses")
    for other in others:
        assert not _like(other, patterns), other


def test_the_employer_digests_query_only_employer_partitions(packaged: PackagedStage) -> None:
    from chalicelib.aws.application_records import DynamoDBApplicationRecords

    conditions = _table_conditions(packaged, "send_employer_digests")
    assert set(conditions) == {"dynamodb:Query"}
    operator, patterns = conditions["dynamodb:Query"]
    assert operator == "ForAllValues:StringLike"
    assert _like(_recorded_query_partition(DynamoDBApplicationRecords, "e1"), patterns)
    for other in ("ALERT#a1", "ALERTADDR#0f1e", "ACCOUNT#acc1", "BOARD", "SUPPRESSED#0f1e"):
        assert not _like(other, patterns), other


class _RecordingTable:
    """Stands in for a boto3 Table: records the key of an update and the partition of a query."""

    name = "job-board"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.keys.append(str(kwargs["Key"]["PK"]))
        return {}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.keys.append(str(kwargs["ExpressionAttributeValues"][":pk"]))
        return {"Items": []}


def _recorded_update_key(store_class: Any, alert_id: str) -> str:
    from datetime import UTC, datetime

    table = _RecordingTable()
    store_class(table).advance(alert_id, watermark="2026-12-01T00:00:00.000Z", sent_at=datetime.now(UTC))
    (key,) = table.keys
    return key


def _recorded_query_partition(records_class: Any, employer_id: str) -> str:
    from datetime import UTC, datetime, timedelta

    table = _RecordingTable()
    start = datetime(2026, 12, 1, tzinfo=UTC)
    records_class(table).submitted_between(employer_id, start, start + timedelta(days=1))
    (key,) = table.keys
    return key


def _like(key: str, patterns: list[str]) -> bool:
    """IAM's StringLike (`*` any run of characters)."""
    import re

    return any(re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), key) for pattern in patterns)


def test_the_numbers_queue_is_written_only_by_the_api_and_read_only_by_the_counter(
    packaged: PackagedStage,
) -> None:
    for function in FUNCTIONS:
        actions = {action for action, resource in _granted(packaged, function) if resource == "numbers-queue"}
        if function == "api_handler":
            assert actions == {"sqs:SendMessage"}
        elif function == "count_events":
            assert actions == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
        else:
            assert actions == set(), function


def test_the_counter_reads_only_postings_and_writes_only_numbers_items(packaged: PackagedStage) -> None:
    from datetime import date

    from chalicelib.aws.numbers_repository import numbers_key
    from chalicelib.aws.posting_items import posting_key

    conditions = _table_conditions(packaged, "count_events")
    assert set(conditions) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    read_operator, read_patterns = conditions["dynamodb:GetItem"]
    write_operator, write_patterns = conditions["dynamodb:UpdateItem"]
    assert read_operator == write_operator == "ForAllValues:StringLike"
    # The keys the code reads and writes match; employers, API keys, alerts and the rest do not.
    assert _like(posting_key("acc1", "p1")["PK"], read_patterns)
    assert _like(numbers_key("e1", "job1", date(2026, 12, 7))["PK"], write_patterns)
    assert _like(numbers_key("e1", None, date(2026, 12, 7))["PK"], write_patterns)
    for other in ("EMPLOYER#e1", "APIKEY#0f1e", "ALERT#a1", "BOARD", "SUPPRESSED#0f1e", "NUMBERS#e1"):
        assert not _like(other, read_patterns), other
    for other in ("EMPLOYER#e1", "APIKEY#0f1e", "ALERT#a1", "BOARD", "ACCOUNT#acc1", "RATE#email#ses"):
        assert not _like(other, write_patterns), other
