"""What the local stack looks like: ports, URLs and the environment every local process runs with.

Everything here is configurable by environment variables (``LOCAL_*``) with defaults that work on a
fresh machine. Nothing here talks to the network.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCAL_STAGE = "local"
HOST = "127.0.0.1"
# Fake, inert credentials: moto accepts anything, and they can never reach a real account.
FAKE_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEFAULT_REGION = "eu-central-1"
# Sync workers ask for a board snapshot with this delivery delay (60 s deployed): short, so a local sync
# shows up in a snapshot within a drain interval or two.
LOCAL_SNAPSHOT_DEBOUNCE_SECONDS = 2

# name -> (environment variable, default) for every port, so error messages can name the variable.
PORT_VARIABLES = {
    "moto": ("LOCAL_MOTO_PORT", 5001),
    "stackone": ("LOCAL_STACKONE_PORT", 4010),
    "embloy": ("LOCAL_EMBLOY_PORT", 4020),
    "api": ("LOCAL_API_PORT", 8000),
    "mail_smtp": ("LOCAL_MAIL_SMTP_PORT", 1025),
    "mail_web": ("LOCAL_MAIL_WEB_PORT", 1080),
}


def new_sandbox_key() -> str:
    """A fresh key for the StackOne sandbox (a local throwaway: it unlocks only the sandbox)."""
    return "sandbox_" + secrets.token_urlsafe(18)


def _int_from_env(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}.") from None


@dataclass(frozen=True)
class LocalStackConfig:
    """Ports, intervals and the sandbox key of one local run."""

    moto_port: int = 5001
    stackone_port: int = 4010
    embloy_port: int = 4020
    api_port: int = 8000
    mail_smtp_port: int = 1025
    mail_web_port: int = 1080
    region: str = DEFAULT_REGION
    sync_interval_seconds: int = 60
    drain_interval_seconds: int = 5
    snapshot_interval_seconds: int = 300
    # The StackOne sandbox's API key; the bootstrap stores it where the app reads the real one.
    stackone_api_key: str = field(default_factory=new_sandbox_key)
    cors_origins: str = ""
    state_dir: Path = PROJECT_DIR / ".local-state"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LocalStackConfig:
        """Read the LOCAL_* variables (see the README); unset ones take the defaults."""
        ports = {
            name: _int_from_env(environ, var, default) for name, (var, default) in PORT_VARIABLES.items()
        }
        return cls(
            moto_port=ports["moto"],
            stackone_port=ports["stackone"],
            embloy_port=ports["embloy"],
            api_port=ports["api"],
            mail_smtp_port=ports["mail_smtp"],
            mail_web_port=ports["mail_web"],
            region=environ.get("LOCAL_AWS_REGION", "").strip() or DEFAULT_REGION,
            sync_interval_seconds=_int_from_env(environ, "LOCAL_SYNC_INTERVAL_SECONDS", 60),
            drain_interval_seconds=_int_from_env(environ, "LOCAL_DRAIN_INTERVAL_SECONDS", 5),
            snapshot_interval_seconds=_int_from_env(environ, "LOCAL_SNAPSHOT_INTERVAL_SECONDS", 300),
            cors_origins=environ.get("LOCAL_CORS_ORIGINS", "").strip(),
            stackone_api_key=environ.get("LOCAL_STACKONE_API_KEY", "").strip() or new_sandbox_key(),
        )

    @property
    def moto_url(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def stackone_url(self) -> str:
        return f"http://{HOST}:{self.stackone_port}"

    @property
    def embloy_url(self) -> str:
        return f"http://{HOST}:{self.embloy_port}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def mail_url(self) -> str:
        """The mail catcher's web page: every email the board sent."""
        return f"http://{HOST}:{self.mail_web_port}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def board_dir(self) -> Path:
        """BOARD_LOCAL_DIRECTORY of the API and the scheduler (Lambda's /tmp): one per run, by API port,
        so a second stack on other ports never wipes this one's."""
        return self.state_dir / "board" / str(self.api_port)

    def ports(self) -> dict[str, tuple[int, str]]:
        """name -> (port, the environment variable that sets it)."""
        return {
            "moto": (self.moto_port, PORT_VARIABLES["moto"][0]),
            "stackone": (self.stackone_port, PORT_VARIABLES["stackone"][0]),
            "embloy": (self.embloy_port, PORT_VARIABLES["embloy"][0]),
            "api": (self.api_port, PORT_VARIABLES["api"][0]),
            "mail_smtp": (self.mail_smtp_port, PORT_VARIABLES["mail_smtp"][0]),
            "mail_web": (self.mail_web_port, PORT_VARIABLES["mail_web"][0]),
        }


def stage_environment(stage: str = LOCAL_STAGE, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives `stage` (top level, then stage overrides)."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    environment = dict(config.get("environment_variables", {}))
    environment.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {name: str(value) for name, value in environment.items()}


def local_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """The app's settings as `chalice local --stage local` sees them (stage variables win, as in chalice)."""
    return Settings.model_validate({**environ, **stage_environment()})


def aws_environment(config: LocalStackConfig) -> dict[str, str]:
    """boto3 pointed at moto's server with fake credentials: no profile, no real account."""
    return {
        **FAKE_AWS_CREDENTIALS,
        # Every service, S3 included: against an endpoint URL like this botocore addresses buckets
        # path-style (`http://127.0.0.1:5001/<bucket>/<key>`) by itself, so S3 needs no setting of its own
        # (tests/local/test_bootstrap.py checks the app's upload and download through it).
        "AWS_ENDPOINT_URL": config.moto_url,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_REGION": config.region,
        # A developer's ~/.aws files (profiles, SSO, per-service endpoints) must not leak into the stack.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def app_environment(
    config: LocalStackConfig,
    *,
    sync_queue_url: str,
    snapshot_queue_url: str = "",
    snapshot_bucket: str = "",
    email_queue_url: str = "",
    numbers_queue_url: str = "",
    base: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """The environment of `chalice local` and the local scheduler (the same for both).

    `snapshot_bucket` empty leaves BOARD_SNAPSHOT_BUCKET to the app's settings (the name the bootstrap
    creates by default); `snapshot_queue_url` empty means sync workers request no snapshots.
    """
    environment = {
        name: value
        for name, value in base.items()
        # Drop anything that could point boto3 at a real account or another endpoint.
        if not name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"))
    }
    # chalice local applies these itself; the scheduler gets them here so both see the same settings.
    environment.update(stage_environment())
    environment.update(aws_environment(config))
    environment.update(
        {
            "STACKONE_BASE_URL": config.stackone_url,
            "EMBLOY_API_URL": config.embloy_url,
            # The Embloy sandbox serves the /sdk/apply page itself.
            "EMBLOY_PORTAL_URL": config.embloy_url,
            # The reference frontend serves job pages at {api}/board/jobs/{job_id}.
            "PUBLIC_BASE_URL": f"{config.api_url}/board",
            "SYNC_QUEUE_URL": sync_queue_url,
            "BOARD_SNAPSHOT_QUEUE_URL": snapshot_queue_url,
            "EMAIL_QUEUE_URL": email_queue_url,
            # Counted events (job page views, Apply starts, ...): drained into `count_events`.
            "NUMBERS_QUEUE_URL": numbers_queue_url,
            "BOARD_SNAPSHOT_DEBOUNCE_SECONDS": str(LOCAL_SNAPSHOT_DEBOUNCE_SECONDS),
            # Email goes to the mail catcher over SMTP (deployed: SES).
            "EMAIL_TRANSPORT": "smtp",
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(config.mail_smtp_port),
            # Snapshots are downloaded (API) and built (scheduler) here, not in /tmp.
            "BOARD_LOCAL_DIRECTORY": str(config.board_dir),
            "CORS_ORIGINS": config.cors_origins or f"{config.api_url},http://localhost:{config.api_port}",
            "LOCAL_SYNC_INTERVAL_SECONDS": str(config.sync_interval_seconds),
            "LOCAL_DRAIN_INTERVAL_SECONDS": str(config.drain_interval_seconds),
            "LOCAL_SNAPSHOT_INTERVAL_SECONDS": str(config.snapshot_interval_seconds),
            "PYTHONUNBUFFERED": "1",
            # Metrics are disabled in the local stage; Powertools still warns on every invocation.
            "PYTHONWARNINGS": "ignore:No application metrics to publish:UserWarning",
        }
    )
    if snapshot_bucket:
        environment["BOARD_SNAPSHOT_BUCKET"] = snapshot_bucket
    # Loopback calls (app -> sandboxes, boto3 -> moto) must never go through a configured HTTP proxy.
    for variable in ("NO_PROXY", "no_proxy"):
        existing = [item for item in environment.get(variable, "").split(",") if item.strip()]
        environment[variable] = ",".join([*existing, HOST, "localhost"])
    return environment
