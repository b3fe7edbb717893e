"""Process-wide logger and metrics (service name and namespace come from POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()


class PowertoolsMetricsSink:
    """Counts as CloudWatch EMF metrics through the process-wide Powertools `metrics`."""

    def __init__(self, target: Metrics | None = None) -> None:
        self._metrics = target or metrics

    def count(self, name: str, value: int) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
