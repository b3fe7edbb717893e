"""`sync` command: run the account sync in-process against the configured STACKONE_BASE_URL.

    python -m chalicelib.cli sync [--account ID] [--full]

Without `--account` every active ATS account is synced (in parallel, up to the worker concurrency),
exactly as the SQS worker would; a summary line per account and the totals are printed.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def register(groups: Any) -> None:
    parser: argparse.ArgumentParser = groups.add_parser("sync", help="sync postings from StackOne now")
    parser.add_argument("--account", help="sync only this linked account id")
    parser.add_argument(
        "--full", action="store_true", help="full sweep: close postings StackOne no longer lists"
    )
    parser.add_argument("--concurrency", type=int, default=None, help="accounts in parallel")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import deps
    from chalicelib.services.sync import CountingMetrics, Mode, SyncReport, SyncService, new_run_id
    from chalicelib.settings import get_settings

    settings = get_settings()
    metrics = CountingMetrics()
    service = SyncService(
        deps.get_stackone_client(),
        deps.get_postings_repository(),
        deps.get_sync_state_repository(),
        deps.get_sync_publisher(),
        policy=deps.sync_policy(),
        metrics=metrics,
    )
    run_id = f"cli-{new_run_id()}"
    mode: Mode = "full" if args.full else "auto"
    if args.account:
        account_ids = [args.account]
    else:
        account_ids = [account.id for account in service.active_ats_accounts()]
    print(f"syncing {len(account_ids)} account(s) from {settings.stackone_base_url} (run {run_id}, {mode})")
    workers = max(1, args.concurrency or settings.sync_worker_concurrency)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reports: list[SyncReport] = list(
            pool.map(lambda account_id: service.sync_account(account_id, run_id, mode), account_ids)
        )
    print(
        f"{'account':<32} {'mode':<6} {'outcome':<16} "
        f"{'upserted':>8} {'unchanged':>9} {'closed':>6} {'live':>6}"
    )
    for report in reports:
        print(
            f"{report.account_id:<32} {report.mode:<6} {report.outcome:<16} {report.upserted:>8} "
            f"{report.unchanged:>9} {report.closed:>6} {report.live_postings:>6}"
            + (f"  {report.error_code}" if report.error_code else "")
        )
    failed = sum(1 for report in reports if report.outcome != "succeeded")
    print(
        f"total: {len(reports)} account(s), {failed} not succeeded; "
        f"upserted {sum(r.upserted for r in reports)}, unchanged {sum(r.unchanged for r in reports)}, "
        f"closed {sum(r.closed for r in reports)}, live {sum(r.live_postings for r in reports)}"
    )
    return 1 if failed else 0
