"""`make run`: the whole board on loopback, on an embedded default (no AWS account, no keys, no network).

Starts, each by its own binary in its own process group and in this order, waiting for each to answer:
moto's server (DynamoDB, SQS, Secrets Manager, S3), the mail catcher (maildev), the StackOne sandbox,
the Embloy sandbox; then
bootstraps tables, queues, the snapshot bucket, secrets and demo employers; then `chalice local --stage
local --no-autoreload` and the local scheduler. Prints the URLs and the demo employers' API keys, and on
Ctrl-C / SIGTERM (or when any piece dies) stops every process it started, by process-group id.

Board snapshots are built and unpacked under `.local-state/board/<LOCAL_API_PORT>/` (Lambda's /tmp),
emptied when the run starts and removed when it stops.

Ports and intervals: LOCAL_API_PORT (8000), LOCAL_STACKONE_PORT (4010), LOCAL_EMBLOY_PORT (4020),
LOCAL_MOTO_PORT (5001), LOCAL_MAIL_SMTP_PORT (1025), LOCAL_MAIL_WEB_PORT (1080),
LOCAL_SYNC_INTERVAL_SECONDS (60), LOCAL_DRAIN_INTERVAL_SECONDS (5),
LOCAL_SNAPSHOT_INTERVAL_SECONDS (300); LOCAL_STACKONE_API_KEY fixes the sandbox key (random by default),
LOCAL_CORS_ORIGINS the allowed origins.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local.bootstrap import BootstrapNames, BootstrapResult, bootstrap, format_employers
from local.processes import ManagedProcess, SignalStop, StartupError, http_answers, port_is_free, wait_until
from local.stack import HOST, LOCAL_STAGE, PROJECT_DIR, LocalStackConfig, app_environment, local_settings

# The interpreter running this is the virtualenv's; its bin directory holds the other entry points.
VENV_BIN = Path(sys.executable).parent
# The mail catcher (maildev, from local/mail/package.json; `make run` installs it with npm ci).
MAIL_CATCHER = PROJECT_DIR / "local" / "mail" / "node_modules" / ".bin" / "maildev"
STACKONE_SANDBOX = "sandbox.stackone"
EMBLOY_SANDBOX = "sandbox.embloy"
SERVER_START_SECONDS = 30.0
API_START_SECONDS = 90.0  # chalice local imports the app and validates routes first


def _say(message: str) -> None:
    print(f"[run] {message}", flush=True)


class LocalStack:
    """The processes of one `make run`, started in order and stopped in reverse."""

    def __init__(self, config: LocalStackConfig, stop_requested: threading.Event) -> None:
        self.config = config
        self.stop_requested = stop_requested
        self.processes: list[ManagedProcess] = []
        self.skipped: list[str] = []
        self.bootstrap_result: BootstrapResult | None = None

    def check_ports(self) -> None:
        taken = [
            f"  port {port} ({name}) is in use: free it or set {variable}=<another port>"
            for name, (port, variable) in self.config.ports().items()
            if not port_is_free(port, HOST)
        ]
        if taken:
            raise StartupError(
                "cannot start, ports taken (a previous `make run` may still be running):\n" + "\n".join(taken)
            )

    def start(self) -> None:
        self.check_ports()
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        # Snapshots of an earlier run must not survive into this one (moto's state does not either).
        shutil.rmtree(self.config.board_dir, ignore_errors=True)
        self.config.board_dir.mkdir(parents=True)
        base_env = app_environment(self.config, sync_queue_url="")

        moto = self._spawn(
            "moto server",
            [str(VENV_BIN / "moto_server"), "-H", HOST, "-p", str(self.config.moto_port)],
            env=base_env,
            log_name="moto.log",
        )
        self._wait_http(moto, f"{self.config.moto_url}/moto-api/", SERVER_START_SECONDS)
        self._start_mail_catcher(base_env)

        self._start_sandbox(
            "StackOne sandbox",
            STACKONE_SANDBOX,
            [
                "--host",
                HOST,
                "--port",
                str(self.config.stackone_port),
                "--api-key",
                self.config.stackone_api_key,
                "--public-url",
                self.config.stackone_url,
            ],
            self.config.stackone_url,
            base_env,
        )
        self._start_sandbox(
            "Embloy sandbox",
            EMBLOY_SANDBOX,
            ["--host", HOST, "--port", str(self.config.embloy_port)],
            self.config.embloy_url,
            base_env,
        )

        self._check_stop("bootstrap")
        _say(f"bootstrapping local AWS at {self.config.moto_url}")
        self.bootstrap_result = bootstrap(
            self.config.moto_url,
            names=BootstrapNames.from_settings(local_settings()),
            stackone_api_key=self.config.stackone_api_key,
            region=self.config.region,
        )

        app_env = app_environment(
            self.config,
            sync_queue_url=self.bootstrap_result.queue_url,
            snapshot_queue_url=self.bootstrap_result.snapshot_queue_url,
            snapshot_bucket=self.bootstrap_result.snapshot_bucket,
            email_queue_url=self.bootstrap_result.email_queue_url,
            numbers_queue_url=self.bootstrap_result.numbers_queue_url,
        )
        # `chalice local`, answering unknown paths and missing keys as the deployed gateway does.
        api = self._spawn(
            "chalice local",
            [
                sys.executable,
                "-m",
                "local.api_server",
                "--stage",
                LOCAL_STAGE,
                "--host",
                HOST,
                "--port",
                str(self.config.api_port),
            ],
            env=app_env,
        )
        self._wait_http(api, f"{self.config.api_url}/health", API_START_SECONDS)
        self._spawn("local scheduler", [sys.executable, "-m", "local.scheduler"], env=app_env)

    def supervise(self) -> int:
        """Block until a stop is requested (0) or a process dies (1)."""
        while not self.stop_requested.wait(0.5):
            for process in self.processes:
                code = process.exit_code()
                if code is not None:
                    _say(f"{process.name} (pid {process.pid}) exited with code {code}; stopping everything")
                    tail = process.log_tail()
                    if tail:
                        print(f"--- last lines of {process.log_path} ---\n{tail}", file=sys.stderr)
                    return 1
        return 0

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            _say(f"stopping {process.name} (pid {process.pid})")
            process.stop()
        self.processes.clear()
        shutil.rmtree(self.config.board_dir, ignore_errors=True)

    def summary(self) -> str:
        config = self.config
        lines = [
            "",
            "Local job board is running (Ctrl-C stops everything):",
            f"  Board (web)       {config.api_url}/board   (employer page: {config.api_url}/board/employer)",
            f"  Board API         {config.api_url}   (GET /health, GET /jobs)",
            f"  StackOne sandbox  {config.stackone_url}   (sandbox API key: {config.stackone_api_key})",
            f"  Embloy sandbox    {config.embloy_url}",
            f"  Email (outbox)    {config.mail_url}   (every email the board sends; SMTP on port "
            f"{config.mail_smtp_port})",
            f"  Local AWS (moto)  {config.moto_url}   "
            "(DynamoDB, SQS, Secrets Manager, S3; dashboard /moto-api/)",
            f"  Scheduler         sync every {config.sync_interval_seconds} s, board snapshot every "
            f"{config.snapshot_interval_seconds} s (first after the first sync), "
            f"queues drained every {config.drain_interval_seconds} s",
            f"  Board snapshots   {config.board_dir.relative_to(PROJECT_DIR)}/ (removed on stop)",
            f"  Logs              {config.log_dir.relative_to(PROJECT_DIR)}/ (moto, sandboxes)",
        ]
        lines.extend(f"  NOT STARTED       {name}" for name in self.skipped)
        if self.bootstrap_result is not None:
            lines.append("Demo employers (send `Authorization: Bearer <API key>`; keys are shown only now):")
            lines.append(format_employers(self.bootstrap_result.employers))
        lines.append("Processes: " + ", ".join(f"{p.name} pid {p.pid}" for p in self.processes))
        return "\n".join(lines)

    def _spawn(
        self, name: str, argv: list[str], *, env: dict[str, str], log_name: str | None = None
    ) -> ManagedProcess:
        self._check_stop(name)
        log_path = self.config.log_dir / log_name if log_name else None
        process = ManagedProcess(name, argv, env=env, cwd=PROJECT_DIR, log_path=log_path)
        self.processes.append(process)
        _say(f"started {name} (pid {process.pid})")
        return process

    def _start_mail_catcher(self, env: dict[str, str]) -> None:
        if not MAIL_CATCHER.exists():
            raise StartupError(
                f"the mail catcher is not installed ({MAIL_CATCHER}): run `make run`, which installs it"
            )
        config = self.config
        argv = [
            str(MAIL_CATCHER),
            "--ip",
            HOST,
            "--smtp",
            str(config.mail_smtp_port),
            "--web-ip",
            HOST,
            "--web",
            str(config.mail_web_port),
        ]
        process = self._spawn("mail catcher", argv, env=env, log_name="maildev.log")
        self._wait_http(process, f"{config.mail_url}/api/email", SERVER_START_SECONDS)

    def _start_sandbox(self, name: str, module: str, args: list[str], url: str, env: dict[str, str]) -> None:
        if importlib.util.find_spec(module) is None:
            # Lets the rest of the stack run while a sandbox is not in this checkout.
            _say(f"{name}: module {module} not found in this checkout; not started")
            self.skipped.append(f"{name} ({module} missing)")
            return
        log_name = module.rsplit(".", 1)[-1] + ".log"
        process = self._spawn(name, [sys.executable, "-m", module, *args], env=env, log_name=log_name)
        self._wait_http(process, f"{url}/_sandbox/health", SERVER_START_SECONDS)

    def _wait_http(self, process: ManagedProcess, url: str, timeout: float) -> None:
        wait_until(
            lambda: http_answers(url, ok_statuses=lambda status: status == 200),
            what=f"{process.name} at {url}",
            timeout_seconds=timeout,
            process=process,
            stop_requested=self.stop_requested,
        )

    def _check_stop(self, step: str) -> None:
        if self.stop_requested.is_set():
            raise StartupError(f"interrupted before {step}.")


def main() -> int:
    stop_requested = SignalStop()  # set by the signal handlers below

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    stack = LocalStack(LocalStackConfig.from_env(), stop_requested)
    exit_code = 0
    try:
        stack.start()
        print(stack.summary(), flush=True)
        exit_code = stack.supervise()
    except StartupError as exc:
        print(f"[run] {exc}", file=sys.stderr, flush=True)
        exit_code = 1
    finally:
        stack.stop_all()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
