"""Process-wide logger and metrics (service name and namespace come from POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
# The module Lambda imports for every function (`app.py`): the event blueprints register under this name.
APP_MODULE = "app"


def count(name: str, value: float = 1) -> None:
    """Add a Count metric to this invocation's EMF line (flushed by the metrics middleware)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def milliseconds(name: str, value: float) -> None:
    """Add a Milliseconds metric to this invocation's EMF line."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


class PowertoolsMetricsSink:
    """Counts as CloudWatch EMF metrics through the process-wide Powertools `metrics`."""

    def __init__(self, target: Metrics | None = None) -> None:
        self._metrics = target or metrics

    def count(self, name: str, value: int) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
