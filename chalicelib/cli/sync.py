"""`sync` command: run the account sync in-process."""

from __future__ import annotations

import argparse
from typing import Any


def register(groups: Any) -> None:
    parser: argparse.ArgumentParser = groups.add_parser("sync", help="sync postings from StackOne")

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=show_help)
