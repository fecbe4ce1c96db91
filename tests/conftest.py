"""Fixtures shared by every test level: the embedded AWS (moto), the template's resources, and the
template's functions loaded with exactly the environment the template gives them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import settings

from dbguard_local.atomic import atomic_mock_aws
from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import (
    FunctionSpec,
    LambdaContext,
    function_of_arn,
    function_specs,
    load_handler_module,
)
from dbguard_local.resources import deploy
from dbguard_local.secrets_rotation import rotations, wait_until_idle
from jumpserver_sim import Simulator
from jumpserver_sim.clock import SkippableClock

REGION = "eu-central-1"

# No test asserts time (bench/ measures it): hypothesis' 200 ms per example failed on a busy machine
settings.register_profile("dbguard", deadline=None)
settings.load_profile("dbguard")


@pytest.fixture
def capsys(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """pytest's, read only once the emulated Secrets Manager's rotation steps (threads of their own,
    printing like any invocation) are done: a read while one of them printed crashed the interpreter
    (segfault in a Python 3.13.0 run), and their output belongs to the test that started them."""
    read = capsys.readouterr

    def readouterr() -> pytest.CaptureResult[str]:
        wait_until_idle()
        return read()

    capsys.readouterr = readouterr  # type: ignore[method-assign]
    yield capsys
    wait_until_idle()  # before pytest closes the capture they print into


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with atomic_mock_aws():
        yield


@pytest.fixture
def template_parameters() -> dict[str, str]:
    """Override in a test module to deploy the template with other parameter values."""
    return {}


@pytest.fixture
def loaded_functions() -> dict[str, LoadedFunction]:
    """The functions a test loaded, by logical id: Secrets Manager's rotations call these."""
    return {}


@pytest.fixture
def stack(
    aws: None, template_parameters: dict[str, str], loaded_functions: dict[str, LoadedFunction]
) -> Iterator[Template]:
    """template.yaml 'deployed' into moto: its data resources exist, its functions have names, and
    RotateSecret runs AWS's way, through the rotation function the test loaded
    (dbguard_local/secrets_rotation.py)."""
    template = Template(load_template(), parameters=template_parameters, region=REGION)
    deploy(template, boto3.Session(region_name=REGION))

    def loaded(arn: str) -> Callable[[dict], Any] | None:
        function = loaded_functions.get(function_of_arn(template, arn))
        return function.invoke if function is not None else None

    with rotations(loaded):
        yield template


class LoadedFunction:
    def __init__(self, spec: FunctionSpec, module: ModuleType, template: Template) -> None:
        self.spec = spec
        self.module = module
        self._template = template

    def invoke(self, event: dict) -> dict:
        context = LambdaContext(self.spec, self._template.region, self._template.account_id)
        return getattr(self.module, self.spec.handler.rsplit(".", 1)[1])(event, context)


@pytest.fixture
def load_function(
    stack: Template, monkeypatch: pytest.MonkeyPatch, loaded_functions: dict[str, LoadedFunction]
) -> Callable[..., LoadedFunction]:
    """Import a function the way a fresh Lambda container would: its template environment, new
    module state (settings, clients, caches, loggers bound to the current, captured stdout)."""

    def load(logical_id: str, **environment: str) -> LoadedFunction:
        spec = function_specs(stack)[logical_id]
        for name, value in {**spec.environment, **environment}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        service = spec.environment["POWERTOOLS_SERVICE_NAME"]
        _forget_previous_cold_start(service)
        module = load_handler_module(spec)
        for handler in logging.getLogger(service).handlers:
            handler.setStream(_CurrentStdout())
        loaded_functions[logical_id] = LoadedFunction(spec, module, stack)
        return loaded_functions[logical_id]

    return load


class _CurrentStdout:
    """Whatever sys.stdout is at write time, so capsys sees logs whichever fixture came first."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _forget_previous_cold_start(service: str) -> None:
    for name in [name for name in sys.modules if name == "dbguard" or name.startswith("dbguard.")]:
        del sys.modules[name]
    from aws_lambda_powertools.metrics.provider import cold_start
    from aws_lambda_powertools.utilities import parameters

    cold_start.reset_cold_start_flag()  # a new container's first invocation is a cold start
    parameters.clear_caches()
    service_logger = logging.getLogger(service)
    service_logger.handlers.clear()
    for attribute in ("init", "powertools_handler"):
        service_logger.__dict__.pop(attribute, None)


# --------------------------------------------------------------------------- JumpServer simulator
JMS_PRIVATE_TOKEN = "5f0c7e2a9b1d4c3e8a6f0b2d4e6a8c0e1f3b5d7a"  # 40 hex, like JumpServer's private tokens


@pytest.fixture
def jms_clock() -> SkippableClock:
    return SkippableClock()


@pytest.fixture
def make_jumpserver_sim(jms_clock: SkippableClock) -> Iterator[Callable[..., Simulator]]:
    """Start simulators, stopped at teardown: make_jumpserver_sim("v3", access_keys={...})."""
    started: list[Simulator] = []

    def make(version: str = "v4", **options) -> Simulator:
        options.setdefault("private_token", JMS_PRIVATE_TOKEN)
        options.setdefault("clock", jms_clock)
        # configured as docs/jumpserver.md tells operators (reusable tokens on); tests of a stock
        # server's refusal and of its throttling ask for those settings themselves
        options.setdefault("connection_token_reusable", True)
        options.setdefault("throttle_rate", None)
        simulator = Simulator(version, **options).start()
        started.append(simulator)
        return simulator

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture(params=["v3", "v4"])
def jumpserver_sim(request: pytest.FixtureRequest, make_jumpserver_sim) -> Simulator:
    """A simulator of each version in turn, accepting JMS_PRIVATE_TOKEN."""
    return make_jumpserver_sim(request.param)
