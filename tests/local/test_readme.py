"""The README's configuration section stays complete: every setting and local variable is documented."""

from __future__ import annotations

import re

from chalicelib.settings import LOCAL_DEFAULTS, Settings
from local.stack import PORT_VARIABLES, PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()
LOCAL_SOURCES = "\n".join(path.read_text() for path in (PROJECT_DIR / "local").glob("*.py"))


def test_every_setting_is_documented_in_the_readme() -> None:
    aliases = {str(field.alias) for field in Settings.model_fields.values()}

    undocumented = sorted(alias for alias in aliases if f"`{alias}`" not in README)

    assert undocumented == []


def test_every_local_run_variable_is_documented_in_the_readme() -> None:
    variables = set(re.findall(r"\"(LOCAL_[A-Z_]+)\"", LOCAL_SOURCES)) | {
        var for var, _ in PORT_VARIABLES.values()
    }

    undocumented = sorted(variable for variable in variables if f"`{variable}`" not in README)

    assert undocumented == []


def test_the_documented_local_defaults_match_the_code() -> None:
    for variable, default in PORT_VARIABLES.values():
        assert f"| `{variable}` | `{default}` |" in README


def _documented_default(value: object) -> str:
    if isinstance(value, list):
        return f"`{','.join(map(str, value))}`" if value else "*(none)*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value != "" else "*(empty)*"


def test_the_documented_setting_defaults_match_the_code() -> None:
    wrong = []
    for name, field in Settings.model_fields.items():
        row = re.search(rf"\| `{re.escape(str(field.alias))}` \| ([^|]*)\|", README)
        documented = row.group(1) if row else ""
        if field.is_required():
            expected = ["required"]
        elif name in LOCAL_DEFAULTS:
            # Defaults of the local stage only ("local: `value`"); elsewhere required or a fixed fallback.
            expected = [f"local: `{LOCAL_DEFAULTS[name]}`"]
        else:
            default = field.get_default(call_default_factory=True)
            expected = [_documented_default(default)]
        if row is None or not all(part in documented for part in expected):
            wrong.append(f"{field.alias}: expected {expected!r}, README {documented.strip()!r}")

    assert wrong == []
