"""Powertools Logger, Tracer and Metrics shared by every module of a function.

They are configured by Powertools' own environment variables, which the template sets in Globals
(POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACER_CAPTURE_RESPONSE=false, ...)
and per function (POWERTOOLS_SERVICE_NAME). Never pass a secret-bearing object to any of them:
logs carry names, ids and counts only.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
