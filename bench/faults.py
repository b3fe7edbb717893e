"""Fault bench: every API route while each dependency in turn stalls. `python -m bench.faults` (or
`make bench-faults`).

The local stack runs as processes on free loopback ports: moto's server, the StackOne and Embloy
sandboxes, and the API as `python -m local.api_server --stage local` (`chalice local`, so each request
runs in the server with the stage's settings and a Lambda context, as the deployed API does). The
bootstrap and one scheduler tick (`python -m local.scheduler --once`: sync, snapshot) fill the board
first. The API reaches each dependency through its own stalling proxy (bench/stall_proxy.py): DynamoDB,
S3, Secrets Manager and SQS through `AWS_ENDPOINT_URL_DYNAMODB` / `_S3` / `_SECRETS_MANAGER` / `_SQS`,
StackOne and Embloy through `STACKONE_BASE_URL` and `EMBLOY_API_URL`.

After a warm-up pass, one round of requests, one per route, runs with nothing stalled, then one round
per stalled dependency (the proxy accepts connections and never answers, pooled ones included). Each
round sends its requests at once, each on its own connection, with a client-side cap of `--cap-seconds`
(70 s) so a hanging route still ends; `--sequential` sends them one after another. The bench prints,
per route, the status and seconds under each stall, the worst time, and the verdict against the budget:
every route answers within the request deadline + 1 s, board reads within 1 s. The deadline is
`REQUEST_DEADLINE_SECONDS` (default 10), read from the environment like the API reads it.

The API runs with its in-process copies short-lived (`SECRETS_MAX_AGE_SECONDS`, `BOARD_REFRESH_SECONDS`,
`BOARD_APPLY_FLAGS_MAX_AGE_SECONDS`, `BOARD_SNAPSHOT_CHECK_SECONDS`: 1 s each unless set), and each round
waits, with its dependency already stalled, until they have expired before it sends: every stall meets
the secret, change-feed and snapshot lookups of a container whose copies are stale (what a stall longer
than those caches brings to every container), and the figures do not depend on what the round before
happened to leave fresh. The employer's API key, by contrast, is verified right before each round and
stays cached (`API_KEY_CACHE_SECONDS`, 30 s), as for an employer at work in the console: employer routes
reach their handlers and the stall shows on the handler's own calls, the longer path (set
`API_KEY_CACHE_SECONDS=1` to measure the key lookup instead). A 503 without `Retry-After` is
marked `*`; a route whose request is refused with nothing stalled is named in a warning (its stall rounds
say little). Exit code 0, or with `--strict` 1 when any route is over its budget or refused unstalled.

    python -m bench.faults [--only dynamodb,s3] [--sequential] [--cap-seconds 70] [--strict]

Prints the table, then one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stall_proxy import StallingProxy

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DEADLINE_SECONDS = 10.0
BOARD_READ_BUDGET_SECONDS = 1.0
# API Gateway's own limit is 29 s; far beyond it, so a route that hangs is measured, not waited out.
DEFAULT_CAP_SECONDS = 70.0
BASELINE = "none"
# Each dependency and the variable that points the API at it (through its proxy).
DEPENDENCY_VARIABLES: dict[str, str] = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "s3": "AWS_ENDPOINT_URL_S3",
    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "stackone": "STACKONE_BASE_URL",
    "embloy": "EMBLOY_API_URL",
}
DEPENDENCIES = tuple(DEPENDENCY_VARIABLES)
# How long the API's in-process copies stay fresh (seconds), unless the environment sets them: short, so
# each round meets what a container meets once a stall has outlasted its caches (see the docstring).
CACHE_AGES = {
    "SECRETS_MAX_AGE_SECONDS": "1",
    "BOARD_REFRESH_SECONDS": "1",
    "BOARD_APPLY_FLAGS_MAX_AGE_SECONDS": "1",
    "BOARD_SNAPSHOT_CHECK_SECONDS": "1",
}
# A round waits this much past the longest cache age before it sends (bounded, for long ages set by hand).
MAX_AGE_WAIT_SECONDS = 30.0
# Settings the bench gives the API unless the environment sets them.
API_DEFAULTS = {
    **CACHE_AGES,
    # Every round applies and asks for a sync again: the per-client and per-account limits would
    # answer 429 before the route reached the dependency under test.
    "APPLY_RATE_LIMIT": "1000",
    "SYNC_NOW_MIN_INTERVAL_SECONDS": "0",
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# A browser's user agent, for the routes that count people and not bots.
BROWSER = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
}


def log(message: str) -> None:
    print(f"[faults] {message}", file=sys.stderr, flush=True)


# ---- Results and the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One API route as the bench exercises it; `board_read` routes have the 1 s budget."""

    name: str
    board_read: bool = False


@dataclass(frozen=True)
class Answer:
    """What one request got: the status (None: no answer within the cap, or the connection failed),
    the seconds until the whole answer arrived, the error code of a JSON error body, and whether a
    503 carried Retry-After."""

    status: int | None
    seconds: float
    code: str = ""
    retry_after: bool = False

    @property
    def unavailable_without_retry_after(self) -> bool:
        return self.status == 503 and not self.retry_after

    def cell(self) -> str:
        status = "-" if self.status is None else str(self.status)
        mark = "*" if self.unavailable_without_retry_after else ""
        return f"{status}{mark} {self.seconds:.2f}"


@dataclass
class BenchResults:
    """Answers by route and round (`none` or the stalled dependency)."""

    deadline_seconds: float
    routes: list[Route]
    rounds: list[str]
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def budget(self, route: Route) -> float:
        return BOARD_READ_BUDGET_SECONDS if route.board_read else self.deadline_seconds + 1.0

    def worst(self, route: Route) -> Answer | None:
        seen = [self.answers[route.name, name] for name in self.rounds if (route.name, name) in self.answers]
        return max(seen, key=lambda answer: answer.seconds, default=None)

    def within_budget(self, route: Route) -> bool:
        worst = self.worst(route)
        return worst is not None and worst.status is not None and worst.seconds <= self.budget(route)

    def over_budget(self) -> list[Route]:
        return [route for route in self.routes if not self.within_budget(route)]

    def refused_unstalled(self) -> list[Route]:
        """Routes whose request failed with nothing stalled: their stall rounds say little (the bench's
        request, not the dependency, is the problem)."""
        return [
            route
            for route in self.routes
            if (answer := self.answers.get((route.name, BASELINE))) is not None
            and (answer.status is None or answer.status >= 400)
        ]


def format_table(results: BenchResults) -> str:
    """One line per route: the answer under each round, the worst time, the budget and the verdict."""
    name_width = max([len("route"), *(len(route.name) for route in results.routes)])
    cell_width = max([10, *(len(name) for name in results.rounds)])
    header = (
        f"{'route':<{name_width}}  "
        + "  ".join(f"{name:>{cell_width}}" for name in results.rounds)
        + f"  {'worst':>7}  {'budget':>6}  verdict"
    )
    lines = [header, "-" * len(header)]
    for route in results.routes:
        cells = [
            results.answers[route.name, name].cell() if (route.name, name) in results.answers else "n/a"
            for name in results.rounds
        ]
        worst = results.worst(route)
        worst_text = "n/a" if worst is None else f"{worst.seconds:.2f}"
        verdict = "ok" if results.within_budget(route) else "OVER"
        lines.append(
            f"{route.name:<{name_width}}  "
            + "  ".join(f"{cell:>{cell_width}}" for cell in cells)
            + f"  {worst_text:>7}  {results.budget(route):>5.1f}s  {verdict}"
        )
    over = results.over_budget()
    lines.append("")
    lines.append(
        f"cells: status and seconds ('-': no answer within the cap); * a 503 without Retry-After. "
        f"Budget: deadline {results.deadline_seconds:g} s + 1 s, board reads {BOARD_READ_BUDGET_SECONDS:g} s."
    )
    lines.append(
        f"verdict: {len(results.routes) - len(over)} of {len(results.routes)} routes within budget"
        + (f"; over: {', '.join(route.name for route in over)}" if over else "")
    )
    refused = results.refused_unstalled()
    if refused:
        lines.append(
            "warning: refused with nothing stalled, so their stall rounds measure little: "
            + ", ".join(route.name for route in refused)
        )
    return "\n".join(lines)


def summary_json(results: BenchResults) -> dict[str, Any]:
    """The figures as one JSON object (the last line the bench prints)."""
    routes: dict[str, Any] = {}
    for route in results.routes:
        worst = results.worst(route)
        routes[route.name] = {
            "budget_seconds": results.budget(route),
            "worst_seconds": None if worst is None else round(worst.seconds, 3),
            "within_budget": results.within_budget(route),
            "rounds": {
                name: {
                    "status": answer.status,
                    "seconds": round(answer.seconds, 3),
                    "code": answer.code,
                    "retry_after": answer.retry_after,
                }
                for name in results.rounds
                if (answer := results.answers.get((route.name, name))) is not None
            },
        }
    return {
        "deadline_seconds": results.deadline_seconds,
        "rounds": results.rounds,
        "over_budget": [route.name for route in results.over_budget()],
        "refused_unstalled": [route.name for route in results.refused_unstalled()],
        "routes": routes,
    }


def deadline_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """`REQUEST_DEADLINE_SECONDS` as the API reads it (default 10)."""
    raw = environ.get("REQUEST_DEADLINE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_DEADLINE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"REQUEST_DEADLINE_SECONDS must be a number of seconds, got {raw!r}.") from None
    if value <= 0:
        raise SystemExit(f"REQUEST_DEADLINE_SECONDS must be positive, got {raw!r}.")
    return value


# ---- The stack ------------------------------------------------------------------------------------------


@dataclass
class FaultStack:
    """The running stack: the API's URL, one proxy per dependency, and what the bootstrap made."""

    api_url: str
    proxies: dict[str, StallingProxy]
    employer_id: str
    employer_key: str
    account_id: str
    webhook_secret: str
    # How long a round waits, stalled, before it sends: every cache of the API has expired by then.
    age_out_seconds: float = 2.0


def _api_environment(base: Mapping[str, str], proxies: Mapping[str, StallingProxy]) -> dict[str, str]:
    environment = dict(base)
    for dependency, variable in DEPENDENCY_VARIABLES.items():
        environment[variable] = proxies[dependency].url
    for name, value in API_DEFAULTS.items():
        environment[name] = os.environ.get(name, value)
    return environment


def age_out_seconds(environment: Mapping[str, str]) -> float:
    """One second past the longest cache age the API runs with (at most MAX_AGE_WAIT_SECONDS)."""
    longest = max(float(environment.get(name) or default) for name, default in CACHE_AGES.items())
    return min(MAX_AGE_WAIT_SECONDS, longest + 1.0)


@contextmanager
def fault_stack(work: Path) -> Iterator[FaultStack]:
    """moto, both sandboxes, the bootstrap, one sync and snapshot, the proxies and the API; all stopped
    (by PID) and closed at the end."""
    from local.bootstrap import BootstrapNames, bootstrap
    from local.processes import ManagedProcess, free_port, http_answers, wait_until
    from local.stack import LocalStackConfig, app_environment, local_settings

    config = LocalStackConfig(
        moto_port=free_port(),
        stackone_port=free_port(),
        embloy_port=free_port(),
        api_port=free_port(),
        state_dir=work,
    )
    config.board_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    base_env = app_environment(config, sync_queue_url="")

    with ExitStack() as stack:

        def start(name: str, argv: list[str], env: Mapping[str, str], health: str) -> None:
            process = ManagedProcess(
                name,
                argv,
                env=env,
                cwd=PROJECT_DIR,
                log_path=config.log_dir / f"{name.replace(' ', '-')}.log",
            )
            stack.callback(process.stop)
            wait_until(
                lambda: http_answers(health, ok_statuses=lambda status: status == 200),
                what=name,
                timeout_seconds=90,
                process=process,
            )

        start(
            "moto server",
            [str(bin_dir / "moto_server"), "-H", HOST, "-p", str(config.moto_port)],
            base_env,
            f"{config.moto_url}/moto-api/",
        )
        start(
            "stackone sandbox",
            [
                sys.executable,
                "-m",
                "sandbox.stackone",
                "--host",
                HOST,
                "--port",
                str(config.stackone_port),
                "--api-key",
                config.stackone_api_key,
                "--public-url",
                config.stackone_url,
            ],
            base_env,
            f"{config.stackone_url}/_sandbox/health",
        )
        start(
            "embloy sandbox",
            [sys.executable, "-m", "sandbox.embloy", "--host", HOST, "--port", str(config.embloy_port)],
            base_env,
            f"{config.embloy_url}/_sandbox/health",
        )
        log(f"bootstrapping moto at {config.moto_url}")
        booted = bootstrap(
            config.moto_url,
            names=BootstrapNames.from_settings(local_settings(base_env)),
            stackone_api_key=config.stackone_api_key,
            region=config.region,
        )
        direct_env = app_environment(
            config,
            sync_queue_url=booted.queue_url,
            snapshot_queue_url=booted.snapshot_queue_url,
            snapshot_bucket=booted.snapshot_bucket,
            email_queue_url=booted.email_queue_url,
            numbers_queue_url=booted.numbers_queue_url,
        )
        log("first sync and board snapshot (python -m local.scheduler --once)")
        with (config.log_dir / "scheduler.log").open("wb") as scheduler_log:
            tick = subprocess.run(
                [sys.executable, "-m", "local.scheduler", "--once"],
                env=direct_env,
                cwd=PROJECT_DIR,
                stdout=scheduler_log,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
        if tick.returncode != 0:
            log(f"the first scheduler tick reported failures (exit {tick.returncode}); going on")

        upstreams = {
            **{name: (HOST, config.moto_port) for name in ("dynamodb", "s3", "secretsmanager", "sqs")},
            "stackone": (HOST, config.stackone_port),
            "embloy": (HOST, config.embloy_port),
        }
        proxies = {name: StallingProxy(upstream, name=name).start() for name, upstream in upstreams.items()}
        for proxy in proxies.values():
            stack.callback(proxy.close)
        api_env = _api_environment(direct_env, proxies)
        start(
            "chalice local",
            [
                sys.executable,
                "-m",
                "local.api_server",
                "--stage",
                "local",
                "--host",
                HOST,
                "--port",
                str(config.api_port),
            ],
            api_env,
            f"{config.api_url}/health",
        )
        # Northwind (Ashby) has an Embloy token: its postings take both kinds of application.
        access = next(item for item in booted.employers if item.embloy_configured and item.api_key)
        yield FaultStack(
            api_url=config.api_url,
            proxies=proxies,
            employer_id=access.employer.employer_id,
            employer_key=str(access.api_key),
            account_id=access.employer.account_id,
            webhook_secret=booted.webhook_secret,
            age_out_seconds=age_out_seconds(api_env),
        )


# ---- The requests ---------------------------------------------------------------------------------------

Call = Callable[[httpx.Client], httpx.Response]


@dataclass(frozen=True)
class Targets:
    """What the requests name: a live job, one that takes native applications, one that takes Embloy."""

    job_id: str
    native_job: dict[str, Any]
    embloy_job_id: str


def find_targets(api_url: str, account_id: str) -> Targets:
    """Jobs of the employer's account from the board: one for each kind of application."""
    from chalicelib.models.posting import parse_job_id

    with httpx.Client(base_url=api_url, timeout=30, trust_env=False) as client:
        listing = client.get("/jobs", params={"limit": 100}).json()["data"]
        jobs = [client.get(f"/jobs/{item['job_id']}").json() for item in listing]
    own = [job for job in jobs if parse_job_id(job["job_id"])[0] == account_id]
    native = next(job for job in own if job["apply"].get("native"))
    embloy = next(job for job in own if job["apply"].get("embloy"))
    return Targets(job_id=own[0]["job_id"], native_job=native, embloy_job_id=embloy["job_id"])


def _answers(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An answer to every question of the posting (what its form would send)."""
    values: dict[str, Any] = {
        "boolean": True,
        "number": 7,
        "date": "2027-02-01",
        "url": "https://ada.example/portfolio",
        "attachment": {
            "filename": "cover-letter.txt",
            "content_base64": base64.b64encode(b"Dear team,\nHello.\n").decode(),
        },
    }
    answers = []
    for questionnaire in job.get("questionnaires") or []:
        for question in questionnaire["questions"]:
            options = [option["id"] for option in question.get("options", [])]
            value: Any
            if question["type"] == "single_select":
                value = options[0]
            elif question["type"] == "multi_select":
                value = options[:1]
            else:
                value = values.get(question["type"], "Ada")
            answers.append(
                {"questionnaire_id": questionnaire["id"], "question_id": question["id"], "value": value}
            )
    return answers


def upload_resume(api_url: str, job_id: str) -> str:
    """A resume uploaded as the browser uploads it (presigned POST, through the S3 proxy); its upload id."""
    with httpx.Client(base_url=api_url, timeout=30, trust_env=False) as client:
        created = client.post(f"/jobs/{job_id}/resume-uploads", json={"filename": "cv.pdf"})
        created.raise_for_status()
        form = created.json()
        posted = client.post(
            form["url"], data=form["fields"], files={"file": ("cv.pdf", PDF, form["fields"]["Content-Type"])}
        )
        posted.raise_for_status()
    return str(form["upload_id"])


def route_calls(
    stack: FaultStack, targets: Targets, upload_id: str, round_name: str
) -> list[tuple[Route, Call]]:
    """One representative request per route; applications and webhooks are new in every round."""
    from chalicelib.models.posting import parse_job_id
    from chalicelib.services.webhooks import sign
    from sandbox.embloy import demo_client_token

    job_id, native_id, embloy_id = targets.job_id, targets.native_job["job_id"], targets.embloy_job_id
    employer = {"Authorization": f"Bearer {stack.employer_key}"}
    unique = f"{round_name}-{uuid.uuid4().hex[:8]}"
    application = {
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": f"ada.{unique}@example.com"},
        "answers": _answers(targets.native_job),
        "resume": {"filename": "cv.pdf", "upload_id": upload_id},
    }
    now = datetime.now(UTC).isoformat()
    account_id, posting_id = parse_job_id(job_id)
    webhook = json.dumps(
        {
            "project_id": "bench",
            "event": "ats_job_postings.updated",
            "account_id": account_id,
            "record_id": posting_id,
            "event_date": now,
            "sent_at": now,
        }
    ).encode()
    webhook_headers = {
        "Content-Type": "application/json",
        "x-stackone-signature": sign(stack.webhook_secret, webhook),
    }

    def get(path: str, **kwargs: Any) -> Call:
        return lambda client: client.get(path, **kwargs)

    def post(path: str, **kwargs: Any) -> Call:
        return lambda client: client.post(path, **kwargs)

    return [
        (Route("GET /health"), get("/health")),
        (Route("GET /jobs", board_read=True), get("/jobs")),
        (Route("GET /jobs?q=engineer", board_read=True), get("/jobs", params={"q": "engineer"})),
        (Route("GET /jobs/{job_id}", board_read=True), get(f"/jobs/{job_id}")),
        (Route("GET /board", board_read=True), get("/board")),
        (Route("GET /board/jobs/{job_id}", board_read=True), get(f"/board/jobs/{job_id}")),
        # A browser's view is counted (one SQS send, cut off at NUMBERS_SEND_TIMEOUT_SECONDS); httpx's own
        # user agent is a bot's and is not.
        (
            Route("GET /board/jobs/{job_id} (counted view)", board_read=True),
            get(f"/board/jobs/{job_id}", headers=BROWSER),
        ),
        (
            Route("POST /jobs/{id}/events"),
            post(f"/jobs/{job_id}/events", json={"type": "apply_start"}, headers=BROWSER),
        ),
        (Route("GET /feed.xml", board_read=True), get("/feed.xml")),
        (Route("GET /sitemap.xml", board_read=True), get("/sitemap.xml")),
        (Route("GET /accounts"), get("/accounts", headers=employer)),
        (Route("POST /accounts/{id}/sync"), post(f"/accounts/{stack.account_id}/sync", headers=employer)),
        (Route("GET /applications"), get("/applications", headers=employer)),
        (Route("GET /employer/numbers"), get("/employer/numbers", headers=employer)),
        (
            Route("POST /connect-sessions"),
            post("/connect-sessions", headers=employer, json={"provider": "ashby"}),
        ),
        (
            Route("PUT /employer/embloy-token"),
            lambda client: client.put(
                "/employer/embloy-token",
                headers=employer,
                json={"client_token": demo_client_token(stack.employer_id)},
            ),
        ),
        (
            Route("POST /jobs/{id}/resume-uploads"),
            post(f"/jobs/{native_id}/resume-uploads", json={"filename": "cv.pdf"}),
        ),
        (
            Route("POST /jobs/{id}/applications"),
            post(f"/jobs/{native_id}/applications", json=application, headers={"Idempotency-Key": unique}),
        ),
        (Route("POST /jobs/{id}/apply/embloy"), post(f"/jobs/{embloy_id}/apply/embloy", json={})),
        (
            Route("POST /webhooks/stackone"),
            post("/webhooks/stackone", content=webhook, headers=webhook_headers),
        ),
    ]


def timed(api_url: str, call: Call, cap_seconds: float) -> Answer:
    """Send one request on a connection of its own; its status and time, or no status at the cap."""
    with httpx.Client(base_url=api_url, timeout=httpx.Timeout(cap_seconds), trust_env=False) as client:
        started = time.perf_counter()
        try:
            response = call(client)
        except httpx.HTTPError:
            return Answer(None, time.perf_counter() - started)
        seconds = time.perf_counter() - started
    code = ""
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        try:
            code = str(response.json().get("error", {}).get("code", ""))
        except (ValueError, AttributeError):
            code = ""
    return Answer(response.status_code, seconds, code, "retry-after" in response.headers)


def run_round(
    api_url: str, calls: Sequence[tuple[Route, Call]], *, cap_seconds: float, sequential: bool
) -> dict[str, Answer]:
    """Every call once: all at once (each its own connection), or one after another."""
    with ThreadPoolExecutor(max_workers=1 if sequential else len(calls)) as pool:
        futures = {route.name: pool.submit(timed, api_url, call, cap_seconds) for route, call in calls}
        return {name: future.result() for name, future in futures.items()}


def run_bench(
    stack: FaultStack, dependencies: Sequence[str], *, cap_seconds: float, sequential: bool, deadline: float
) -> BenchResults:
    """The warm-up pass, the round with nothing stalled, then one round per stalled dependency."""
    targets = find_targets(stack.api_url, stack.account_id)
    warm_up = route_calls(
        stack, targets, upload_resume(stack.api_url, targets.native_job["job_id"]), "warm-up"
    )
    run_round(stack.api_url, warm_up, cap_seconds=cap_seconds, sequential=True)
    results = BenchResults(deadline, [route for route, _ in warm_up], [BASELINE, *dependencies])
    for round_name in results.rounds:
        # Prepared with nothing stalled: each application names a fresh upload of its own.
        calls = route_calls(
            stack, targets, upload_resume(stack.api_url, targets.native_job["job_id"]), round_name
        )
        proxy = stack.proxies.get(round_name)
        log(f"round `{round_name}`: {len(calls)} requests" + (f" while {round_name} stalls" if proxy else ""))
        started = time.perf_counter()
        _verify_employer_key(stack)
        with proxy.stalled() if proxy is not None else nullcontext():
            # Sent once the API's caches have aged out: what a stall longer than them meets (and, with
            # nothing stalled, what a refresh costs), the same in every round whatever ran before.
            time.sleep(stack.age_out_seconds)
            answers = run_round(stack.api_url, calls, cap_seconds=cap_seconds, sequential=sequential)
        log(f"round `{round_name}` took {time.perf_counter() - started:.1f} s")
        for name, answer in answers.items():
            results.answers[name, round_name] = answer
        _settle(stack.api_url)
    return results


def _verify_employer_key(stack: FaultStack) -> None:
    """One employer request with nothing stalled, so the API has the key cached when the round starts."""
    response = httpx.get(
        f"{stack.api_url}/employer",
        headers={"Authorization": f"Bearer {stack.employer_key}"},
        timeout=30,
        trust_env=False,
    )
    if response.status_code != 200:
        log(f"GET /employer answered {response.status_code} with nothing stalled")


def _settle(api_url: str) -> None:
    """Wait (bounded) until the API answers again after a stall, so rounds do not leak into each other."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        default=",".join(DEPENDENCIES),
        help=f"comma-separated dependencies to stall (default: all of {', '.join(DEPENDENCIES)})",
    )
    parser.add_argument(
        "--cap-seconds", type=float, default=DEFAULT_CAP_SECONDS, help="client-side cap per request"
    )
    parser.add_argument("--sequential", action="store_true", help="one request at a time in each round")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any route is over its budget")
    args = parser.parse_args(argv)
    dependencies = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(dependencies) - set(DEPENDENCIES))
    if unknown:
        parser.error(f"unknown dependencies {unknown}; choose from {', '.join(DEPENDENCIES)}")
    deadline = deadline_from_env()

    work = Path(tempfile.mkdtemp(prefix="fault-bench-"))
    started = time.perf_counter()
    try:
        with fault_stack(work) as stack:
            results = run_bench(
                stack,
                dependencies,
                cap_seconds=args.cap_seconds,
                sequential=args.sequential,
                deadline=deadline,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mode = "one at a time" if args.sequential else "all routes at once"
    print(
        f"fault bench: each dependency stalled in turn ({mode}, client cap {args.cap_seconds:g} s, "
        f"REQUEST_DEADLINE_SECONDS={deadline:g}); {time.perf_counter() - started:.0f} s in all"
    )
    print(format_table(results))
    print(json.dumps(summary_json(results)))
    return 1 if args.strict and (results.over_budget() or results.refused_unstalled()) else 0


if __name__ == "__main__":
    sys.exit(main())
