"""Shows the soak's summary line at the end of any pytest run that ran it (output is captured)."""

from __future__ import annotations

from typing import Any

SOAK_LINES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in SOAK_LINES:
        terminalreporter.write_line(line)
