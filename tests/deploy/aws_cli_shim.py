"""A stand-in for the `aws` command (AWS CLI v2) that docs/deployment.md's commands can run against moto.

    python -m tests.deploy.aws_cli_shim <service> <operation> [--option value ...] [--query Q] [--output F]

It maps `<service> <operation> --some-option value` onto boto3's `client.<operation>(SomeOption=value)`
the way the CLI does (dashed names of the operation and of the input shape's members), reads
`file://` values, takes the CLI's shorthand for structures (`types=REGIONAL`), applies `--query`
(JMESPath) and prints `--output text|json|table`. boto3 honours AWS_ENDPOINT_URL, so the calls reach the
moto server the test points it at. Only what the documented commands use is supported; anything else
exits with status 2 and says so.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GLOBAL_OPTIONS = ("--query", "--output", "--region")


def _shorthand(text: str, shape: Any) -> Any:
    """`key=value,key2=value2` for a structure (a list member gets a one-item list)."""
    result: dict[str, Any] = {}
    for pair in text.split(","):
        key, _, value = pair.partition("=")
        member = shape.members[key]
        result[key] = [value] if member.type_name == "list" else value
    return result


def _value(raw: str, shape: Any) -> Any:
    if raw.startswith("file://"):
        raw = Path(raw.removeprefix("file://")).read_text()
    if shape.type_name == "structure":
        return json.loads(raw) if raw.lstrip().startswith("{") else _shorthand(raw, shape)
    if shape.type_name == "integer":
        return int(raw)
    if shape.type_name == "boolean":
        return raw.lower() == "true"
    if shape.type_name == "list":
        return raw.split()
    return raw


def _text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, list):
        return "\t".join(_text(item) for item in value)
    if isinstance(value, dict):
        return "\t".join(_text(item) for item in value.values())
    return str(value)


def main(argv: Sequence[str]) -> int:
    import boto3
    import jmespath
    from botocore import xform_name

    service, command, *rest = argv
    options: dict[str, str] = {}
    arguments = list(rest)
    while arguments:
        name = arguments.pop(0)
        if not name.startswith("--") or not arguments:
            print(f"aws shim: cannot parse {name!r}", file=sys.stderr)
            return 2
        options[name] = arguments.pop(0)
    region = options.pop("--region", None) or os.environ.get("AWS_REGION")
    query = options.pop("--query", None)
    output = options.pop("--output", "json")
    client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
    model = client.meta.service_model
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if command not in operations:
        print(f"aws shim: unknown operation {service} {command}", file=sys.stderr)
        return 2
    operation = model.operation_model(operations[command])
    members = operation.input_shape.members if operation.input_shape else {}
    by_option = {"--" + xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    for option, raw in options.items():
        if option not in by_option:
            print(f"aws shim: {service} {command} has no option {option}", file=sys.stderr)
            return 2
        member = by_option[option]
        params[member] = _value(raw, members[member])
    result: Any = getattr(client, xform_name(operations[command]))(**params)
    result.pop("ResponseMetadata", None)
    if query:
        result = jmespath.search(query, result)
    print(_text(result) if output == "text" else json.dumps(result, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
