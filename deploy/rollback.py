"""Points the `live` alias of every function of a deployed stack back at the version before it.

    python -m deploy.rollback --stack job-board-prod [--region eu-central-1] [--dry-run]

For after a deploy has completed (during a gradual deploy, `aws cloudformation cancel-update-stack`
rolls the whole stack back instead; see docs/runbook.md). The functions are the stack's own
(`AWS::Lambda::Function` resources), so functions added later are covered. The next deploy moves the
aliases forward again: deploy the fixed (or the previous) code to make the rollback permanent.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from deploy.render import ALIAS_NAME


class RollbackError(RuntimeError):
    """A function cannot be rolled back (no alias, no earlier version, a gradual deploy in progress)."""


@dataclass(frozen=True)
class AliasMove:
    function: str
    from_version: str
    to_version: str


def stack_functions(cloudformation: Any, stack: str) -> list[str]:
    """The physical names of the stack's Lambda functions."""
    names: list[str] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        names += [
            summary["PhysicalResourceId"]
            for summary in page["StackResourceSummaries"]
            if summary["ResourceType"] == "AWS::Lambda::Function"
        ]
    return sorted(names)


def previous_version(lambda_client: Any, function: str, alias: str = ALIAS_NAME) -> AliasMove:
    """Where `alias` points and the newest published version before that one."""
    current = lambda_client.get_alias(FunctionName=function, Name=alias)
    if current.get("RoutingConfig", {}).get("AdditionalVersionWeights"):
        raise RollbackError(
            f"{function}: a gradual deploy is shifting {alias!r}; cancel it with "
            "`aws cloudformation cancel-update-stack` instead."
        )
    version = int(current["FunctionVersion"])
    published: list[int] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        published += [int(item["Version"]) for item in page["Versions"] if item["Version"].isdigit()]
    earlier = [number for number in published if number < version]
    if not earlier:
        raise RollbackError(f"{function}: {alias!r} is on version {version}, the first one published.")
    return AliasMove(function, str(version), str(max(earlier)))


def rollback(lambda_client: Any, functions: list[str], *, dry_run: bool = False) -> list[AliasMove]:
    """Move every function's alias one version back; check them all before moving any."""
    moves = [previous_version(lambda_client, function) for function in functions]
    if not dry_run:
        for move in moves:
            lambda_client.update_alias(
                FunctionName=move.function,
                Name=ALIAS_NAME,
                FunctionVersion=move.to_version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
    return moves


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region")
    parser.add_argument("--dry-run", action="store_true", help="print the moves, change nothing")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session(region_name=args.region)
    try:
        functions = stack_functions(session.client("cloudformation"), args.stack)
        if not functions:
            raise RollbackError(f"Stack {args.stack!r} has no Lambda functions.")
        moves = rollback(session.client("lambda"), functions, dry_run=args.dry_run)
    except RollbackError as exc:
        raise SystemExit(f"error: {exc}") from None
    for move in moves:
        verb = "would move" if args.dry_run else "moved"
        print(f"{move.function}: {verb} {ALIAS_NAME} from version {move.from_version} to {move.to_version}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
