"""Powertools Logger, Tracer and Metrics shared by every module of a function.

They are configured by Powertools' own environment variables, which the template sets in Globals
(POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_DISABLED from the
EnableTracing parameter, ...) and per function (POWERTOOLS_SERVICE_NAME). Never pass a
secret-bearing object to any of them: logs carry names, ids and counts only.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, SchemaValidationError

from dbguard.metric_catalogue import Metric


def tracing_enabled() -> bool:
    """Tracing as Powertools decides it: on in Lambda unless POWERTOOLS_TRACE_DISABLED says otherwise
    (outside Lambda no X-Ray daemon listens)."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {"true", "1"}
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


class NoTracer:
    """The part of Powertools' Tracer the handlers use, doing nothing. A Tracer imports the X-Ray SDK
    and builds its recorder, two botocore clients included, even when disabled: that is most of a
    function's init beyond boto3, paid on every cold start for traces nobody records."""

    def capture_lambda_handler(
        self, lambda_handler: Callable[..., Any] | None = None, **_: Any
    ) -> Callable[..., Any]:
        return lambda_handler if lambda_handler is not None else _unchanged

    capture_method = capture_lambda_handler


def _unchanged(function: Callable[..., Any]) -> Callable[..., Any]:
    return function


logger = Logger()
tracer = Tracer() if tracing_enabled() else NoTracer()
metrics = Metrics()
# An invocation with nothing to count (an authorizer's cached answer, a rotation step) is normal here:
# Powertools' warning about it would be a line in every such log, telling nobody anything (its docs'
# own filter, Metrics: "Raising SchemaValidationError on empty metrics").
warnings.filterwarnings("ignore", "No application metrics to publish*")


def emit(metric: Metric, value: float) -> None:
    """One data point of a catalogued metric (metric_catalogue.py), published with the invocation.
    A metric never fails the work it measures: Powertools publishes early once a metric holds 100
    values, and raises then if it has no namespace (outside a deployed function)."""
    try:
        metrics.add_metric(name=metric.name, unit=MetricUnit(metric.unit), value=value)
    except SchemaValidationError as error:
        logger.warning("metric not published", extra={"metric": metric.name, "error": str(error)})
