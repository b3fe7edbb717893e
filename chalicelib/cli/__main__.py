"""Entry point: dispatches to one module per command group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chalicelib.cli import employers, sync


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.cli", description="Job board operator commands."
    )
    groups = parser.add_subparsers(dest="group", required=True)
    employers.register(groups)
    sync.register(groups)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
