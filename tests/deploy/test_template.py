"""The packaged template: what the merge template adds, wired to what the functions read."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from typing import Any

import pytest

from chalicelib.aws.table_schema import (
    TTL_ATTRIBUTE,
    create_idempotency_table_kwargs,
    create_table_kwargs,
)
from deploy.render import invocations_uri
from tests.deploy.conftest import BIN_DIR, PackagedStage
from tests.deploy.template_helpers import FUNCTION_NAME_SUFFIXES, FUNCTIONS, resolve


def _env(packaged: PackagedStage, name: str) -> str:
    return packaged.deployment.environment[name]


def _sorted(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def test_template_passes_cfn_lint_without_errors_or_warnings(packaged: PackagedStage) -> None:
    result = subprocess.run(
        [str(BIN_DIR / "cfn-lint"), str(packaged.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_has_exactly_the_app_functions_the_policies_are_written_for(packaged: PackagedStage) -> None:
    functions = {
        name
        for name, resource in packaged.resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert functions == set(FUNCTIONS.values())


def test_application_table_matches_the_table_schema(packaged: PackagedStage) -> None:
    table = packaged.resources["BoardTable"]
    properties = table["Properties"]
    expected = create_table_kwargs(_env(packaged, "BOARD_TABLE"))

    assert table["Type"] == "AWS::DynamoDB::Table"
    assert resolve(packaged.template, properties["TableName"]) == expected["TableName"]
    assert properties["BillingMode"] == expected["BillingMode"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert _sorted(properties["AttributeDefinitions"]) == _sorted(expected["AttributeDefinitions"])
    assert _sorted(properties["GlobalSecondaryIndexes"]) == _sorted(expected["GlobalSecondaryIndexes"])
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    # Kept when the stack goes, but not after a failed first creation (its name would block the retry).
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_idempotency_table_matches_the_powertools_layout(packaged: PackagedStage) -> None:
    properties = packaged.resources["IdempotencyTable"]["Properties"]
    expected = create_idempotency_table_kwargs(_env(packaged, "IDEMPOTENCY_TABLE"))

    assert resolve(packaged.template, properties["TableName"]) == expected["TableName"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert properties["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert properties["BillingMode"] == expected["BillingMode"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_functions_read_the_names_of_the_resources_the_stack_creates(packaged: PackagedStage) -> None:
    resources = packaged.resources
    created = {
        "IDEMPOTENCY_TABLE": resources["IdempotencyTable"]["Properties"]["TableName"],
        "SYNC_QUEUE_NAME": resources["SyncQueue"]["Properties"]["QueueName"],
        "BOARD_SNAPSHOT_QUEUE_NAME": resources["SnapshotQueue"]["Properties"]["QueueName"],
        "STACKONE_API_KEY_SECRET": resources["StackOneApiKeySecret"]["Properties"]["Name"],
        "STACKONE_WEBHOOK_SECRET": resources["WebhookSecret"]["Properties"]["Name"],
        "CURSOR_SIGNING_SECRET": resources["CursorSigningSecret"]["Properties"]["Name"],
        "EMAIL_QUEUE_NAME": resources["EmailQueue"]["Properties"]["QueueName"],
        "EMAIL_EVENTS_TOPIC_NAME": resources["EmailEventsTopic"]["Properties"]["TopicName"],
        "NUMBERS_QUEUE_NAME": resources["NumbersQueue"]["Properties"]["QueueName"],
    }
    for logical_id in FUNCTIONS.values():
        variables = resources[logical_id]["Properties"]["Environment"]["Variables"]
        for variable, name in created.items():
            assert variables[variable] == resolve(packaged.template, name), (logical_id, variable)
        assert variables["APP_STAGE"] == packaged.deployment.stage
        # The stack's table, unless the BoardTableName parameter names another (a restore).
        condition, restored, own = variables["BOARD_TABLE"]["Fn::If"]
        assert (condition, restored) == ("UsesRestoredBoardTable", {"Ref": "BoardTableName"})
        assert resolve(packaged.template, own) == resolve(
            packaged.template, resources["BoardTable"]["Properties"]["TableName"]
        )
        # Queue URLs, the bucket's generated name and the public URL only exist at deploy time: wired
        # for every function through the template's globals.
        for deploy_time in (
            "SYNC_QUEUE_URL",
            "BOARD_SNAPSHOT_QUEUE_URL",
            "BOARD_SNAPSHOT_BUCKET",
            "PUBLIC_BASE_URL",
            "EMAIL_QUEUE_URL",
            "EMAIL_FROM_ADDRESS",
            "SES_CONFIGURATION_SET",
            "NUMBERS_QUEUE_URL",
        ):
            assert deploy_time not in variables, (logical_id, deploy_time)
    global_variables = packaged.template["Globals"]["Function"]["Environment"]["Variables"]
    assert global_variables["SYNC_QUEUE_URL"] == {"Ref": "SyncQueue"}
    assert global_variables["BOARD_SNAPSHOT_QUEUE_URL"] == {"Ref": "SnapshotQueue"}
    assert global_variables["BOARD_SNAPSHOT_BUCKET"] == {"Ref": "SnapshotBucket"}
    assert global_variables["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert global_variables["EMAIL_QUEUE_URL"] == {"Ref": "EmailQueue"}
    assert global_variables["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}
    assert global_variables["NUMBERS_QUEUE_URL"] == {"Ref": "NumbersQueue"}
    # The From address: the parameter, or jobs@ the sending domain when it is left empty.
    assert global_variables["EMAIL_FROM_ADDRESS"] == {
        "Fn::If": ["HasEmailFromAddress", {"Ref": "EmailFromAddress"}, {"Fn::Sub": "jobs@${EmailDomain}"}]
    }
    # The prefix the functions read is the one the IAM grants and the lifecycle rule are scoped to.
    prefix = packaged.template["Mappings"]["Board"]["Names"]["SnapshotPrefix"]
    assert prefix == _env(packaged, "BOARD_SNAPSHOT_PREFIX")


def test_worker_consumes_the_stack_queue_one_message_at_a_time(packaged: PackagedStage) -> None:
    worker = packaged.resources["SyncAccount"]["Properties"]
    (event,) = worker["Events"].values()

    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${SyncQueue.Arn}"}
    assert event["Properties"]["BatchSize"] == 1
    reserved = packaged.function_config("sync_account")["reserved_concurrency"]
    assert worker["ReservedConcurrentExecutions"] == reserved
    # The poller never invokes more workers than are reserved, so no message is throttled back.
    maximum = resolve(packaged.template, event["Properties"]["ScalingConfig"]["MaximumConcurrency"])
    assert int(maximum) == reserved
    queue_name = resolve(packaged.template, packaged.resources["SyncQueue"]["Properties"]["QueueName"])
    assert queue_name == _env(packaged, "SYNC_QUEUE_NAME")


def test_sync_queue_outlives_the_worker_timeout_and_redrives_to_a_dead_letter_queue(
    packaged: PackagedStage,
) -> None:
    queue = packaged.resources["SyncQueue"]["Properties"]
    worker_timeout = packaged.resources["SyncAccount"]["Properties"]["Timeout"]

    assert int(resolve(packaged.template, queue["VisibilityTimeout"])) >= 6 * worker_timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]}
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 5
    dead_letter = packaged.resources["SyncDeadLetterQueue"]["Properties"]
    assert dead_letter["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    # The worker's own time budget ends before Lambda kills it, so a run can record its outcome.
    assert float(_env(packaged, "SYNC_TIME_BUDGET_SECONDS")) < worker_timeout


def test_snapshot_bucket_is_private_encrypted_unversioned_and_expires_old_snapshots(
    packaged: PackagedStage,
) -> None:
    bucket = packaged.resources["SnapshotBucket"]
    properties = bucket["Properties"]

    assert bucket["Type"] == "AWS::S3::Bucket"
    # S3 names are global: CloudFormation names the bucket, the functions get it through `Ref`.
    assert "BucketName" not in properties
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "VersioningConfiguration" not in properties
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert resolve(packaged.template, rule["Prefix"]) == _env(packaged, "BOARD_SNAPSHOT_PREFIX")
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # A working builder replaces the current snapshot every schedule period: far younger than the expiry.
    schedule_minutes = int(_env(packaged, "BOARD_SNAPSHOT_SCHEDULE_MINUTES"))
    assert rule["ExpirationInDays"] * 24 * 60 >= 24 * schedule_minutes
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"

    policy = packaged.resources["SnapshotBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "SnapshotBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_snapshot_builds_run_on_the_stage_schedule_and_one_at_a_time_from_the_snapshot_queue(
    packaged: PackagedStage,
) -> None:
    from chalice.app import SQSEventConfig

    from app import app

    (schedule,) = packaged.resources["BuildBoardSnapshot"]["Properties"]["Events"].values()
    minutes = int(_env(packaged, "BOARD_SNAPSHOT_SCHEDULE_MINUTES"))
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == f"rate({minutes} minutes)"

    requested = packaged.resources["BoardSnapshotRequested"]["Properties"]
    (event,) = requested["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${SnapshotQueue.Arn}"}
    (source,) = (
        s for s in app.event_sources if isinstance(s, SQSEventConfig) and s.name == "board_snapshot_requested"
    )
    assert event["Properties"]["BatchSize"] == source.batch_size
    # One build at a time; the event source cannot poll with fewer than 2, hence the redrive headroom.
    assert requested["ReservedConcurrentExecutions"] == 1
    assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] == 2

    queue = packaged.resources["SnapshotQueue"]["Properties"]
    assert resolve(packaged.template, queue["QueueName"]) == _env(packaged, "BOARD_SNAPSHOT_QUEUE_NAME")
    assert int(resolve(packaged.template, queue["VisibilityTimeout"])) >= 6 * requested["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["SnapshotDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5
    dead_letter = packaged.resources["SnapshotDeadLetterQueue"]["Properties"]
    assert dead_letter["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    # The sync workers' delivery delay fits SQS's limit.
    assert 0 <= int(_env(packaged, "BOARD_SNAPSHOT_DEBOUNCE_SECONDS")) <= 900


def test_email_sender_drains_the_email_queue_in_batches_within_its_reserved_concurrency(
    packaged: PackagedStage,
) -> None:
    from chalice.app import SQSEventConfig

    from app import app

    sender = packaged.resources["SendEmail"]["Properties"]
    (event,) = sender["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${EmailQueue.Arn}"}
    (source,) = (s for s in app.event_sources if isinstance(s, SQSEventConfig) and s.name == "send_email")
    assert event["Properties"]["BatchSize"] == source.batch_size == 10
    # Few senders share the SES rate; the poller never invokes more than are reserved.
    reserved = packaged.function_config("send_email")["reserved_concurrency"]
    assert sender["ReservedConcurrentExecutions"] == reserved
    maximum = resolve(packaged.template, event["Properties"]["ScalingConfig"]["MaximumConcurrency"])
    assert int(maximum) == reserved

    queue = packaged.resources["EmailQueue"]["Properties"]
    assert resolve(packaged.template, queue["QueueName"]) == _env(packaged, "EMAIL_QUEUE_NAME")
    assert int(resolve(packaged.template, queue["VisibilityTimeout"])) == 6 * sender["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["EmailDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["SqsManagedSseEnabled"] is True
    dead_letter = packaged.resources["EmailDeadLetterQueue"]["Properties"]
    assert resolve(packaged.template, dead_letter["QueueName"]) == f"{_env(packaged, 'EMAIL_QUEUE_NAME')}-dlq"
    assert dead_letter["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_the_counter_drains_the_numbers_queue_in_windowed_batches_within_its_reserved_concurrency(
    packaged: PackagedStage,
) -> None:
    from chalice.app import SQSEventConfig

    from app import app

    counter = packaged.resources["CountEvents"]["Properties"]
    (event,) = counter["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${NumbersQueue.Arn}"}
    (source,) = (s for s in app.event_sources if isinstance(s, SQSEventConfig) and s.name == "count_events")
    # Events gather for up to the window into batches of up to 1,000: fewer, larger sums per write; the
    # window keeps counts visible within 5 minutes.
    window = int(_env(packaged, "NUMBERS_BATCH_WINDOW_SECONDS"))
    assert event["Properties"]["BatchSize"] == source.batch_size == 1000
    assert event["Properties"]["MaximumBatchingWindowInSeconds"] == window == 180
    reserved = packaged.function_config("count_events")["reserved_concurrency"]
    assert counter["ReservedConcurrentExecutions"] == reserved
    maximum = resolve(packaged.template, event["Properties"]["ScalingConfig"]["MaximumConcurrency"])
    assert int(maximum) == reserved

    queue = packaged.resources["NumbersQueue"]["Properties"]
    assert resolve(packaged.template, queue["QueueName"]) == _env(packaged, "NUMBERS_QUEUE_NAME")
    assert int(resolve(packaged.template, queue["VisibilityTimeout"])) == 6 * counter["Timeout"] + window
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["NumbersDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["SqsManagedSseEnabled"] is True
    dead_letter = packaged.resources["NumbersDeadLetterQueue"]["Properties"]
    assert (
        resolve(packaged.template, dead_letter["QueueName"]) == f"{_env(packaged, 'NUMBERS_QUEUE_NAME')}-dlq"
    )
    assert dead_letter["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    alarms = {
        name: r["Properties"]
        for name, r in packaged.resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert alarms["NumbersDeadLetterAlarm"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["NumbersDeadLetterQueue", "QueueName"]}}
    ]


def test_alert_digests_run_on_the_stage_schedule_one_at_a_time_and_finish_before_lambda_stops_them(
    packaged: PackagedStage,
) -> None:
    digests = packaged.resources["SendAlertDigests"]["Properties"]
    (event,) = digests["Events"].values()
    minutes = int(_env(packaged, "ALERT_DIGEST_SCHEDULE_MINUTES"))
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == f"rate({minutes} minutes)"
    # Two runs side by side would queue and advance the same due alerts.
    assert digests["ReservedConcurrentExecutions"] == 1
    # No new chunk starts after the time budget; the chunks already queued finish within the margin.
    assert float(_env(packaged, "ALERT_DIGEST_TIME_BUDGET_SECONDS")) + 60 <= digests["Timeout"]
    # A run ends before the next tick, so a tick never finds the one reserved instance busy.
    assert digests["Timeout"] < minutes * 60
    # It opens the same board as the API handler: the snapshot in /tmp, the engine in memory.
    api = packaged.resources["APIHandler"]["Properties"]
    assert digests["EphemeralStorage"] == api["EphemeralStorage"]
    assert digests["MemorySize"] >= api["MemorySize"]


def test_employer_digests_run_daily_at_the_cron_the_app_declares(packaged: PackagedStage) -> None:
    from chalicelib.jobs.employer_digest import DIGEST_CRON

    (event,) = packaged.resources["SendEmployerDigests"]["Properties"]["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == DIGEST_CRON.to_string() == "cron(0 6 * * ? *)"


def test_sending_identity_is_the_domain_parameter_with_easy_dkim_and_the_configuration_set(
    packaged: PackagedStage,
) -> None:
    resources = packaged.resources
    identity = resources["EmailIdentity"]
    assert identity["Type"] == "AWS::SES::EmailIdentity"
    properties = identity["Properties"]
    assert properties["EmailIdentity"] == {"Ref": "EmailDomain"}
    assert properties["DkimAttributes"] == {"SigningEnabled": True}
    assert properties["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert properties["ConfigurationSetAttributes"] == {
        "ConfigurationSetName": {"Ref": "EmailConfigurationSet"}
    }

    configuration_set = resources["EmailConfigurationSet"]
    assert configuration_set["Type"] == "AWS::SES::ConfigurationSet"
    assert configuration_set["Properties"]["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert configuration_set["Properties"]["SuppressionOptions"] == {
        "SuppressedReasons": ["BOUNCE", "COMPLAINT"]
    }
    # The DKIM records to publish are stack outputs, one CNAME each.
    for number in (1, 2, 3):
        value = packaged.template["Outputs"][f"EmailDkimRecord{number}"]["Value"]["Fn::Sub"]
        assert value == (
            f"${{EmailIdentity.DkimDNSTokenName{number}}} CNAME ${{EmailIdentity.DkimDNSTokenValue{number}}}"
        )


def test_bounces_and_complaints_reach_email_events_through_a_topic_only_ses_may_publish_to(
    packaged: PackagedStage,
) -> None:
    from chalice.app import SNSEventConfig

    from app import app

    resources = packaged.resources
    destination = resources["EmailEventDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "EmailConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["SnsDestination"] == {"TopicARN": {"Ref": "EmailEventsTopic"}}

    # The function subscribes to that topic, which carries the name the app was packaged with.
    (event,) = resources["EmailEvents"]["Properties"]["Events"].values()
    assert event["Type"] == "SNS"
    assert event["Properties"]["Topic"] == {"Fn::Sub": "${EmailEventsTopic}"}
    (source,) = (s for s in app.event_sources if isinstance(s, SNSEventConfig))
    topic_name = resolve(packaged.template, resources["EmailEventsTopic"]["Properties"]["TopicName"])
    assert topic_name == _env(packaged, "EMAIL_EVENTS_TOPIC_NAME")
    assert source.name == "email_events"

    policy = resources["EmailEventsTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "EmailEventsTopic"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "EmailEventsTopic"}
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": {"Ref": "AWS::AccountId"},
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                ":configuration-set/${EmailConfigurationSet}"
            },
        }
    }
    # SES starts publishing only once the policy lets it.
    assert resources["EmailEventDestination"]["DependsOn"] == "EmailEventsTopicPolicy"


@pytest.mark.parametrize(
    ("parameter", "value", "accepted"),
    [
        ("EmailDomain", "jobs.example.com", True),
        ("EmailDomain", "example.co.uk", True),
        ("EmailDomain", "Jobs.Example.com", False),
        ("EmailDomain", "localhost", False),
        ("EmailDomain", "https://jobs.example.com", False),
        ("EmailFromAddress", "", True),
        ("EmailFromAddress", "jobs@jobs.example.com", True),
        ("EmailFromAddress", "Example Jobs <jobs@jobs.example.com>", True),
        ("EmailFromAddress", "Example Jobs jobs@jobs.example.com", False),
        ("EmailFromAddress", "<jobs@jobs.example.com>", False),
    ],
)
def test_email_parameters_refuse_what_ses_could_not_send_from(
    packaged: PackagedStage, parameter: str, value: str, accepted: bool
) -> None:
    spec = packaged.template["Parameters"][parameter]
    # CloudFormation matches the whole value (Java regex; these patterns read the same in Python).
    matched = re.fullmatch(spec["AllowedPattern"], value) is not None
    fits = spec.get("MinLength", 0) <= len(value) <= spec.get("MaxLength", 4096)
    assert (matched and fits) is accepted


def test_ephemeral_storage_comes_from_the_stage_config(packaged: PackagedStage) -> None:
    for function, logical_id in FUNCTIONS.items():
        configured = packaged.function_config(function).get("ephemeral_storage_mb")
        properties = packaged.resources[logical_id]["Properties"]
        if configured is None:
            assert "EphemeralStorage" not in properties, function
        else:
            assert properties["EphemeralStorage"] == {"Size": configured}, function
    # The API handler keeps a copy of the current snapshot in /tmp (and a second one while switching).
    assert packaged.resources["APIHandler"]["Properties"]["EphemeralStorage"]["Size"] >= 1024


def test_secrets_are_placeholders_never_values(packaged: PackagedStage) -> None:
    for logical_id, variable in (
        ("StackOneApiKeySecret", "STACKONE_API_KEY_SECRET"),
        ("WebhookSecret", "STACKONE_WEBHOOK_SECRET"),
    ):
        secret = packaged.resources[logical_id]
        assert secret["Type"] == "AWS::SecretsManager::Secret"
        assert resolve(packaged.template, secret["Properties"]["Name"]) == _env(packaged, variable)
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" in secret["Properties"]


def test_alarms_watch_the_dead_letter_queues_and_sync_and_build_failures(packaged: PackagedStage) -> None:
    resources = packaged.resources
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    dead_letter = alarms["SyncDeadLetterAlarm"]
    assert dead_letter["Namespace"] == "AWS/SQS"
    assert dead_letter["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}}
    ]
    failed = alarms["SyncAccountsFailedAlarm"]
    assert resolve(packaged.template, failed["Namespace"]) == _env(packaged, "POWERTOOLS_METRICS_NAMESPACE")
    assert failed["MetricName"] == "AccountsFailed"
    (service,) = failed["Dimensions"]
    assert resolve(packaged.template, service["Value"]) == _env(packaged, "POWERTOOLS_SERVICE_NAME")
    assert alarms["SyncAccountErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": "SyncAccount"}
    assert alarms["SnapshotDeadLetterAlarm"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SnapshotDeadLetterQueue", "QueueName"]}}
    ]
    assert alarms["BuildBoardSnapshotErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": "BuildBoardSnapshot"}
    assert alarms["BoardSnapshotRequestedErrorsAlarm"]["Dimensions"][0]["Value"] == {
        "Ref": "BoardSnapshotRequested"
    }
    assert alarms["EmailDeadLetterAlarm"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["EmailDeadLetterQueue", "QueueName"]}}
    ]
    assert alarms["SendEmailErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": "SendEmail"}
    assert alarms["EmailEventsErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": "EmailEvents"}
    for logical_id in ("SendAlertDigests", "SendEmployerDigests"):
        assert alarms[f"{logical_id}ErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": logical_id}
    # Every function that runs off the request path (schedule, queue, topic) has an errors alarm.
    watched = {
        alarm["Dimensions"][0]["Value"]["Ref"]
        for alarm in alarms.values()
        if alarm.get("Namespace") == "AWS/Lambda" and alarm["MetricName"] == "Errors"
    }
    for function, logical_id in FUNCTIONS.items():
        if resources[logical_id]["Properties"].get("Events"):
            assert logical_id in watched, function
    # The API is named after the stack, so a 5xx alarm never mixes two stages in one account
    # (tests/deploy/test_alarms.py checks the rate).
    assert resources["RestAPI"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_schedule_rate_comes_from_the_stage_config(packaged: PackagedStage) -> None:
    (event,) = packaged.resources["SyncAll"]["Properties"]["Events"].values()
    minutes = int(_env(packaged, "SYNC_SCHEDULE_MINUTES"))
    assert event["Properties"]["Schedule"] == f"rate({minutes} minutes)"


def test_memory_and_timeouts_come_from_the_stage_config(packaged: PackagedStage) -> None:
    for function, logical_id in FUNCTIONS.items():
        configured = packaged.function_config(function)
        properties = packaged.resources[logical_id]["Properties"]
        assert properties["MemorySize"] == configured["lambda_memory_size"], function
        assert properties["Timeout"] == configured["lambda_timeout"], function
        assert properties["FunctionName"] == {
            "Fn::Sub": f"${{AWS::StackName}}-{FUNCTION_NAME_SUFFIXES[function]}"
        }
    # API Gateway gives up after 29 s; the API handler must not run longer than a caller waits.
    assert packaged.resources["APIHandler"]["Properties"]["Timeout"] < 29


def test_function_names_fit_lambdas_limit_with_the_documented_stack_name_length() -> None:
    # docs/deployment.md: stack names of up to 44 characters; Lambda function names have at most 64.
    longest = max(len(suffix) for suffix in FUNCTION_NAME_SUFFIXES.values())
    assert 44 + len("-") + longest <= 64


def test_every_function_logs_to_a_retained_log_group_of_its_own(packaged: PackagedStage) -> None:
    groups = [
        resource
        for logical_id, resource in packaged.resources.items()
        # The API's access log group is not a function's (tests/deploy/test_operations.py).
        if resource["Type"] == "AWS::Logs::LogGroup" and logical_id != "ApiAccessLogGroup"
    ]
    names = sorted(group["Properties"]["LogGroupName"]["Fn::Sub"] for group in groups)
    assert names == sorted(f"/aws/lambda/${{{logical_id}}}" for logical_id in FUNCTIONS.values())
    for group in groups:
        assert (
            group["Properties"]["RetentionInDays"]
            == packaged.config["stages"][packaged.deployment.stage]["log_retention_in_days"]
        )


def test_api_stage_is_throttled(packaged: PackagedStage) -> None:
    (settings,) = packaged.resources["RestAPI"]["Properties"]["MethodSettings"]
    assert settings["ResourcePath"] == "/*"
    assert settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}


def test_api_compresses_responses_over_a_kilobyte(packaged: PackagedStage) -> None:
    # Pages, the board JSON and the scripts shrink to about a third when the client accepts gzip.
    assert packaged.resources["RestAPI"]["Properties"]["MinimumCompressionSize"] == 1024


def test_gateway_errors_use_the_api_error_shape(packaged: PackagedStage) -> None:
    body = packaged.resources["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]

    assert {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["UNAUTHORIZED"]["statusCode"] == 401
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404
    for name, response in responses.items():
        rendered = response["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"Gateway message"'
        )
        error = json.loads(rendered)["error"]
        assert isinstance(error["code"], str), name
        assert isinstance(error["message"], str), name


def test_gateway_answers_carry_hsts_and_security_headers_and_are_never_stored(
    packaged: PackagedStage,
) -> None:
    body = packaged.resources["RestAPI"]["Properties"]["DefinitionBody"]

    for name, response in body["x-amazon-apigateway-gateway-responses"].items():
        parameters = response["responseParameters"]
        assert parameters["gatewayresponse.header.Strict-Transport-Security"] == (
            "'max-age=63072000; includeSubDomains'"
        ), name
        assert parameters["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'", name
        assert parameters["gatewayresponse.header.Cache-Control"] == "'no-store'", name


def test_every_get_path_answers_head_and_every_other_method_reaches_the_app(packaged: PackagedStage) -> None:
    from app import app

    paths = packaged.resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    # The API handler's `live` alias (tests/deploy/test_versions.py).
    handler_uri = invocations_uri("APIHandler")

    assert set(paths) == set(app.routes)
    for path, methods in paths.items():
        if "get" in methods:
            # HEAD runs the GET's view (and its authorizer): headers without the body.
            assert methods["head"]["x-amazon-apigateway-integration"]["uri"] == handler_uri, path
            assert methods["head"].get("security") == methods["get"].get("security"), path
        # A method the path does not have reaches the app, which answers 405 with Allow (not a 404).
        integration = methods["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert (integration["type"], integration["uri"]) == ("aws_proxy", handler_uri), path
        parameters = {p["name"] for p in methods["x-amazon-apigateway-any-method"].get("parameters", [])}
        assert parameters == set(re.findall(r"\{([^}]+)\}", path)), path


_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:gov-)?[a-z]+-\d\b")


def test_nothing_is_hard_coded_to_an_account_or_region(packaged: PackagedStage) -> None:
    text = packaged.template_path.read_text()
    assert not _ACCOUNT_ID.findall(text)
    assert not _REGION.findall(text)
    assert ":aws:" not in text  # partitions come from ${AWS::Partition}


# Lambda's python3.11 runtime (Amazon Linux 2) has glibc 2.26 on x86_64.
_LAMBDA_GLIBC = (2, 26)
_ELF_MACHINE_X86_64 = 62


@pytest.mark.parametrize(
    ("package", "library_prefix"),
    [("tantivy", "tantivy/"), ("pyroaring", "pyroaring."), ("zstandard", "zstandard/backend_c.")],
)
def test_the_deployment_zip_carries_the_board_engines_binaries_built_for_lambda(
    packaged: PackagedStage, package: str, library_prefix: str
) -> None:
    with zipfile.ZipFile(packaged.template_path.parent / "deployment.zip") as bundle:
        names = bundle.namelist()
        (wheel_file,) = [n for n in names if re.fullmatch(rf"{package}-[^/]+\.dist-info/WHEEL", n)]
        lines = bundle.read(wheel_file).decode().splitlines()
        (library,) = [n for n in names if n.startswith(library_prefix) and n.endswith(".so")]
        header = bundle.read(library)[:20]
    tags = [line.removeprefix("Tag:").strip() for line in lines if line.startswith("Tag:")]

    def fits_lambda(tag: str) -> bool:
        interpreter, abi, platform = tag.split("-")
        python = interpreter == "cp311" and abi == "cp311"
        # The stable ABI of any CPython 3 up to 3.11 loads in 3.11.
        stable = (
            abi == "abi3" and re.fullmatch(r"cp3\d+", interpreter) is not None and int(interpreter[3:]) <= 11
        )
        glibc = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
        return (python or stable) and glibc is not None and (int(glibc[1]), int(glibc[2])) <= _LAMBDA_GLIBC

    assert any(fits_lambda(tag) for tag in tags), tags
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == _ELF_MACHINE_X86_64


@pytest.mark.parametrize("package", ["itsdangerous", "cachetools"])
def test_the_deployment_zip_carries_the_pure_python_runtime_packages(
    packaged: PackagedStage, package: str
) -> None:
    with zipfile.ZipFile(packaged.template_path.parent / "deployment.zip") as bundle:
        names = bundle.namelist()
    assert f"{package}/__init__.py" in names
    assert any(re.fullmatch(rf"{package}-[^/]+\.dist-info/METADATA", n) for n in names)
