"""`python -m sandbox.stackone --port 4010 --api-key sandbox-api-key`: run the StackOne sandbox."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from sandbox.stackone import DEFAULT_API_KEY, FailureRule, start_stackone_sandbox
from sandbox.stackone.state import DROP


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.stackone", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="accepted as Basic base64('<key>:')")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API request")
    parser.add_argument("--seed", type=int, default=42, help="seed of the deterministic demo data")
    parser.add_argument(
        "--public-url", default=None, help="base of auth_link_url (default: http://host:port)"
    )
    parser.add_argument("--short-page-size", type=int, default=None, help="cap every postings page")
    parser.add_argument(
        "--empty-pages", action="store_true", help="an empty page with `next` before each page"
    )
    parser.add_argument("--no-demo-data", action="store_true", help="start without the demo employers")
    parser.add_argument(
        "--fail-probability", type=float, default=None, help="inject failures into this share of API requests"
    )
    parser.add_argument(
        "--fail-status", default="429", help="status of injected failures: 400-504 or 'drop' (default 429)"
    )
    args = parser.parse_args(argv)

    handle = start_stackone_sandbox(
        args.port,
        host=args.host,
        api_key=args.api_key,
        latency_ms=args.latency_ms,
        seed=args.seed,
        public_url=args.public_url,
        seed_demo_data=not args.no_demo_data,
    )
    if args.short_page_size or args.empty_pages:
        handle.state.set_pagination(short_page_size=args.short_page_size, empty_pages=args.empty_pages)
    if args.fail_probability:
        status: int | str = DROP if args.fail_status == DROP else int(args.fail_status)
        handle.state.add_failure(FailureRule(status=status, probability=args.fail_probability))

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    stats = handle.state.stats()
    handle.server.serve_until_interrupted(
        f"StackOne sandbox on {handle.base_url} ({stats['accounts']} accounts, {stats['postings']} postings)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
