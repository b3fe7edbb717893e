"""Employers' view of the applications the board delivered to them."""

from __future__ import annotations

from typing import Any


class ApplicationsService:
    """Lists, pages, refreshes and counts an employer's application records."""

    def __init__(self, records: Any, stackone: Any) -> None:
        self._records = records
        self._stackone = stackone
