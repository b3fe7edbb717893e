"""What the board reads from storage: posting records, change-feed pages and apply flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.models.posting import Posting


@dataclass(frozen=True, slots=True)
class PostingRecord:
    """A posting item as the board reads it; `load` decodes the full posting only when needed."""

    job_id: str
    status: str
    changed_key: str  # `{changed_at}#{job_id}`: the change feed's sort key for this version
    content_hash: str
    load: Callable[[], Posting]

    @property
    def changed_at(self) -> str:
        return self.changed_key.partition("#")[0]


@dataclass(frozen=True, slots=True)
class ChangePage:
    records: list[PostingRecord]
    resume: Any | None  # where the same query continues, when the page was cut short


@dataclass(frozen=True, slots=True)
class ApplyFlags:
    """What the employer profile and account sync state say about applying."""

    embloy_configured: bool = False
    embloy_needs_renewal: bool = False
    native_apply_unsupported: bool = False
