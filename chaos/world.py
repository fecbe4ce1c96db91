"""An in-process world for the chaos runs, as the test suite builds it (tests/conftest.py,
tests/world.py): template.yaml deployed into moto, a JumpServer simulator as JumpServerUrl, the
service user's credentials in the template's secret, and functions loaded as a cold start would
(their template environment, fresh module state)."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3

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
from dbguard_local.secrets_rotation import rotations
from jumpserver_sim import Simulator
from jumpserver_sim.clock import SkippableClock

REGION = "eu-central-1"
JMS_PRIVATE_TOKEN = "7c1e0a5b3d9f4e2a8c6b0d1f3e5a7c9b2d4f6a8e"  # noqa: S105 - the simulator's, made up
PROXY_HOST = "jms-proxy.example.com"
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}


class LogSink:
    """Where the functions' log lines and metrics go during a run: kept (to look for secrets in),
    not printed (the progress bar and the report are what a run shows)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


@dataclass
class World:
    template: Template
    jumpserver: Simulator
    clock: SkippableClock
    logs: LogSink = field(default_factory=LogSink)
    loaded: dict[str, LoadedFunction] = field(default_factory=dict)  # by logical id: what RotateSecret calls

    def physical_id(self, logical_id: str) -> str:
        return self.template.physical_ids[logical_id]

    def spec(self, logical_id: str) -> FunctionSpec:
        return function_specs(self.template)[logical_id]

    def load(self, logical_id: str, **environment: str) -> LoadedFunction:
        """The function imported anew with its template environment (plus `environment`)."""
        spec = self.spec(logical_id)
        os.environ.update({**spec.environment, **environment})
        service = spec.environment["POWERTOOLS_SERVICE_NAME"]
        for name in [name for name in sys.modules if name == "dbguard" or name.startswith("dbguard.")]:
            del sys.modules[name]
        service_logger = logging.getLogger(service)
        service_logger.handlers.clear()
        for attribute in ("init", "powertools_handler"):
            service_logger.__dict__.pop(attribute, None)
        module = load_handler_module(spec)
        for handler in service_logger.handlers:
            handler.setStream(self.logs)
        self.loaded[logical_id] = LoadedFunction(spec, module, self)
        return self.loaded[logical_id]

    def loaded_function(self, arn: str) -> Callable[[dict[str, Any]], Any] | None:
        """What Secrets Manager's RotateSecret invokes (dbguard_local/secrets_rotation.py)."""
        function = self.loaded.get(function_of_arn(self.template, arn))
        return function.invoke if function is not None else None


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    module: ModuleType
    world: World

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(self.spec, self.world.template.region, self.world.template.account_id)
        handler = getattr(self.module, self.spec.handler.rsplit(".", 1)[1])
        stdout = sys.stdout
        sys.stdout = self.world.logs  # metrics (EMF) are printed, not logged
        try:
            return handler(event, context)
        finally:
            sys.stdout = stdout


@contextmanager
def in_process_world(version: str = "v4", parameters: dict[str, str] | None = None) -> Iterator[World]:
    """moto, the template deployed into it and a simulator (no throttling, reusable tokens on)."""
    saved = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(_FAKE_AWS)
    clock = SkippableClock()
    simulator = Simulator(
        version,
        private_token=JMS_PRIVATE_TOKEN,
        clock=clock,
        connection_token_reusable=True,
        throttle_rate=None,
    ).start()
    # an answer to a request the client gave up on (a hang past its timeout) cannot be written:
    # expected here, not worth socketserver's traceback on stderr
    simulator._server.handle_error = lambda request, client_address: None
    try:
        with atomic_mock_aws():
            template = Template(
                load_template(),
                parameters={
                    "JumpServerUrl": simulator.url,
                    "JumpServerProxyHost": PROXY_HOST,
                    "JumpServerPlatformIds": json.dumps({"PostgreSQL": 20}),
                    "JumpServerRequestsPerMinute": "0",  # the simulator does not throttle
                    **(parameters or {}),
                },
                region=REGION,
            )
            deploy(template, boto3.Session(region_name=REGION))
            boto3.client("secretsmanager").put_secret_value(
                SecretId=template.physical_ids["JumpServerCredentialsSecret"],
                SecretString=json.dumps({"private_token": JMS_PRIVATE_TOKEN}),
            )
            world = World(template, simulator, clock)
            with rotations(world.loaded_function):
                yield world
    finally:
        simulator.stop()
        os.environ.clear()
        os.environ.update(saved)


def fast_sleep(factor: float) -> Callable[[float], None]:
    """The JumpServer client's back-off, `factor` times as long (the same decisions, less waiting)."""
    return lambda seconds: time.sleep(max(0.0, seconds) * factor)
