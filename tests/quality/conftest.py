"""The fuzz world: moto, the StackOne and Embloy sandboxes on 127.0.0.1, demo employers with API keys."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.quality.fuzz_support import FuzzWorld

STACKONE_KEY = "fuzz-stackone-key"
WEBHOOK_SECRET = "fuzz-webhook-secret"
FUZZ_STATS: dict[str, int] = {}
# The shared StackOne request budget's item: every StackOne call takes a slot, rejected requests too.
RATE_BUDGET_PREFIX = "RATE#"
# Successful AWS write calls ("service:Operation"), recorded by boto3 event hooks on the app's session.
AWS_WRITES: list[str] = []
WRITE_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateSecret",
        "PutSecretValue",
        "UpdateSecret",
        "DeleteSecret",
        "SendMessage",
        "SendMessageBatch",
    }
)


def record_aws_write(http_response: Any, model: Any, context: Any = None, **_: Any) -> None:
    if (context or {}).get("stackone_request_budget"):
        return  # a StackOne call took a slot of the shared request budget: bookkeeping, not data
    if model.name in WRITE_OPERATIONS and getattr(http_response, "status_code", 500) < 300:
        AWS_WRITES.append(f"{model.service_model.service_name}:{model.name}")


def mark_request_budget(params: Any, context: Any, **_: Any) -> None:
    if str((params.get("Key") or {}).get("PK", "")).startswith(RATE_BUDGET_PREFIX):
        context["stackone_request_budget"] = True


def watch_aws_writes() -> None:
    """Hook the app's boto3 session (rebuilt after every test's dependency reset)."""
    from chalicelib import deps

    events = deps.get_boto3_session().events
    events.register("provide-client-params.dynamodb.UpdateItem", mark_request_budget, unique_id="fuzz-budget")
    events.register("after-call", record_aws_write, unique_id="fuzz-writes")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | set | tuple):
        return sorted((_plain(v) for v in value), key=repr)
    return value


def _scan(table: Any) -> list[Any]:
    items: list[Any] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        budget = [item for item in page["Items"] if str(item.get("PK", "")).startswith(RATE_BUDGET_PREFIX)]
        items.extend(_plain(item) for item in page["Items"] if item not in budget)
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sync_board(demo_employers: Any, stackone: Any) -> list[str]:
    """Sync every demo account into the table; some live job ids per account and one closed job id."""
    from chalicelib import deps
    from chalicelib.aws.posting_items import item_to_posting

    def stored() -> list[Any]:
        items = deps.get_table().scan()["Items"]
        return [item_to_posting(item) for item in items if str(item.get("SK", "")).startswith("POSTING#")]

    service = deps.get_sync_service()
    for demo in demo_employers:
        report = service.sync_account(demo.account_id, "fuzz-setup", "full")
        assert report.outcome == "succeeded", report
    first = next(p for p in stored() if p.status == "live")
    stackone.state.close_posting(first.account_id, first.posting_id)
    assert service.sync_account(first.account_id, "fuzz-close", "full").closed == 1
    postings = stored()
    job_ids = []
    for demo in demo_employers:
        job_ids += sorted(
            p.job_id for p in postings if p.status == "live" and p.account_id == demo.account_id
        )[:3]
    assert job_ids, "the fuzz world has no live postings"
    return [*job_ids, first.job_id]


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[FuzzWorld]:
    """One world per module: building it (and syncing the board) is the slow part, fuzzing is not."""
    from moto import mock_aws

    from sandbox.demo_employers import DEMO_EMPLOYERS
    from sandbox.embloy import start_embloy_sandbox
    from sandbox.embloy.tokens import demo_client_token
    from sandbox.stackone import start_stackone_sandbox

    stackone = start_stackone_sandbox(api_key=STACKONE_KEY)
    embloy = start_embloy_sandbox()
    saved_env = dict(os.environ)
    os.environ.update(
        {
            "STACKONE_BASE_URL": stackone.base_url,
            "EMBLOY_API_URL": embloy.base_url,
            "EMBLOY_PORTAL_URL": embloy.base_url,
            "SYNC_QUEUE_URL": "",
        }
    )
    try:
        with mock_aws():
            import boto3

            from chalicelib import deps
            from chalicelib.services.webhooks import sign
            from chalicelib.settings import get_settings
            from tests.soak.world import provision_aws

            queue_url, _ = provision_aws(STACKONE_KEY, WEBHOOK_SECRET)
            settings = get_settings()

            service = deps.get_employer_service()
            api_keys = []
            for demo in DEMO_EMPLOYERS[:2]:
                _, key = service.create(demo.name, employer_id=demo.employer_id)
                api_keys.append(key)

            job_ids = sync_board(DEMO_EMPLOYERS, stackone)
            # The first demo employer can apply with Embloy (a token the Embloy sandbox accepts).
            deps.get_embloy_token_service().upload(
                DEMO_EMPLOYERS[0].employer_id, demo_client_token(DEMO_EMPLOYERS[0].employer_id)
            )

            resource = boto3.resource("dynamodb")
            tables = [resource.Table(settings.table_name), resource.Table(settings.idempotency_table_name)]
            sqs = boto3.client("sqs")
            secrets = boto3.client("secretsmanager")

            full = os.environ.get("FUZZ_FULL_SNAPSHOT") == "1"

            def snapshot() -> Any:
                # Cheap by default: successful AWS writes (boto3 hooks) and StackOne writes; `make fuzz`
                # also compares every table item, secret and queue count before and after.
                stats = stackone.state.stats()
                writes = {k: v for k, v in stats["by_path"].items() if not k.startswith("GET ")}
                cheap = {
                    "aws_writes": list(AWS_WRITES),
                    "stackone_writes": writes,
                    "stackone_applications": stats["applications"],
                }
                if not full:
                    return cheap
                attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
                    "Attributes"
                ]
                return {
                    **cheap,
                    "tables": [_scan(table) for table in tables],
                    "secrets": sorted(
                        (s["Name"], s.get("LastChangedDate")) for s in secrets.list_secrets()["SecretList"]
                    ),
                    "queue": (
                        attributes["ApproximateNumberOfMessages"],
                        attributes.get("ApproximateNumberOfMessagesNotVisible"),
                    ),
                }

            path_values = {
                "account_id": [demo.account_id for demo in DEMO_EMPLOYERS],
                "job_id": job_ids,
                "name": ["board.js", "app.css", "api.js", "favicon.svg"],
            }
            world = FuzzWorld(
                path_values=path_values,
                api_keys=api_keys,
                snapshot=snapshot,
                signers={"x-stackone-signature": lambda raw: sign(WEBHOOK_SECRET, raw)},
            )
            yield world
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        stackone.stop()
        embloy.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.quality.test_api_document import DOCUMENT_FIGURES

    if DOCUMENT_FIGURES:
        figures = DOCUMENT_FIGURES
        terminalreporter.write_line(
            f"API document (schemathesis over HTTP): {figures['requests']} requests over "
            f"{figures['operations_tested']} operations, {figures['unique_failures']} failures; "
            f"statuses {figures['statuses']}; {figures['examples_per_operation']} examples per operation, "
            f"seed {figures['seed']}, {figures['seconds']} s"
        )
    if FUZZ_STATS:
        total = FUZZ_STATS.get("examples", 0)
        by_status = {k: v for k, v in sorted(FUZZ_STATS.items()) if k.startswith("status_")}
        terminalreporter.write_line(
            f"API fuzz: {total} requests, {FUZZ_STATS.get('rejected', 0)} rejected (4xx), "
            f"{FUZZ_STATS.get('server_errors', 0)} 5xx; {by_status}; "
            f"rejected-unchanged checks: {FUZZ_STATS.get('rejected_checked', 0)}; "
            f"AWS writes observed: {len(AWS_WRITES)}"
        )
