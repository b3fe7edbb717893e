"""Job alert matching benchmark: `python -m bench.alerts` (or `make bench-alerts`; `--quick` for a smoke run).

One run:
1. A board of `--board` generated postings (`bench.board_data.generate`, deterministic; default 100,000),
   of which `--new` (default 1,000, spread over the board) were first seen in the last 14 minutes and the
   rest days to months ago. Its index is built once with the board's own `BoardEngine.create`.
2. `--searches` stored searches (default 100,000) with a realistic spread: role, skill, seniority and
   multi-word queries, prefixes as typed, typos, long-tail words, and filters (location by city or
   country, remote, employment type, department, company, provider), drawn with Zipf-like popularity
   so that, as on real boards, many alerts share a search. Each is an active instant alert.
3. Ours, in a FRESH process (its peak RSS is its own): the whole `send_alert_digests` function minus
   the network: open the board, read the due alerts (an in-memory store), match the postings first seen
   in the window against every alert's search (`AlertMatcher`: the board's engine, each distinct search
   once), build each digest (`EmailRequested`: postings, signed links, RFC 8058 headers) and hand it to
   an outbox that only counts. Timed: the whole run and the matching alone. Budget: <= 60 s and <= 1 GB.
4. Baseline, in another fresh process: each stored search run as a full board query, as `GET /jobs`
   runs it (`BoardEngine.search` of its plan: first page of 20, total and facet counts), over a uniform
   sample of `--baseline-sample` searches (default 2,000), extrapolated to all of them. A full board query
   still only gives a first page: finding the new postings among all results would take more (so the
   baseline is a lower bound). The same process checks agreement: for sampled searches with at most
   2,000 results, every result page is read and cut to the new postings, and must equal the matcher's.

Prints a table, then ONE JSON line. All figures are from one machine (see `machine`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.board_common import PROJECT_DIR, bench_environment, peak_rss_mb, write_result

if TYPE_CHECKING:
    from chalicelib.models.alerts import Alert, Frequency
    from chalicelib.models.messages import EmailRequested
    from chalicelib.models.posting import Posting

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
TIME_BUDGET_SECONDS = 60.0
MEMORY_BUDGET_MB = 1024.0
AGREEMENT_MAX_TOTAL = 2_000
CHUNK = 10_000  # postings generated per call of `generate` (then renumbered: ids stay unique)


def say(text: str) -> None:
    print(text, flush=True)


# ---- the board -------------------------------------------------------------------------------------
def board_postings(size: int, new: int, seed: int) -> Iterator[Posting]:
    """`size` postings; `new` of them (every size//new-th) first seen in the window, the rest earlier."""
    from bench.board_data import generate
    from chalicelib.models.posting import make_job_id

    rng = random.Random(seed)
    step = max(1, size // max(new, 1))
    made = 0
    for chunk in range(0, size, CHUNK):
        count = min(CHUNK, size - chunk)
        # Posted a day or more ago: only the chosen ones are new in the window.
        for posting in generate(count, seed=seed + chunk, now=NOW - timedelta(days=1)):
            number = made
            made += 1
            posting_id = f"post_{number:07d}"
            update: dict[str, Any] = {
                "posting_id": posting_id,
                "job_id": make_job_id(posting.account_id, posting_id),
            }
            if number % step == 0 and number // step < new:
                # First seen in the last 14 minutes (past the digest's 30 s settle margin).
                seen = NOW - timedelta(seconds=rng.randint(60, 14 * 60))
                update.update(first_seen_at=seen, changed_at=seen, last_seen_at=seen)
            yield posting.model_copy(update=update)


def build_board(size: int, new: int, seed: int, directory: Path) -> dict[str, Any]:
    from chalicelib.clock import isoformat
    from chalicelib.services.board.engine import BoardEngine, board_document, sort_key_of

    started = time.perf_counter()
    postings = list(board_postings(size, new, seed))
    generated = time.perf_counter() - started
    postings.sort(key=sort_key_of, reverse=True)

    def documents() -> Iterator[Any]:
        for posting in postings:
            assert posting.changed_at is not None
            key = f"{isoformat(posting.changed_at)}#{posting.job_id}"
            yield board_document(posting, content_hash=posting.posting_id, changed_key=key)

    started = time.perf_counter()
    BoardEngine.create(directory, documents())
    built = time.perf_counter() - started
    say(f"1. board: {size:,} postings ({new:,} new) generated in {generated:.1f}s, indexed in {built:.1f}s")
    return {
        "board": size,
        "new": new,
        "generate_seconds": round(generated, 1),
        "index_seconds": round(built, 1),
    }


# ---- the stored searches ------------------------------------------------------------------------------
def _zipf(rng: random.Random, options: list[str]) -> str:
    weights = [1 / (rank + 1) for rank in range(len(options))]
    return rng.choices(options, weights=weights)[0]


def _typo(rng: random.Random, word: str) -> str:
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def stored_searches(count: int, seed: int) -> list[dict[str, list[str]]]:
    """`count` search parameter sets, popular ones repeated (Zipf-like), as people set up alerts."""
    from bench.board_data import (
        CITIES,
        EMPLOYMENT,
        PROVIDERS,
        RARE_WORDS,
        ROLES,
        SENIORITY,
        SKILLS,
        companies,
    )

    rng = random.Random(seed)
    roles = [role.lower() for role, _ in ROLES]
    skills = [skill.lower() for skill in SKILLS]
    seniority = [s.lower() for s in SENIORITY if s and " " not in s]
    words = sorted({w for text in roles + skills for w in text.split() if len(w) >= 5})
    cities = [city.split(",")[0] for city in CITIES]
    countries = sorted({city.rsplit(",", 1)[-1].strip() for city in CITIES})
    departments = sorted({department for _, department in ROLES})
    company_names = companies()
    rare = list(RARE_WORDS[:2000])
    searches: list[dict[str, list[str]]] = []
    for _ in range(count):
        params: dict[str, list[str]] = {}
        kind = rng.random()
        if kind < 0.28:
            role = _zipf(rng, roles)
            params["q"] = [f"{rng.choice(seniority)} {role}" if rng.random() < 0.3 else role]
        elif kind < 0.48:
            params["q"] = [_zipf(rng, skills)]
        elif kind < 0.58:
            params["q"] = [f"{_zipf(rng, skills)} {_zipf(rng, roles).split()[-1]}"]
        elif kind < 0.63:
            word = _zipf(rng, words)
            params["q"] = [word[: rng.randint(3, min(5, len(word) - 1))]]
        elif kind < 0.66:
            params["q"] = [_typo(rng, _zipf(rng, words))]
        elif kind < 0.70:
            params["q"] = [rng.choice(rare)]
        if rng.random() < 0.45:
            places = cities if rng.random() < 0.7 else countries
            params["location"] = sorted({_zipf(rng, places) for _ in range(1 if rng.random() < 0.8 else 2)})
        if rng.random() < 0.2:
            params["remote"] = ["true" if rng.random() < 0.8 else "false"]
        if rng.random() < 0.1:
            params["employment_type"] = [rng.choice(sorted(set(EMPLOYMENT)))]
        if rng.random() < 0.12:
            params["department"] = [_zipf(rng, departments)]
        if rng.random() < 0.05:
            params["company"] = [_zipf(rng, company_names)]
        if rng.random() < 0.02:
            params["provider"] = [rng.choice(PROVIDERS)]
        if not params and rng.random() < 0.9:  # "everything" alerts are rare
            params["location"] = [_zipf(rng, cities)]
        searches.append(params)
    return searches


def make_alerts(searches: list[dict[str, list[str]]]) -> list[Alert]:
    from chalicelib.clock import isoformat
    from chalicelib.models.alerts import Alert, AlertSearch

    watermark = isoformat(NOW - WINDOW)
    return [
        Alert(
            alert_id=f"al_{number:06d}",
            email=f"reader{number}@example.org",
            email_hash=f"{number:064x}",
            search=AlertSearch.from_params(params),
            frequency="instant",
            status="active",
            created_at=NOW - timedelta(days=30),
            confirmed_at=NOW - timedelta(days=30),
            last_sent_at=NOW - WINDOW,
            watermark=watermark,
        )
        for number, params in enumerate(searches)
    ]


# ---- in-memory collaborators of the measured function ------------------------------------------------
class MemoryAlertStore:
    def __init__(self, alerts: list[Alert]) -> None:
        self.alerts = alerts
        self.advanced = 0

    def due(self, frequency: Frequency, *, sent_before: datetime) -> Iterator[Alert]:
        return iter(
            [a for a in self.alerts if a.frequency == frequency and (a.last_sent_at or NOW) < sent_before]
        )

    def advance(self, alert_id: str, *, watermark: str, sent_at: datetime) -> None:
        self.advanced += 1

    def put(self, alert: Alert) -> None: ...
    def get(self, alert_id: str) -> Alert | None:
        return None

    def delete(self, alert_id: str) -> None: ...

    def count_for_address(self, email_hash: str) -> int:
        return 0

    def delete_all_for_address(self, email_hash: str) -> int:
        return 0


class CountingOutbox:
    def __init__(self) -> None:
        self.messages = 0
        self.postings = 0
        self.bytes = 0

    def enqueue(self, messages: list[EmailRequested]) -> int:
        self.messages += len(messages)
        self.postings += sum(len(m.context["postings"]) for m in messages)
        self.bytes += sum(len(m.model_dump_json()) for m in messages)
        return len(messages)


# ---- child processes --------------------------------------------------------------------------------
def run_ours(directory: Path, searches_path: Path, out: Path) -> None:
    """The measured function: open the board, match every due alert, build every digest."""
    from chalicelib.services.alert_digests import AlertDigestService, DigestPolicy
    from chalicelib.services.alert_links import AlertLinks
    from chalicelib.services.board import alert_matching
    from chalicelib.services.board.engine import BoardEngine

    searches = json.loads(searches_path.read_text())
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    alerts = make_alerts(searches)
    alerts_seconds = time.perf_counter() - started
    del searches

    matching = {"seconds": 0.0}
    original = alert_matching.AlertMatcher.new_for

    def timed_new_for(self: Any, search: Any, *, after_ms: int) -> Any:
        began = time.perf_counter()
        try:
            return original(self, search, after_ms=after_ms)
        finally:
            matching["seconds"] += time.perf_counter() - began

    alert_matching.AlertMatcher.new_for = timed_new_for  # type: ignore[method-assign]
    store, outbox = MemoryAlertStore(alerts), CountingOutbox()
    started = time.perf_counter()
    engine = BoardEngine(directory)
    service = AlertDigestService(
        store,
        lambda: engine,
        outbox,  # type: ignore[arg-type]
        AlertLinks(b"bench-alert-links-key-0123456789", pages_base_url="https://board.example/board"),
        public_base_url="https://board.example/board",
        policy=DigestPolicy(time_budget_seconds=3600),
        clock=lambda: NOW,
    )
    report = service.run()
    run_seconds = time.perf_counter() - started
    write_result(
        out,
        {
            "alerts": len(alerts),
            "alerts_build_seconds": round(alerts_seconds, 2),
            "run_seconds": round(run_seconds, 2),
            "matching_seconds": round(matching["seconds"], 2),
            "new_postings": report.new_postings.get("instant", 0),
            "distinct_searches": report.distinct_searches,
            "digests": outbox.messages,
            "postings_in_digests": outbox.postings,
            "digest_bytes": outbox.bytes,
            "advanced": store.advanced,
            "deferred": report.deferred,
            "peak_rss_mb": peak_rss_mb(),
            "peak_rss_before_mb": rss_before,
        },
    )


def run_baseline(directory: Path, searches_path: Path, sample: int, seed: int, out: Path) -> None:
    """Each sampled stored search as `GET /jobs` runs it on the whole board; then the agreement check."""
    from chalicelib.clock import isoformat
    from chalicelib.models.alerts import AlertSearch
    from chalicelib.services.board.alert_matching import AlertMatcher
    from chalicelib.services.board.engine import BoardEngine, epoch_ms

    searches = json.loads(searches_path.read_text())
    chosen = random.Random(seed).sample(searches, min(sample, len(searches)))
    plans = [AlertSearch.from_params(params).board_query().plan() for params in chosen]
    engine = BoardEngine(directory)
    timings: list[float] = []
    totals: list[int] = []
    for plan in plans:
        began = time.perf_counter()
        page = engine.search(plan, after=None, limit=20)
        timings.append(time.perf_counter() - began)
        totals.append(page.total)
    # Agreement: the whole result of a board query, cut to the new postings, equals the matcher's.
    until = NOW - timedelta(seconds=30)
    matcher = AlertMatcher.first_seen_between(engine, epoch_ms(NOW - WINDOW), epoch_ms(until))
    new_ids = {hit.job_id for hit in engine.hits([p.slot for p in matcher.postings])}
    checked = disagreements = with_new = 0
    for params, plan, total in zip(chosen, plans, totals, strict=True):
        if total > AGREEMENT_MAX_TOTAL:
            continue
        board_ids = {
            hit.job_id for hit in engine.search(plan, after=None, limit=total + 1, facets=False).hits
        }
        ours = {hit.job_id for hit in engine.hits(list(matcher.matches(AlertSearch.from_params(params))))}
        checked += 1
        with_new += bool(ours)
        disagreements += ours != board_ids & new_ids
    write_result(
        out,
        {
            "sampled": len(plans),
            "seconds": round(sum(timings), 3),
            "p50_ms": round(statistics.median(timings) * 1000, 3),
            "p99_ms": round(sorted(timings)[int(0.99 * (len(timings) - 1))] * 1000, 3),
            "mean_total": round(statistics.fmean(totals), 1),
            "agreement_checked": checked,
            "agreement_with_new_postings": with_new,
            "disagreements": disagreements,
            "window_start": isoformat(NOW - WINDOW),
            "peak_rss_mb": peak_rss_mb(),
        },
    )


def child(work: Path, name: str, *argv: str) -> dict[str, Any]:
    out = work / f"{name}.json"
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "bench.alerts", "--child", name, *argv, "--out", str(out)],
        cwd=PROJECT_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        say(process.stdout[-3000:])
        say(process.stderr[-6000:])
        raise SystemExit(f"bench.alerts {name} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["process_wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


# ---- main ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", type=int, default=100_000, help="postings on the board")
    parser.add_argument("--new", type=int, default=1_000, help="postings first seen in the window (M)")
    parser.add_argument("--searches", type=int, default=100_000, help="stored searches, one alert each (S)")
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--quick", action="store_true", help="10,000 postings, 100 new, 10,000 searches")
    parser.add_argument("--child", choices=("ours", "baseline"))
    parser.add_argument("--directory", type=Path)
    parser.add_argument("--searches-file", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    bench_environment()
    if args.child == "ours":
        run_ours(args.directory, args.searches_file, args.out)
        return 0
    if args.child == "baseline":
        run_baseline(args.directory, args.searches_file, args.baseline_sample, args.seed, args.out)
        return 0
    if args.quick:
        args.board, args.new, args.searches, args.baseline_sample = 10_000, 100, 10_000, 500

    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    try:
        board = build_board(args.board, args.new, args.seed, work / "board")
        searches = stored_searches(args.searches, args.seed)
        searches_path = work / "searches.json"
        searches_path.write_text(json.dumps(searches))
        distinct = len({json.dumps(s, sort_keys=True) for s in searches})
        with_q = sum(1 for s in searches if "q" in s)
        with_filters = sum(1 for s in searches if set(s) - {"q"})
        say(
            f"2. stored searches: {len(searches):,} ({distinct:,} distinct parameter sets; "
            f"{with_q / len(searches):.0%} with words, {with_filters / len(searches):.0%} with filters)"
        )
        common = ["--directory", str(work / "board"), "--searches-file", str(searches_path)]
        ours = child(work, "ours", *common)
        baseline = child(work, "baseline", *common, "--baseline-sample", str(args.baseline_sample))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_search_ms = baseline["seconds"] / baseline["sampled"] * 1000
    baseline_total = per_search_ms * len(searches) / 1000
    ratio = ours["run_seconds"] / baseline_total if baseline_total else None
    within = ours["run_seconds"] <= TIME_BUDGET_SECONDS and ours["peak_rss_mb"] <= MEMORY_BUDGET_MB
    say(
        f"3. ours: one fresh process runs the digest function over {ours['alerts']:,} due alerts and "
        f"{ours['new_postings']:,} new postings: {ours['distinct_searches']:,} distinct searches matched, "
        f"{ours['digests']:,} digests ({ours['postings_in_digests']:,} postings, "
        f"{ours['digest_bytes'] / 1e6:.1f} MB of messages) built"
    )
    say(
        f"4. baseline: {baseline['sampled']:,} sampled searches as GET /jobs runs them on the "
        f"{args.board:,}-posting board (p50 {baseline['p50_ms']:.2f} ms, p99 {baseline['p99_ms']:.2f} ms, "
        f"mean total {baseline['mean_total']:,.0f}); agreement checked on {baseline['agreement_checked']:,} "
        f"of them ({baseline['agreement_with_new_postings']:,} with new postings): "
        f"{baseline['disagreements']} disagreements"
    )
    say("")
    say(f"   {'':<44}{'searches':>10} {'seconds':>9} {'ms/search':>10} {'peak RSS':>10}")
    say(
        f"   {'ours: whole digest run (one function)':<44}{ours['alerts']:>10,} {ours['run_seconds']:>9.2f} "
        f"{ours['run_seconds'] / ours['alerts'] * 1000:>10.4f} {ours['peak_rss_mb']:>7.0f} MB"
    )
    say(
        f"   {'ours: of which matching':<44}{ours['alerts']:>10,} {ours['matching_seconds']:>9.2f} "
        f"{ours['matching_seconds'] / ours['alerts'] * 1000:>10.4f}"
    )
    say(
        f"   {'baseline: board query per search (measured)':<44}{baseline['sampled']:>10,} "
        f"{baseline['seconds']:>9.2f} {per_search_ms:>10.4f} {baseline['peak_rss_mb']:>7.0f} MB"
    )
    say(
        f"   {'baseline: extrapolated to every search':<44}{len(searches):>10,} {baseline_total:>9.1f} "
        f"{per_search_ms:>10.4f}"
    )
    say(f"   ratio ours / baseline (whole run vs board queries alone): {ratio:.3f}" if ratio else "")
    say(
        f"   budget: <= {TIME_BUDGET_SECONDS:.0f} s and <= {MEMORY_BUDGET_MB:.0f} MB in one function: "
        f"{'within' if within else 'OVER'}"
        + (" (figures at the full S and M only with the default sizes)" if args.quick else "")
    )
    result = {
        "board": board,
        "searches": len(searches),
        "distinct_parameter_sets": distinct,
        "ours": ours,
        "baseline": baseline,
        "baseline_extrapolated_seconds": round(baseline_total, 1),
        "ratio": round(ratio, 4) if ratio else None,
        "within_budget": within,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
    }
    print(json.dumps(result, separators=(",", ":")))
    return 0 if within and not baseline["disagreements"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
