"""Shared fixtures: fake AWS (moto), the app's test client, and resets between tests; the test tiers.

Tiers (markers registered in pyproject.toml; docs/quality.md#test-tiers): a test joins `e2e`, `deploy` or
`long` by where it lives or by the fixtures it uses (`TIER_PATHS`, `TIER_FIXTURES`), so a new test in
those places needs no marker of its own. Everything else is the fast default tier.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Fake, inert credentials before anything can build a boto3 client; never touch a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "APP_STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "job-board",
        "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
        "POWERTOOLS_DEV": "false",
        "STACKONE_BASE_URL": "https://api.stackone.test",
        "EMBLOY_API_URL": "https://api.embloy.test",
        "EMBLOY_PORTAL_URL": "https://embloy.test",
        "PUBLIC_BASE_URL": "https://board.test",
        # Outside the local stage every name is required (settings fail closed).
        "BOARD_TABLE": "job-board",
        "IDEMPOTENCY_TABLE": "job-board-idempotency",
        "SYNC_QUEUE_NAME": "job-board-sync",
        "BOARD_SNAPSHOT_QUEUE_NAME": "job-board-snapshot",
        "EMAIL_QUEUE_NAME": "job-board-email",
        "EMAIL_EVENTS_TOPIC_NAME": "job-board-email-events",
        "NUMBERS_QUEUE_NAME": "job-board-numbers",
        "STACKONE_API_KEY_SECRET": "job-board/stackone-api-key",
        "STACKONE_WEBHOOK_SECRET": "job-board/stackone-webhook-secret",
        "CURSOR_SIGNING_SECRET": "job-board/cursor-signing-key",
        "EMBLOY_SECRET_PREFIX": "job-board/embloy/",
        "BOARD_SNAPSHOT_BUCKET": "job-board-snapshots",
        "RESUME_UPLOAD_BUCKET": "job-board-resume-uploads",
    }
)
os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)
for _name in list(os.environ):
    if _name.startswith("AWS_ENDPOINT_URL"):
        del os.environ[_name]

from aws_lambda_powertools.utilities import parameters  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import deps  # noqa: E402
from chalicelib.aws.table_schema import create_idempotency_table_kwargs, create_table_kwargs  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402

CURSOR_SIGNING_KEY = "test-cursor-signing-key"

# ---- Test tiers ---------------------------------------------------------------------------------------
# Paths under tests/ (a trailing "/" means the whole directory) and the tiers their tests belong to.
TIER_PATHS: dict[str, tuple[str, ...]] = {
    "e2e/": ("e2e",),  # Chromium, chalice local, the sandboxes and moto as processes
    "deploy/": ("deploy",),  # chalice package per stage, cfn-lint, the deployment guide against moto_server
    "jobs/test_packaged_handlers.py": ("deploy",),  # each function in a fresh interpreter, as Lambda runs it
    "soak/": ("long", "soak"),
    "quality/test_fuzz.py": ("long", "fuzz"),
    "quality/test_api_document.py": ("long", "fuzz"),  # schemathesis against the whole local stack
    "local/test_run.py": ("long",),  # `make run`: every process of the local stack
    "local/test_bootstrap.py": ("long",),  # the bootstrap against a moto_server process
}
# Fixtures that put any test using them in a tier, wherever the test lives.
TIER_FIXTURES: dict[str, tuple[str, ...]] = {
    "browser": ("e2e",),
    "packaged": ("deploy",),
    "fuzz_world": ("long", "fuzz"),
}
# Per-test timeouts (seconds) of the slower tiers, counting the fixtures a test is the first to set up (one
# `chalice package` can take minutes when it fetches wheels). The fast tier's default is `timeout` in
# pyproject.toml. `--timeout` or PYTEST_TIMEOUT overrides them all (`make soak`, `make fuzz`).
TIER_TIMEOUTS = {"e2e": 300.0, "deploy": 900.0, "long": 900.0}
TIER_MARKERS = frozenset({"e2e", "deploy", "long", "soak", "fuzz"})
TESTS_DIR = Path(__file__).resolve().parent


def _tiers(item: pytest.Item) -> set[str]:
    tiers = {mark.name for mark in item.iter_markers() if mark.name in TIER_MARKERS}
    relative = item.path.resolve().relative_to(TESTS_DIR).as_posix()
    for path, marks in TIER_PATHS.items():
        if relative == path or (path.endswith("/") and relative.startswith(path)):
            tiers.update(marks)
    for name in getattr(item, "fixturenames", ()):
        tiers.update(TIER_FIXTURES.get(name, ()))
    if tiers & {"soak", "fuzz"}:
        tiers.add("long")
    return tiers


# Directories whose tests share a session-scoped fixture (one Chromium; both `chalice package` runs and the
# `.chalice/deployments` cache they write; the loaded StackOne specs): under `--dist loadscope` each runs on
# one xdist worker, so the fixture is built once and never by two processes at the same time.
XDIST_SHARED_DIRS = ("tests/e2e/", "tests/deploy/", "tests/contract/")


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent under `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` (one module per unit of work, so module-scoped servers start once per module),
    with every test under an `XDIST_SHARED_DIRS` directory in one unit."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for directory in XDIST_SHARED_DIRS:
                if nodeid.startswith(directory):
                    return directory
            return str(super()._split_scope(nodeid))

    return SharedFixtureScheduling(config, log)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    timeout_given = config.getoption("timeout", None) is not None or bool(os.environ.get("PYTEST_TIMEOUT"))
    for item in items:
        tiers = _tiers(item)
        for tier in sorted(tiers):
            item.add_marker(tier)
        timeouts = [TIER_TIMEOUTS[tier] for tier in tiers if tier in TIER_TIMEOUTS]
        if timeouts and not timeout_given and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(max(timeouts)))


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Each test's board process unpacks snapshots into its own directory.
    monkeypatch.setenv("BOARD_LOCAL_DIRECTORY", str(tmp_path_factory.mktemp("board")))
    yield
    deps.reset_dependencies()
    get_settings.cache_clear()
    parameters.clear_caches()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS service, with the application and idempotency tables created."""
    # boto3's default session (the one `boto3.client(...)` uses) outlives the test: moto would otherwise
    # replace it in every test, and each new session parses botocore's service models again. The app's
    # own session (chalicelib.deps) is still built afresh in every test.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        import boto3

        client = boto3.client("dynamodb")
        settings = get_settings()
        client.create_table(**create_table_kwargs(settings.table_name))
        client.create_table(**create_idempotency_table_kwargs(settings.idempotency_table_name))
        s3 = boto3.client("s3")
        for bucket in (settings.board_snapshot_bucket, settings.resume_upload_bucket):
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_DEFAULT_REGION"]},  # type: ignore[typeddict-item]
            )
        boto3.client("secretsmanager").create_secret(
            Name=settings.cursor_secret_name, SecretString=CURSOR_SIGNING_KEY
        )
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """chalice.test.Client over the real app, on moto."""
    from chalice.test import Client

    from app import app

    # An undeclared stage: only the top-level environment of .chalice/config.json applies during requests.
    with Client(app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def employer(aws: None) -> tuple[str, str]:
    """(employer_id, api_key) of a freshly created employer."""
    created, api_key = deps.get_employer_service().create("Acme Robotics")
    return created.employer_id, api_key


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
