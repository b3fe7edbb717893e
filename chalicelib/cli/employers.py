"""`employers` commands: create, list, rotate-key, revoke-key.

Plain boto3 with your credentials (AWS_PROFILE or keys); the table name comes from the stage
(`--stage`, see chalicelib/cli/__main__.py) and the region from `--region` / AWS_REGION. Locally,
`make cli ARGS="employers list"` points it at the running `make run` stack. A key is printed once, on
stdout, and never stored or logged in plain text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from chalicelib import deps
from chalicelib.clock import isoformat

KEY_WARNING = "Store this API key now; it is shown only once and cannot be recovered (only a hash is kept)."


def _print_key(employer_id: str, api_key: str, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"employer_id": employer_id, "api_key": api_key}))
        return
    print(f"employer_id: {employer_id}")
    print(f"api_key:     {api_key}")
    print(KEY_WARNING, file=sys.stderr)


def _create(args: argparse.Namespace) -> int:
    employer, api_key = deps.get_employer_service().create(args.name, employer_id=args.id)
    _print_key(employer.employer_id, api_key, as_json=args.json)
    return 0


def _list(args: argparse.Namespace) -> int:
    employers = sorted(deps.get_employer_service().list(), key=lambda e: e.employer_id)
    rows = [
        {
            "employer_id": e.employer_id,
            "name": e.name,
            "created_at": isoformat(e.created_at),
            "key": "active" if e.key_hash else "revoked",
        }
        for e in employers
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("No employers.")
        return 0
    width = max(len(row["employer_id"]) for row in rows)
    for row in rows:
        print(f"{row['employer_id']:<{width}}  {row['key']:<7}  {row['created_at']}  {row['name']}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    api_key = deps.get_employer_service().rotate_key(args.employer_id)
    _print_key(args.employer_id, api_key, as_json=args.json)
    print(
        "The previous key is revoked (running processes may accept it for up to a minute).", file=sys.stderr
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    deps.get_employer_service().revoke_key(args.employer_id)
    print(
        f"Revoked the API key of {args.employer_id}; it stops working within a minute. "
        "Use rotate-key to issue a new one.",
        file=sys.stderr,
    )
    return 0


def register(groups: Any) -> None:
    parser: argparse.ArgumentParser = groups.add_parser(
        "employers", help="manage employers and their API keys"
    )

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=show_help)
    commands = parser.add_subparsers(dest="command")

    def command(
        name: str, help_text: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.set_defaults(handler=handler)
        return sub

    create = command("create", "create an employer and print its first API key (once)", _create)
    create.add_argument("--name", required=True, help="display name (StackOne origin_owner_name)")
    create.add_argument("--id", help="employer id to use, e.g. an existing StackOne origin_owner_id")
    command("list", "list employers and whether each has an active key", _list)
    rotate = command("rotate-key", "issue a new API key (printed once) and revoke the current one", _rotate)
    rotate.add_argument("employer_id")
    revoke = command(
        "revoke-key", "revoke the current API key (the employer has none until rotate-key)", _revoke
    )
    revoke.add_argument("employer_id")
