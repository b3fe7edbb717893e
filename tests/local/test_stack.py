"""The environment `make run` gives the API and the scheduler: snapshots on moto's S3, under .local-state."""

from __future__ import annotations

from local.stack import PROJECT_DIR, LocalStackConfig, app_environment


def test_the_app_gets_the_snapshot_bucket_queue_short_debounce_and_a_project_local_directory() -> None:
    config = LocalStackConfig(api_port=8123, stackone_api_key="sandbox_x")

    environment = app_environment(
        config,
        sync_queue_url="http://127.0.0.1:5001/123456789012/job-board-sync",
        snapshot_queue_url="http://127.0.0.1:5001/123456789012/job-board-snapshot",
        snapshot_bucket="job-board-snapshots",
        base={"BOARD_LOCAL_DIRECTORY": "/tmp/job-board", "AWS_ENDPOINT_URL_S3": "https://s3.example"},
    )

    assert environment["BOARD_SNAPSHOT_BUCKET"] == "job-board-snapshots"
    assert environment["BOARD_SNAPSHOT_QUEUE_URL"] == "http://127.0.0.1:5001/123456789012/job-board-snapshot"
    assert int(environment["BOARD_SNAPSHOT_DEBOUNCE_SECONDS"]) <= 5
    # Never /tmp: one directory per run (by API port) under the project's .local-state/.
    assert environment["BOARD_LOCAL_DIRECTORY"] == str(PROJECT_DIR / ".local-state" / "board" / "8123")
    # S3 goes to moto like every other service: no per-service endpoint survives from the caller.
    assert environment["AWS_ENDPOINT_URL"] == config.moto_url
    assert "AWS_ENDPOINT_URL_S3" not in environment
    assert environment["LOCAL_SNAPSHOT_INTERVAL_SECONDS"] == str(config.snapshot_interval_seconds)


def test_without_a_bucket_the_app_keeps_its_default_and_without_a_queue_requests_no_snapshots() -> None:
    environment = app_environment(LocalStackConfig(stackone_api_key="sandbox_x"), sync_queue_url="", base={})

    assert "BOARD_SNAPSHOT_BUCKET" not in environment
    assert environment["BOARD_SNAPSHOT_QUEUE_URL"] == ""


def test_the_snapshot_interval_is_read_from_the_environment() -> None:
    assert LocalStackConfig.from_env({}).snapshot_interval_seconds == 300
    assert (
        LocalStackConfig.from_env({"LOCAL_SNAPSHOT_INTERVAL_SECONDS": "20"}).snapshot_interval_seconds == 20
    )
