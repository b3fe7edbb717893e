"""The documentation stays true: every setting and local variable is in docs/configuration.md with its
default, and every relative link in the README and docs/ leads to a file and heading that exist."""

from __future__ import annotations

import re

from chalicelib.settings import LOCAL_DEFAULTS, Settings
from local.stack import PORT_VARIABLES, PROJECT_DIR

CONFIGURATION = (PROJECT_DIR / "docs" / "configuration.md").read_text()
DOCUMENTS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
LOCAL_SOURCES = "\n".join(path.read_text() for path in (PROJECT_DIR / "local").glob("*.py"))


def test_every_setting_is_documented() -> None:
    aliases = {str(field.alias) for field in Settings.model_fields.values()}

    undocumented = sorted(alias for alias in aliases if f"`{alias}`" not in CONFIGURATION)

    assert undocumented == []


def test_every_local_run_variable_is_documented() -> None:
    variables = set(re.findall(r"\"(LOCAL_[A-Z_]+)\"", LOCAL_SOURCES)) | {
        var for var, _ in PORT_VARIABLES.values()
    }

    undocumented = sorted(variable for variable in variables if f"`{variable}`" not in CONFIGURATION)

    assert undocumented == []


def test_the_documented_local_defaults_match_the_code() -> None:
    for variable, default in PORT_VARIABLES.values():
        assert f"| `{variable}` | `{default}` |" in CONFIGURATION


def _documented_default(value: object) -> str:
    if isinstance(value, list):
        return f"`{','.join(map(str, value))}`" if value else "*(none)*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value != "" else "*(empty)*"


def test_the_documented_setting_defaults_match_the_code() -> None:
    wrong = []
    for name, field in Settings.model_fields.items():
        row = re.search(rf"\| `{re.escape(str(field.alias))}` \| ([^|]*)\|", CONFIGURATION)
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
            wrong.append(f"{field.alias}: expected {expected!r}, docs {documented.strip()!r}")

    assert wrong == []


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    without_code = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return {_anchor(match) for match in re.findall(r"^#+ (.+)$", without_code, flags=re.MULTILINE)}


def test_every_relative_link_leads_somewhere() -> None:
    broken = []
    for document in DOCUMENTS:
        text = document.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path_part, _, fragment = target.partition("#")
            linked = (document.parent / path_part).resolve() if path_part else document
            if not linked.exists():
                broken.append(f"{document.name}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked.read_text()):
                broken.append(f"{document.name}: {target} (no such heading)")

    assert broken == []
