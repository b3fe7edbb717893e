"""The one settings object: environment variables set by `.chalice/config.json` stages, read lazily."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_STAGE = "local"
# Defaults that hold only in the `local` stage (`make run`, moto, the sandboxes). Every other stage must
# name its resources, secrets and public URLs explicitly: a deployed function never guesses them.
LOCAL_DEFAULTS: dict[str, str] = {
    "table_name": "job-board",
    "idempotency_table_name": "job-board-idempotency",
    "sync_queue_name": "job-board-sync",
    "board_snapshot_queue_name": "job-board-snapshot",
    "stackone_api_key_secret_name": "job-board/stackone-api-key",
    "webhook_secret_name": "job-board/stackone-webhook-secret",
    "cursor_secret_name": "job-board/cursor-signing-key",
    "embloy_secret_prefix": "job-board/embloy/",
    "board_snapshot_bucket": "job-board-snapshots",
    "resume_upload_bucket": "job-board-resume-uploads",
    "public_base_url": "http://127.0.0.1:8000/board",
    "embloy_api_url": "http://127.0.0.1:4020",
    "embloy_portal_url": "http://127.0.0.1:4020",
    "stackone_base_url": "http://127.0.0.1:4010",
    "email_from_address": "Unified Job Board <jobs@board.localhost>",
    "email_queue_name": "job-board-email",
    "email_events_topic_name": "job-board-email-events",
    "numbers_queue_name": "job-board-numbers",
}
STACKONE_API_URL = "https://api.stackone.com"
# Known when the app is packaged (`.chalice/config.json` stage variables): required in every non-local stage.
REQUIRED_NAMES = (
    "table_name",
    "idempotency_table_name",
    "sync_queue_name",
    "board_snapshot_queue_name",
    "stackone_api_key_secret_name",
    "webhook_secret_name",
    "cursor_secret_name",
    "embloy_secret_prefix",
    "email_queue_name",
    "email_events_topic_name",
    "numbers_queue_name",
)
# Handed to the functions by the stack (resource references and parameters), so only known inside Lambda:
# required there, in every non-local stage.
REQUIRED_AT_RUNTIME = (
    "sync_queue_url",
    "board_snapshot_bucket",
    "resume_upload_bucket",
    "public_base_url",
    "embloy_api_url",
    "embloy_portal_url",
    "email_queue_url",
    "email_from_address",
    "numbers_queue_url",
)


class SettingsError(ValueError):
    """A required setting is missing; the message names the environment variables to set."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob the app reads. Secrets are never values here, only Secrets Manager names."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # No default: a process that does not know its stage refuses to start rather than run as `local`.
    stage: str = Field(alias="APP_STAGE", min_length=1)
    # Set by Lambda itself: the runtime-provided names above are required there.
    lambda_function_name: str = Field("", alias="AWS_LAMBDA_FUNCTION_NAME")
    board_name: str = Field("Unified Job Board", alias="BOARD_NAME")
    # Public URL of the board's frontend: job pages, feeds and Embloy success/cancel URLs derive from it.
    public_base_url: str = Field("", alias="PUBLIC_BASE_URL")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="CORS_ORIGINS")

    # AWS resources (names only; endpoints come from boto3's AWS_ENDPOINT_URL* variables).
    table_name: str = Field("", alias="BOARD_TABLE")
    idempotency_table_name: str = Field("", alias="IDEMPOTENCY_TABLE")
    sync_queue_url: str = Field("", alias="SYNC_QUEUE_URL")
    # Read when the app module is imported (decorators need them at deploy time): `chalice package`
    # imports the app with the stage's environment variables.
    sync_queue_name: str = Field("", alias="SYNC_QUEUE_NAME")
    sync_schedule_minutes: int = Field(15, alias="SYNC_SCHEDULE_MINUTES")
    stackone_api_key_secret_name: str = Field("", alias="STACKONE_API_KEY_SECRET")
    webhook_secret_name: str = Field("", alias="STACKONE_WEBHOOK_SECRET")
    # Signs the board's and the applications API's page cursors (integrity, not secrecy of the data).
    cursor_secret_name: str = Field("", alias="CURSOR_SIGNING_SECRET")
    embloy_secret_prefix: str = Field("", alias="EMBLOY_SECRET_PREFIX")
    secrets_max_age_seconds: int = Field(300, alias="SECRETS_MAX_AGE_SECONDS")

    # StackOne.
    # StackOne's API outside the local stage, the StackOne sandbox of `make run` in it.
    stackone_base_url: str = Field("", alias="STACKONE_BASE_URL")
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
    sync_worker_concurrency: int = Field(10, ge=1, le=1000, alias="SYNC_WORKER_CONCURRENCY")
    # Longest one StackOne call may spend on retries (Retry-After waits included) outside a sync run.
    # 0: request handlers fail fast and hand StackOne's Retry-After to their caller (API Gateway gives
    # up after ~29 s anyway); a sync run retries within its own SYNC_TIME_BUDGET_SECONDS.
    stackone_retry_budget_seconds: float = Field(0.0, alias="STACKONE_RETRY_BUDGET_SECONDS")
    stackone_max_attempts: int = Field(6, alias="STACKONE_MAX_ATTEMPTS")
    # One request budget per StackOne API key, shared by every function (StackOne allows 1,000/min).
    # 0 turns the shared budget off (StackOne's 429 + Retry-After are still honoured).
    stackone_rate_limit_per_minute: int = Field(900, ge=0, alias="STACKONE_RATE_LIMIT_PER_MINUTE")
    # Longest a request handler waits for a slot of that budget before answering 503 with Retry-After.
    stackone_rate_wait_seconds: float = Field(2.0, ge=0, alias="STACKONE_RATE_WAIT_SECONDS")
    # First step of the exponential backoff between retries of 5xx/transport failures.
    stackone_backoff_base_seconds: float = Field(0.5, gt=0, alias="STACKONE_BACKOFF_BASE_SECONDS")
    # A listing stops as incomplete (closing nothing) after this many pages.
    sync_max_pages: int = Field(1000, ge=1, alias="SYNC_MAX_PAGES")
    # A delta run also sweeps for deleted postings when the last sweep is this old (ids + status only).
    sync_existence_sweep_seconds: int = Field(1500, ge=0, alias="SYNC_EXISTENCE_SWEEP_SECONDS")
    # How long the schedule's fan-out retries listing the linked accounts.
    sync_fan_out_budget_seconds: float = Field(40.0, ge=0, alias="SYNC_FAN_OUT_BUDGET_SECONDS")
    # An account whose credential fails keeps its postings on the board this long after the first
    # failure (unless StackOne reports them closed), then they close. 0 closes them at once.
    broken_link_grace_hours: float = Field(72.0, ge=0, alias="BROKEN_LINK_GRACE_HOURS")
    # One deadline per API request (and per authorizer call): every route answers within it, however AWS,
    # StackOne or Embloy stall, because the AWS and HTTP clients' timeouts and retries are cut to the time
    # the request has left. API Gateway gives up at 29 s: the ceiling keeps a wide margin below it.
    request_deadline_seconds: float = Field(10.0, gt=0, le=20, alias="REQUEST_DEADLINE_SECONDS")
    # AWS SDK clients: explicit timeouts and a small retry budget, the ceilings inside a request and the
    # whole story outside one (sync worker, snapshot builder). S3 moves whole snapshot files.
    aws_connect_timeout_seconds: float = Field(1.0, gt=0, alias="AWS_CONNECT_TIMEOUT_SECONDS")
    aws_read_timeout_seconds: float = Field(3.0, gt=0, alias="AWS_READ_TIMEOUT_SECONDS")
    aws_s3_read_timeout_seconds: float = Field(20.0, gt=0, alias="AWS_S3_READ_TIMEOUT_SECONDS")
    aws_max_attempts: int = Field(3, ge=1, alias="AWS_CLIENT_MAX_ATTEMPTS")
    # Webhooks older (or further in the future) than this are rejected as replays.
    webhook_tolerance_seconds: int = Field(300, alias="WEBHOOK_TOLERANCE_SECONDS")

    # Board read path: each process opens the newest snapshot (S3) and applies the change feed on top.
    # A request finding the last catch-up older than this reads every shard's feed first (in parallel).
    board_refresh_seconds: float = Field(5.0, alias="BOARD_REFRESH_SECONDS")
    board_refresh_pages_per_shard: int = Field(5, ge=1, alias="BOARD_REFRESH_PAGES_PER_SHARD")
    # Longest a board read waits on the table when it has a loaded answer to fall back on: the catch-up
    # (which runs beside the request), and a job's item or apply flags read before. Past it the read
    # answers from what is loaded, so a stalled table never holds up a warm board read.
    board_read_wait_seconds: float = Field(0.5, ge=0, le=1, alias="BOARD_READ_WAIT_SECONDS")
    # Snapshots: the bucket and key prefix of their files, where a process unpacks one, how often it
    # looks for a newer one and how many changes of its own it applies before moving to it.
    board_snapshot_bucket: str = Field("", alias="BOARD_SNAPSHOT_BUCKET")
    board_snapshot_prefix: str = Field("board/snapshots/", alias="BOARD_SNAPSHOT_PREFIX")
    # Lambda's only writable disk is /tmp (sized by the function's ephemeral storage).
    board_local_directory: str = Field("/tmp/job-board", alias="BOARD_LOCAL_DIRECTORY")  # noqa: S108
    # A snapshot's files larger than this are downloaded as byte ranges of this size, in parallel (S3's
    # guidance: 8-16 MB ranges); this many GET requests in flight at once over all its files.
    board_snapshot_range_bytes: int = Field(8 << 20, ge=1 << 16, alias="BOARD_SNAPSHOT_RANGE_BYTES")
    board_snapshot_download_concurrency: int = Field(
        8, ge=1, le=64, alias="BOARD_SNAPSHOT_DOWNLOAD_CONCURRENCY"
    )
    board_snapshot_check_seconds: float = Field(60.0, alias="BOARD_SNAPSHOT_CHECK_SECONDS")
    board_snapshot_switch_changes: int = Field(500, ge=0, alias="BOARD_SNAPSHOT_SWITCH_CHANGES")
    # Changes a catch-up applies to the engine per turn of the lock (each batch committed on its own):
    # requests are served between batches, so one batch bounds how long a request can wait for it.
    board_apply_batch: int = Field(50, ge=1, alias="BOARD_APPLY_BATCH")
    # The builder: on a schedule, and after sync runs that changed postings (through a queue whose
    # delivery delay debounces a burst of syncs into one build).
    board_snapshot_schedule_minutes: int = Field(60, ge=1, alias="BOARD_SNAPSHOT_SCHEDULE_MINUTES")
    board_snapshot_queue_name: str = Field("", alias="BOARD_SNAPSHOT_QUEUE_NAME")
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

    # Embloy (hosted Embloy announced the end of its API in June 2025: both URLs are configuration, stack
    # parameters when deployed, with no default pointing at a hosted service).
    embloy_api_url: str = Field("", alias="EMBLOY_API_URL")
    embloy_portal_url: str = Field("", alias="EMBLOY_PORTAL_URL")
    embloy_timeout_seconds: float = Field(10.0, alias="EMBLOY_TIMEOUT_SECONDS")

    # Native applications and the employer's record of them.
    # Whole JSON request body. Lambda takes at most 6,291,456 bytes of synchronous event (the body plus
    # API Gateway's envelope): a larger body fails at the gateway, outside the API's error shape.
    application_max_body_bytes: int = Field(6_000_000, le=6_000_000, alias="APPLICATION_MAX_BODY_BYTES")
    # A file sent inline as base64 (resume or attachment answer), decoded: 4 MiB is 5,592,408 base64 bytes.
    resume_max_bytes: int = Field(4 * 1024 * 1024, le=4 * 1024 * 1024, alias="RESUME_MAX_BYTES")
    # A resume uploaded to S3 through a presigned POST (POST /jobs/{job_id}/resume-uploads).
    resume_upload_bucket: str = Field("", alias="RESUME_UPLOAD_BUCKET")
    resume_upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1, alias="RESUME_UPLOAD_MAX_BYTES")
    # How long the presigned POST may be used; the bucket's lifecycle rule deletes uploads after a day.
    resume_upload_expires_seconds: int = Field(900, ge=60, le=3600, alias="RESUME_UPLOAD_EXPIRES_SECONDS")
    # Same email + same posting within this window (no Idempotency-Key) -> 409 duplicate_application.
    duplicate_window_seconds: int = Field(86400, alias="APPLICATION_DUPLICATE_WINDOW_SECONDS")
    idempotency_expires_seconds: int = Field(86400, alias="IDEMPOTENCY_EXPIRES_SECONDS")
    # Personal data in application records is deleted by DynamoDB TTL after this many days.
    application_retention_days: int = Field(180, alias="APPLICATION_RETENTION_DAYS")
    # Candidate-facing writes (native applications, Embloy redirects): at most this many per client
    # (source IP) and job per window; more answer 429 with Retry-After.
    apply_rate_limit: int = Field(10, ge=1, alias="APPLY_RATE_LIMIT")
    apply_rate_window_seconds: int = Field(600, ge=1, alias="APPLY_RATE_WINDOW_SECONDS")

    # Email. Deployed: SES (API v2) from a verified identity through the configuration set that reports
    # bounces and complaints. Local: SMTP to the mail catcher `make run` starts.
    email_transport: Literal["ses", "smtp"] = Field("ses", alias="EMAIL_TRANSPORT")
    email_from_address: str = Field("", alias="EMAIL_FROM_ADDRESS")
    ses_configuration_set: str = Field("", alias="SES_CONFIGURATION_SET")
    smtp_host: str = Field("127.0.0.1", alias="SMTP_HOST")
    smtp_port: int = Field(1025, ge=1, le=65535, alias="SMTP_PORT")
    # SES's sending quota (a new account: 1 per second in the sandbox, 14 after the production review);
    # every function that sends shares it through one table counter.
    email_send_rate_per_second: float = Field(10.0, gt=0, alias="EMAIL_SEND_RATE_PER_SECOND")
    # send_email's reserved concurrency, which its SQS event source's maximum concurrency repeats (2..1000).
    email_sender_concurrency: int = Field(2, ge=2, le=1000, alias="EMAIL_SENDER_CONCURRENCY")
    # The queue of emails to send (`send_email` drains it).
    email_queue_name: str = Field("", alias="EMAIL_QUEUE_NAME")
    email_queue_url: str = Field("", alias="EMAIL_QUEUE_URL")
    # The SNS topic SES publishes bounces and complaints to (`email_events` subscribes to it).
    email_events_topic_name: str = Field("", alias="EMAIL_EVENTS_TOPIC_NAME")

    # Job alerts. At most this many alerts per address (over it, a subscribe changes nothing and sends
    # nothing, with the same 202). Subscribe attempts: per client (source IP; more answer 429) and per
    # address (more are dropped silently, so the answer never tells whether an address is known).
    alerts_per_address_max: int = Field(10, ge=1, le=100, alias="ALERTS_PER_ADDRESS_MAX")
    alert_subscribe_rate_limit: int = Field(10, ge=1, alias="ALERT_SUBSCRIBE_RATE_LIMIT")
    alert_subscribe_window_seconds: int = Field(3600, ge=1, alias="ALERT_SUBSCRIBE_WINDOW_SECONDS")
    alert_address_rate_limit: int = Field(3, ge=1, alias="ALERT_ADDRESS_RATE_LIMIT")
    alert_address_window_seconds: int = Field(86400, ge=1, alias="ALERT_ADDRESS_WINDOW_SECONDS")

    # Job alert digests (`send_alert_digests`). Read at import like the sync schedule: the rule is deployed.
    # Instant alerts go out at most one interval plus the settle margin after a posting is first seen.
    alert_digest_schedule_minutes: int = Field(14, ge=1, le=60, alias="ALERT_DIGEST_SCHEDULE_MINUTES")
    # Postings shown per digest (newest first); the email links to all of them on the board.
    alert_digest_max_postings: int = Field(25, ge=1, le=100, alias="ALERT_DIGEST_MAX_POSTINGS")
    # Postings first seen in the last seconds wait for the next run: a sync stamps `first_seen_at` just
    # before its write is readable.
    alert_digest_settle_seconds: float = Field(30.0, ge=0, alias="ALERT_DIGEST_SETTLE_SECONDS")
    # Below the function's lambda_timeout: alerts not reached stay due for the next run.
    alert_digest_time_budget_seconds: float = Field(240.0, gt=0, alias="ALERT_DIGEST_TIME_BUDGET_SECONDS")
    # Threads queueing digests and recording them (network waits) while the next alerts are matched.
    alert_digest_workers: int = Field(8, ge=1, le=32, alias="ALERT_DIGEST_WORKERS")

    # Per-job numbers (docs/numbers.md). Request handlers queue one message per counted event; the
    # `count_events` function sums a batch per job and day and writes each sum once.
    numbers_queue_name: str = Field("", alias="NUMBERS_QUEUE_NAME")
    numbers_queue_url: str = Field("", alias="NUMBERS_QUEUE_URL")
    # Read at import (the event source is deployed): how long SQS gathers events into one batch (at most
    # 1,000). Counts show within this plus one invocation (under 5 minutes); AWS allows up to 300 s.
    numbers_batch_window_seconds: int = Field(180, ge=0, le=240, alias="NUMBERS_BATCH_WINDOW_SECONDS")
    numbers_counter_concurrency: int = Field(2, ge=2, le=1000, alias="NUMBERS_COUNTER_CONCURRENCY")
    # Counting never holds up the page it counts: one try, cut off after this long, then the event is lost.
    numbers_send_timeout_seconds: float = Field(0.5, gt=0, le=3, alias="NUMBERS_SEND_TIMEOUT_SECONDS")
    # Numbers items expire (DynamoDB TTL) this many days after their day; the API reports at most 90.
    numbers_retention_days: int = Field(100, ge=91, le=400, alias="NUMBERS_RETENTION_DAYS")

    @field_validator("cors_origins", "allowed_providers", "embloy_supported_providers", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _fail_closed(self) -> Settings:
        if self.stage == LOCAL_STAGE:
            for name, value in LOCAL_DEFAULTS.items():
                if not getattr(self, name):
                    setattr(self, name, value)
            return self
        if not self.stackone_base_url:
            self.stackone_base_url = STACKONE_API_URL
        required = REQUIRED_NAMES + (REQUIRED_AT_RUNTIME if self.lambda_function_name else ())
        missing = [name for name in required if not str(getattr(self, name)).strip()]
        if missing:
            raise SettingsError(
                f"stage {self.stage!r} needs {', '.join(setting_variable(name) for name in missing)} "
                "(only the local stage has defaults)"
            )
        return self

    @property
    def is_local(self) -> bool:
        """Debug output and local defaults: only when the stage is literally `local`."""
        return self.stage == LOCAL_STAGE

    def require(self, name: str) -> str:
        """A setting that this code path cannot work without; SettingsError names its variable."""
        value = str(getattr(self, name)).strip()
        if not value:
            raise SettingsError(f"{setting_variable(name)} is not set")
        return value


def setting_variable(name: str) -> str:
    """The environment variable of a Settings field."""
    alias = Settings.model_fields[name].alias
    return alias or name.upper()


def local_names_environment() -> dict[str, str]:
    """The local stage's default names as environment variables: for in-process runs of another stage
    (benchmarks, soak) that need names but have no `.chalice/config.json` stage of their own."""
    return {setting_variable(name): LOCAL_DEFAULTS[name] for name in REQUIRED_NAMES}


def describe_settings_error(exc: Exception) -> str:
    """One line naming the missing or invalid settings (for the CLI and startup logs), no traceback."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors():
            location = error.get("loc") or ()
            if location:
                problem = "is not set" if error["type"] == "missing" else error["msg"]
                problems.append(f"{location[0]}: {problem}")
            else:
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        return "; ".join(problems)
    return str(exc)


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
