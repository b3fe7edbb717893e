"""`employers` commands: create, list, rotate-key, revoke-key."""

from __future__ import annotations

import argparse
from typing import Any


def register(groups: Any) -> None:
    parser: argparse.ArgumentParser = groups.add_parser(
        "employers", help="manage employers and their API keys"
    )

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=show_help)
