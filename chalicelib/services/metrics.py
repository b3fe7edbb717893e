"""The metrics port the services count through (in Lambda: `observability.PowertoolsMetricsSink`)."""

from __future__ import annotations

from typing import Protocol


class MetricsSink(Protocol):
    def count(self, name: str, value: int) -> None: ...
