"""The custom metric names the app's code can emit, read from its source (no import, no run)."""

from __future__ import annotations

import ast
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
# chalicelib.observability's helpers, the metrics port's `count` and Powertools' own call.
METRIC_CALLS = ("count", "milliseconds", "add_metric")


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _string_dicts(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level `NAME: ... = {...: "value"}` dicts whose values are all strings."""
    found: dict[str, list[str]] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            target, value = node.targets[0].id, node.value
        if target and isinstance(value, ast.Dict):
            strings = [
                v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            ]
            if len(strings) == len(value.values):
                found[target] = strings
    return found


def emitted_metric_names(root: Path = CHALICELIB) -> set[str]:
    """Every literal metric name passed to a metric call: `count("Name")`, `add_metric(name="Name")`,
    or `count(TABLE[key])` with TABLE a module-level dict of names."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        tables = _string_dicts(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node) not in METRIC_CALLS:
                continue
            candidates = [keyword.value for keyword in node.keywords if keyword.arg == "name"]
            candidates += node.args[:1]
            for candidate in candidates:
                if isinstance(candidate, ast.Constant) and isinstance(candidate.value, str):
                    names.add(candidate.value)
                elif isinstance(candidate, ast.Subscript) and isinstance(candidate.value, ast.Name):
                    names.update(tables.get(candidate.value.id, []))
    return names
