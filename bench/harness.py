"""Timing helpers and the pieces every benchmark shares."""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from dbguard.observability import logger
from dbguard_local.atomic import atomic_mock_aws
from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import FunctionSpec, function_specs, load_handler_module
from dbguard_local.resources import deploy, name_resources

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER = REPO_ROOT / "layers" / "common"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def template_function(logical_id: str) -> FunctionSpec:
    """The function as the template defines it, with placeholder names for the stack's resources."""
    template = Template(load_template())
    name_resources(template)
    return function_specs(template)[logical_id]


@contextmanager
def deployed_in_moto() -> Iterator[Template]:
    """template.yaml's data resources in an in-process moto, the functions' logs quiet."""
    os.environ.update(FAKE_AWS)
    logger.setLevel(logging.ERROR)
    with atomic_mock_aws():
        template = Template(load_template())
        deploy(template, boto3.Session(region_name="eu-central-1"))
        yield template


def cold_start(spec: FunctionSpec) -> ModuleType:
    """The handler imported as a new Lambda container would: the shared package imported anew, after
    the function's environment is set (another benchmark may have imported it with other settings)."""
    for name in [name for name in sys.modules if name == "dbguard" or name.startswith("dbguard.")]:
        del sys.modules[name]
    return load_handler_module(spec)


def stub_http(client: Any, body: dict[str, Any] | None = None) -> None:
    """Answer every request of `client` with 200 and `body` after it is serialised and signed."""
    payload = json.dumps(body or {}).encode()

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"x-amzn-requestid": "bench"}, _Raw(payload))

    client.meta.events.register("before-send", answer)


class _Raw:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any):
        yield self._payload


def per_call_seconds(
    action: Callable[[], Any], calls: int, rounds: int, baseline: Callable[[], Any]
) -> tuple[float, float]:
    """Median per-call time of `action` and of `baseline`, measured in alternating rounds so both
    see the same machine load."""
    for _ in range(max(1, calls // 10)):  # warm-up: caches, lazy imports
        action()
        baseline()
    measured, reference = [], []
    for _ in range(rounds):
        reference.append(_timed(baseline, calls))
        measured.append(_timed(action, calls))
    return statistics.median(measured), statistics.median(reference)


def _timed(action: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - started) / calls


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
