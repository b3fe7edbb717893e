"""`python -m sandbox.embloy --port 4020`: run the Embloy sandbox (API + apply portal page)."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from sandbox.embloy import DEFAULT_CLIENT_TOKEN_SECRET, start_embloy_sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.embloy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4020)
    parser.add_argument(
        "--portal-url", default=None, help="where /sdk/apply is served (default: this server)"
    )
    parser.add_argument(
        "--client-token-secret",
        default=DEFAULT_CLIENT_TOKEN_SECRET,
        help="HS256 secret of accepted client tokens",
    )
    args = parser.parse_args(argv)
    handle = start_embloy_sandbox(
        args.port, host=args.host, portal_url=args.portal_url, client_token_secret=args.client_token_secret
    )

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    handle.server.serve_until_interrupted(f"Embloy sandbox on {handle.base_url} (portal {handle.portal_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
