"""Page weight: what a first visit to the board and to a job page transfers, now against a baseline revision.

Both frontends run side by side in the same run (`chalice local` of this tree, and of `--baseline` exported
with `git archive`) against one moto server seeded with the StackOne sandbox's demo postings (mapped by
the sync's own mapping). Chromium (Debian's, through Playwright) opens each page with an empty cache and
waits until the network is idle, i.e. until the page shows its results or posting; every response counts
(HTML, CSS, scripts, icons and the API calls the page's scripts make), headers included. `gzip` is what
the same bodies weigh gzip-compressed (level 6), for a deployment that compresses.

    python -m bench.page_weight [--baseline b8e4740] [--screenshots artifacts/compare]

`--screenshots DIR` also saves each page of both versions at desktop (1366x900) and phone (390x844) size
once it has settled (`{page}-{version}-{size}.png`).

Prints a table per page, then one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from local.processes import ManagedProcess, free_port, http_answers, wait_until

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
DEFAULT_BASELINE = "b8e4740"  # the frontend before server rendering


@contextmanager
def _process(argv: list[str], *, cwd: Path, env: dict[str, str], health: str) -> Iterator[None]:
    """A server started by its own binary, running until `health` answers below 500; stopped by its PID."""
    with tempfile.TemporaryDirectory() as logs:
        process = ManagedProcess(
            Path(argv[0]).name, argv, env=env, cwd=cwd, log_path=Path(logs) / "server.log"
        )
        try:
            wait_until(lambda: http_answers(health), what=process.name, timeout_seconds=90, process=process)
            yield
        finally:
            process.stop()


def _demo_items() -> list[dict[str, Any]]:
    from chalicelib.aws.posting_items import posting_to_item
    from chalicelib.services.mapping import AccountInfo, map_posting
    from sandbox.demo_employers import DEMO_EMPLOYERS
    from sandbox.stackone import seed

    rng = random.Random(42)
    items = []
    seen = datetime(2026, 11, 1, tzinfo=UTC)
    for employer in DEMO_EMPLOYERS:
        account = AccountInfo(employer.account_id, employer.employer_id, employer.name, employer.provider)
        for raw in seed.demo_postings(employer, rng):
            if seed.is_on_board(raw):
                posting = map_posting(raw, account)
                posting.first_seen_at = posting.last_seen_at = posting.changed_at = seen
                items.append(posting_to_item(posting))
    return items


@dataclass
class Weight:
    page: str
    version: str
    requests: int
    bytes: int
    html_bytes: int
    gzip_bytes: int
    status: int


def _measure(browser: Any, url: str, page_name: str, version: str) -> Weight:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, service_workers="block")
    page = context.new_page()
    seen: list[Any] = []
    page.on("requestfinished", lambda request: seen.append(request))
    response = page.goto(url, wait_until="networkidle")
    total = compressed = 0
    for request in seen:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        answer = request.response()
        body = answer.body() if answer is not None and answer.status != 304 else b""
        compressed += len(gzip.compress(body, compresslevel=6)) + sizes["responseHeadersSize"]
    html = len(response.body()) if response is not None else 0
    status = response.status if response is not None else 0
    context.close()
    return Weight(page_name, version, len(seen), total, html, compressed, status)


def _screenshots(browser: Any, url: str, prefix: Path) -> None:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for size, viewport in (
        ("desktop", {"width": 1366, "height": 900}),
        ("phone", {"width": 390, "height": 844}),
    ):
        context = browser.new_context(viewport=viewport, service_workers="block")
        page = context.new_page()
        page.goto(url, wait_until="networkidle")
        page.screenshot(path=f"{prefix}-{size}.png")
        page.screenshot(path=f"{prefix}-{size}-full.png", full_page=True)
        context.close()


def _export(revision: str, target: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=PROJECT_DIR, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare against")
    parser.add_argument("--screenshots", type=Path, help="save before/after screenshots in this directory")
    args = parser.parse_args(argv)

    import boto3
    from playwright.sync_api import sync_playwright

    from local.bootstrap import BootstrapNames, bootstrap
    from local.stack import LocalStackConfig, app_environment, local_settings

    work = Path(tempfile.mkdtemp(prefix="page-weight-"))
    ports = {"moto": free_port(), "now": free_port(), "baseline": free_port()}
    config = LocalStackConfig(
        moto_port=ports["moto"],
        stackone_port=free_port(),
        embloy_port=free_port(),
        api_port=ports["now"],
        state_dir=work / "state",
    )
    env = app_environment(config, sync_queue_url="")
    bin_dir = Path(sys.executable).parent
    baseline_dir = work / "baseline"
    _export(args.baseline, baseline_dir)
    results: list[Weight] = []
    try:
        with _process(
            [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(ports["moto"])],
            cwd=PROJECT_DIR,
            env=env,
            health=f"{config.moto_url}/moto-api/",
        ):
            names = BootstrapNames.from_settings(local_settings(env))
            result = bootstrap(config.moto_url, names=names, stackone_api_key="unused")
            table = boto3.resource(
                "dynamodb",
                endpoint_url=config.moto_url,
                region_name=config.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            ).Table(names.table_name)
            items = _demo_items()
            with table.batch_writer() as batch:
                for item in items:
                    batch.put_item(Item=item)
            job_id = str(items[0]["job_id"])
            servers = {}
            for version, directory in (("now", PROJECT_DIR), ("baseline", baseline_dir)):
                port = ports[version]
                server_env = app_environment(
                    config, sync_queue_url=result.queue_url, snapshot_bucket=result.snapshot_bucket
                )
                server_env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}/board"
                server_env["BOARD_LOCAL_DIRECTORY"] = str(work / f"board-{version}")
                (work / f"board-{version}").mkdir(parents=True)
                servers[version] = (directory, port, server_env)
            with _frontends(servers, bin_dir), sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                    headless=True,
                )
                for page_name, path in (("board", "/board"), ("job", f"/board/jobs/{job_id}")):
                    for version in ("baseline", "now"):
                        url = f"http://127.0.0.1:{ports[version]}{path}"
                        results.append(_measure(browser, url, page_name, version))
                        if args.screenshots:
                            _screenshots(browser, url, args.screenshots / f"{page_name}-{version}")
                browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"page weight, first visit with an empty cache ({len(items)} demo postings; baseline {args.baseline})"
    )
    print(f"{'page':<6} {'version':<9} {'requests':>8} {'bytes':>9} {'html':>8} {'gzip':>8} {'status':>6}")
    for weight in results:
        print(
            f"{weight.page:<6} {weight.version:<9} {weight.requests:>8} {weight.bytes:>9,} "
            f"{weight.html_bytes:>8,} {weight.gzip_bytes:>8,} {weight.status:>6}"
        )
    ratios = {}
    for page_name in ("board", "job"):
        now = next(w for w in results if w.page == page_name and w.version == "now")
        base = next(w for w in results if w.page == page_name and w.version == "baseline")
        ratios[page_name] = round(now.bytes / base.bytes, 3)
        print(f"{page_name}: now/baseline bytes = {ratios[page_name]}")
    print(json.dumps({"baseline": args.baseline, "results": [asdict(w) for w in results], "ratios": ratios}))
    return 0


@contextmanager
def _frontends(servers: dict[str, tuple[Path, int, dict[str, str]]], bin_dir: Path) -> Iterator[None]:
    """Both frontends' `chalice local`, each from its own source tree."""
    (now_dir, now_port, now_env), (base_dir, base_port, base_env) = servers["now"], servers["baseline"]

    def argv(port: int) -> list[str]:
        chalice = str(bin_dir / "chalice")
        return [
            chalice,
            "local",
            "--no-autoreload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--stage",
            "local",
        ]

    with (
        _process(argv(now_port), cwd=now_dir, env=now_env, health=f"http://127.0.0.1:{now_port}/health"),
        _process(argv(base_port), cwd=base_dir, env=base_env, health=f"http://127.0.0.1:{base_port}/health"),
    ):
        yield


if __name__ == "__main__":
    sys.exit(main())
