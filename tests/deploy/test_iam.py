"""Least privilege on the packaged template: one hand-written policy per function, nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.aws.board_snapshots import POINTER_KEY
from tests.deploy.code_aws_calls import aws_actions, entry_points, settings_read, trigger_queue_setting
from tests.deploy.conftest import PackagedStage
from tests.deploy.template_helpers import FUNCTIONS, as_list, classify_resource, resolve

_TABLE = ("table", "table-indexes")
_LOGS = {("logs:CreateLogStream", "own-log-group"), ("logs:PutLogEvents", "own-log-group")}
SNAPSHOT_BUILDERS = ("build_board_snapshot", "board_snapshot_requested")


def _grants(actions: list[str], resources: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(action, resource) for action in actions for resource in resources}


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


# The family of resources an action of the code reaches: the Powertools idempotency layer writes the
# idempotency table; every other DynamoDB call goes through the adapters' handle on the board table.
_TABLE_FAMILY = {"table", "table-indexes", "live-index", "changes-index"}


def _family(action: str, resource: str) -> str:
    if action.startswith("dynamodb:"):
        return "table" if resource in _TABLE_FAMILY else resource
    return action.split(":", 1)[0]


def _code_grants(function: str) -> set[tuple[str, str]]:
    """(action, resource family) the function's code needs, read from its source (code_aws_calls.py)."""
    needed = set()
    for action, needed_by in aws_actions(function).items():
        if action.startswith("dynamodb:"):
            library = needed_by == {"DynamoDBPersistenceLayer"}
            both = "DynamoDBPersistenceLayer" in needed_by and not library
            families = {"idempotency-table"} if library else {"table"}
            if both:
                families = {"table", "idempotency-table"}
            needed |= {(action, family) for family in families}
        else:
            needed.add((action, action.split(":", 1)[0]))
    return needed


def test_every_function_of_the_app_is_a_function_of_the_template() -> None:
    assert set(entry_points()) == set(FUNCTIONS)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_is_granted_exactly_the_aws_calls_its_code_makes(
    packaged: PackagedStage, function: str
) -> None:
    granted = {
        (action, _family(action, resource))
        for action, resource in _granted(packaged, function)
        if resource != "own-log-group"  # the Lambda runtime's, not the code's
    }
    needed = _code_grants(function)
    assert not needed - granted, f"{function} calls what its policy does not grant"
    assert not granted - needed, f"{function}'s policy grants what its code never calls"


# The settings that name a queue, a bucket or a secret, and the resource of the policies they name (the
# first test below checks each against the template).
RESOURCE_SETTINGS = {
    "sync_queue_url": "sync-queue",
    "board_snapshot_queue_url": "snapshot-queue",
    "email_queue_url": "email-queue",
    "numbers_queue_url": "numbers-queue",
    "board_snapshot_bucket": "snapshot-objects",
    "resume_upload_bucket": "resume-uploads",
    "stackone_api_key_secret_name": "stackone-key-secret",
    "webhook_secret_name": "webhook-secret",
    "cursor_secret_name": "cursor-secret",
    "embloy_secret_prefix": "embloy-secrets",
}
QUEUE_NAME_SETTINGS = {
    "sync_queue_name": "sync-queue",
    "board_snapshot_queue_name": "snapshot-queue",
    "email_queue_name": "email-queue",
    "numbers_queue_name": "numbers-queue",
}


def test_the_resource_settings_name_the_stacks_resources(packaged: PackagedStage) -> None:
    from chalicelib.settings import Settings

    template = packaged.template
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    names = template["Mappings"]["Board"]["Names"]
    environment = packaged.deployment.environment
    fields = Settings.model_fields
    for setting, resource in RESOURCE_SETTINGS.items():
        variable = str(fields[setting].alias)
        if variable in variables:  # a URL or a bucket the stack hands over
            (logical_id,) = variables[variable].values()
            arn = {"Fn::GetAtt": [logical_id, "Arn"]}
            if resource in ("snapshot-objects", "resume-uploads"):
                assert (
                    logical_id
                    == {"snapshot-objects": "SnapshotBucket", "resume-uploads": "ResumeUploadBucket"}[
                        resource
                    ]
                )
            else:
                assert classify_resource(template, arn, "api_handler") == resource, setting
        elif resource == "embloy-secrets":
            assert environment[variable] == names["EmbloySecretPrefix"]
        else:  # a secret's name: the secret the policies grant by `Ref`
            (logical_id,) = [
                name
                for name, r in packaged.resources.items()
                if r["Type"] == "AWS::SecretsManager::Secret"
                and resolve(template, r["Properties"]["Name"]) == environment[variable]
            ]
            assert classify_resource(template, {"Ref": logical_id}, "api_handler") == resource, setting
    for setting, resource in QUEUE_NAME_SETTINGS.items():
        queue = {
            "sync-queue": "SyncQueue",
            "snapshot-queue": "SnapshotQueue",
            "email-queue": "EmailQueue",
            "numbers-queue": "NumbersQueue",
        }[resource]
        assert (
            resolve(template, packaged.resources[queue]["Properties"]["QueueName"])
            == environment[str(fields[setting].alias)]
        )


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_queue_bucket_and_secret_granted_is_one_the_functions_code_names(
    packaged: PackagedStage, function: str
) -> None:
    named = {RESOURCE_SETTINGS[field] for field in settings_read(function) if field in RESOURCE_SETTINGS}
    trigger = trigger_queue_setting(function)
    for action, resource in _granted(packaged, function):
        if resource not in set(RESOURCE_SETTINGS.values()):
            continue
        if action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            # The event source mapping polls the queue the handler is declared on, and only that one.
            assert trigger is not None and resource == QUEUE_NAME_SETTINGS[trigger], (
                function,
                action,
                resource,
            )
        else:
            assert resource in named, (
                f"{function} is granted {action} on {resource}, which its code never names"
            )


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
            # A builder starts from the current snapshot's files (incremental builds).
            assert s3_actions == {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}, function
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


class _IndexRecordingTable:
    """A table whose queries return nothing and record the index they read."""

    name = "board"

    def __init__(self) -> None:
        self.indexes: set[str] = set()
        self.meta = self
        self.client = self

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.indexes.add(kwargs["IndexName"])
        return {"Items": []}


@pytest.mark.parametrize("function", ["build_board_snapshot", "board_snapshot_requested"])
def test_the_snapshot_builders_may_query_exactly_the_indexes_full_and_incremental_builds_read(
    packaged: PackagedStage, function: str
) -> None:
    from chalicelib.aws.board_repository import DynamoDBBoardRepository
    from tests.deploy.template_helpers import board_table_arn

    # GIVEN the indexes the builder's source reads: every live posting (a full build) and each shard's
    # change feed after the previous snapshot's horizon (an incremental build)
    table = _IndexRecordingTable()
    source = DynamoDBBoardRepository(table, shards=2)  # type: ignore[arg-type]
    list(source.load_live())
    source.changes(0, "2026-01-01T00:00:00", None)
    # THEN the function's policy lets it query those indexes and no other part of the table
    granted = {
        classify_resource(packaged.template, resource, function)
        for statement in _statements(packaged, function)
        if "dynamodb:Query" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    read = {
        classify_resource(packaged.template, board_table_arn(f"/index/{i}"), function) for i in table.indexes
    }
    assert read == granted == {"live-index", "changes-index"}
