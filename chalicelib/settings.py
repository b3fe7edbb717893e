"""The one settings object: environment variables set by `.chalice/config.json` stages, read lazily."""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob the app reads. Secrets are never values here, only Secrets Manager names."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    stage: str = Field("local", alias="APP_STAGE")
    board_name: str = Field("Unified Job Board", alias="BOARD_NAME")
    # Public URL of the board's frontend: job pages, feeds and Embloy success/cancel URLs derive from it.
    public_base_url: str = Field("http://127.0.0.1:8000/board", alias="PUBLIC_BASE_URL")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="CORS_ORIGINS")

    # AWS resources (names only; endpoints come from boto3's AWS_ENDPOINT_URL* variables).
    table_name: str = Field("job-board", alias="BOARD_TABLE")
    idempotency_table_name: str = Field("job-board-idempotency", alias="IDEMPOTENCY_TABLE")
    sync_queue_url: str = Field("", alias="SYNC_QUEUE_URL")
    # Read when the app module is imported (decorators need them at deploy time): `chalice package`
    # imports the app with the stage's environment variables.
    sync_queue_name: str = Field("job-board-sync", alias="SYNC_QUEUE_NAME")
    sync_schedule_minutes: int = Field(15, alias="SYNC_SCHEDULE_MINUTES")
    stackone_api_key_secret_name: str = Field("job-board/stackone-api-key", alias="STACKONE_API_KEY_SECRET")
    webhook_secret_name: str = Field("job-board/stackone-webhook-secret", alias="STACKONE_WEBHOOK_SECRET")
    embloy_secret_prefix: str = Field("job-board/embloy/", alias="EMBLOY_SECRET_PREFIX")
    secrets_max_age_seconds: int = Field(300, alias="SECRETS_MAX_AGE_SECONDS")

    # StackOne.
    stackone_base_url: str = Field("https://api.stackone.com", alias="STACKONE_BASE_URL")
    stackone_timeout_seconds: float = Field(20.0, alias="STACKONE_TIMEOUT_SECONDS")
    allowed_providers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["greenhouse", "ashby", "workday", "lever", "smartrecruiters", "bamboohr"],
        alias="ALLOWED_PROVIDERS",
    )
    connect_session_expires_in: int = Field(1800, alias="CONNECT_SESSION_EXPIRES_IN")

    # Employers.
    # How long a process trusts a verified API key without asking DynamoDB again. A revoked key keeps
    # working for at most this long plus the API Gateway authorizer cache (`AUTHORIZER_TTL_SECONDS`
    # in chalicelib/api/auth.py).
    api_key_cache_seconds: float = Field(30.0, alias="API_KEY_CACHE_SECONDS")
    # "Sync now" may be requested at most once per this interval per linked account.
    sync_now_min_interval_seconds: int = Field(60, alias="SYNC_NOW_MIN_INTERVAL_SECONDS")

    # Sync.
    sync_page_size: int = Field(100, alias="SYNC_PAGE_SIZE")
    sync_overlap_seconds: int = Field(600, alias="SYNC_OVERLAP_SECONDS")
    sync_full_every_n_runs: int = Field(24, alias="SYNC_FULL_EVERY_N_RUNS")
    sync_full_max_age_seconds: int = Field(86400, alias="SYNC_FULL_MAX_AGE_SECONDS")
    # Must stay below the worker's lambda_timeout so a run can record its outcome before it is killed.
    sync_time_budget_seconds: float = Field(240.0, alias="SYNC_TIME_BUDGET_SECONDS")
    # Reserved concurrency of the sync worker Lambda (accounts synced in parallel); the bench uses it too.
    sync_worker_concurrency: int = Field(10, alias="SYNC_WORKER_CONCURRENCY")
    # Longest one StackOne call may spend on retries (Retry-After waits included) outside a sync run.
    # 0: request handlers fail fast and hand StackOne's Retry-After to their caller (API Gateway gives
    # up after ~29 s anyway); a sync run retries within its own SYNC_TIME_BUDGET_SECONDS.
    stackone_retry_budget_seconds: float = Field(0.0, alias="STACKONE_RETRY_BUDGET_SECONDS")
    stackone_max_attempts: int = Field(6, alias="STACKONE_MAX_ATTEMPTS")
    # Webhooks older (or further in the future) than this are rejected as replays.
    webhook_tolerance_seconds: int = Field(300, alias="WEBHOOK_TOLERANCE_SECONDS")

    # Board read path: each process opens the newest snapshot (S3) and applies the change feed on top.
    # A request finding the last catch-up older than this reads every shard's feed first (in parallel).
    board_refresh_seconds: float = Field(5.0, alias="BOARD_REFRESH_SECONDS")
    board_refresh_pages_per_shard: int = Field(5, ge=1, alias="BOARD_REFRESH_PAGES_PER_SHARD")
    # Snapshots: the bucket and key prefix of their files, where a process unpacks one, how often it
    # looks for a newer one and how many changes of its own it applies before moving to it.
    board_snapshot_bucket: str = Field("job-board-snapshots", alias="BOARD_SNAPSHOT_BUCKET")
    board_snapshot_prefix: str = Field("board/snapshots/", alias="BOARD_SNAPSHOT_PREFIX")
    # Lambda's only writable disk is /tmp (sized by the function's ephemeral storage).
    board_local_directory: str = Field("/tmp/job-board", alias="BOARD_LOCAL_DIRECTORY")  # noqa: S108
    board_snapshot_check_seconds: float = Field(60.0, alias="BOARD_SNAPSHOT_CHECK_SECONDS")
    board_snapshot_switch_changes: int = Field(500, ge=0, alias="BOARD_SNAPSHOT_SWITCH_CHANGES")
    # The builder: on a schedule, and after sync runs that changed postings (through a queue whose
    # delivery delay debounces a burst of syncs into one build).
    board_snapshot_schedule_minutes: int = Field(60, ge=1, alias="BOARD_SNAPSHOT_SCHEDULE_MINUTES")
    board_snapshot_queue_name: str = Field("job-board-snapshot", alias="BOARD_SNAPSHOT_QUEUE_NAME")
    board_snapshot_queue_url: str = Field("", alias="BOARD_SNAPSHOT_QUEUE_URL")
    board_snapshot_debounce_seconds: int = Field(60, ge=0, le=900, alias="BOARD_SNAPSHOT_DEBOUNCE_SECONDS")
    # Re-read window on the change feed, tolerating writers whose clocks lag the newest change seen.
    board_change_overlap_seconds: float = Field(30.0, alias="BOARD_CHANGE_OVERLAP_SECONDS")
    # How long a process trusts an employer's Embloy-token flags and an account's native-apply flag.
    board_apply_flags_max_age_seconds: float = Field(60.0, alias="BOARD_APPLY_FLAGS_MAX_AGE_SECONDS")
    board_cache_max_age_seconds: int = Field(30, alias="BOARD_CACHE_MAX_AGE_SECONDS")
    board_facet_limit: int = Field(100, ge=1, alias="BOARD_FACET_LIMIT")
    board_feed_limit: int = Field(50, ge=1, le=100, alias="BOARD_FEED_LIMIT")
    # Postings per sitemap file; past it /sitemap.xml becomes a sitemap index (the protocol's limit).
    board_sitemap_max_urls: int = Field(50_000, ge=1, le=50_000, alias="BOARD_SITEMAP_MAX_URLS")
    # ATSs whose postings Embloy can take (Embloy `mode` values the server accepts, besides `job`).
    embloy_supported_providers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["lever", "ashby", "softgarden"], alias="EMBLOY_SUPPORTED_PROVIDERS"
    )

    # Embloy (hosted Embloy announced the end of its API in June 2025: both URLs are configuration).
    embloy_api_url: str = Field("https://api.embloy.com", alias="EMBLOY_API_URL")
    embloy_portal_url: str = Field("https://embloy.com", alias="EMBLOY_PORTAL_URL")
    embloy_timeout_seconds: float = Field(10.0, alias="EMBLOY_TIMEOUT_SECONDS")

    # Native applications and the employer's record of them.
    # Whole request body (base64 resume + JSON); API Gateway itself stops at 10 MB.
    application_max_body_bytes: int = Field(7 * 1024 * 1024, alias="APPLICATION_MAX_BODY_BYTES")
    resume_max_bytes: int = Field(5 * 1024 * 1024, alias="RESUME_MAX_BYTES")  # decoded size
    # Same email + same posting within this window (no Idempotency-Key) -> 409 duplicate_application.
    duplicate_window_seconds: int = Field(86400, alias="APPLICATION_DUPLICATE_WINDOW_SECONDS")
    idempotency_expires_seconds: int = Field(86400, alias="IDEMPOTENCY_EXPIRES_SECONDS")
    # Personal data in application records is deleted by DynamoDB TTL after this many days.
    application_retention_days: int = Field(180, alias="APPLICATION_RETENTION_DAYS")

    @field_validator("cors_origins", "allowed_providers", "embloy_supported_providers", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
