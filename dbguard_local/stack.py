"""The whole bundle on 127.0.0.1: embedded AWS, the template's resources, functions and API."""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from dbguard.rotation.policy import ServerFindings, schedule_interval_seconds
from dbguard.validation import describe_error
from dbguard_local.announcements import route_announcements_to_queue
from dbguard_local.atomic import OneRequestAtATime
from dbguard_local.cfn import Template, load_template
from dbguard_local.clients import LOCAL_CREDENTIALS
from dbguard_local.endpoints import Endpoints
from dbguard_local.event_sources import Scheduler, SqsPoller, print_json
from dbguard_local.faults import StorageFaultConfig, StorageFaultInjector
from dbguard_local.functions import function_of_arn, function_specs
from dbguard_local.gateway import GatewayServer, RestApi
from dbguard_local.lambda_api import LambdaApiServer
from dbguard_local.resources import deploy
from dbguard_local.secrets_rotation import rotations
from dbguard_local.worker import FunctionPool, lambda_environment
from jumpserver_sim import Simulator

HOST = "127.0.0.1"
Server = TypeVar("Server")
DEMO_CREDENTIALS_SECRET_NAME = "cmdb/billing-qhb-01"  # noqa: S105 - a name, not a secret
DEMO_CMDB_ID = "cmdb-4711"  # events/samples/cmdb-upsert.json
V3_HIDDEN_PLATFORMS = {"PostgreSQL": 20}  # a stock v3.10 install's id of the platform its API hides
# Direct-connection detection on, with the address of events/samples/qhb-connection-event.json as
# the proxy's (DBGUARD_PARAMETERS may set other CIDRs)
LOCAL_PROXY_CIDRS = {"JumpServerProxyCidrs": "10.1.2.50/32,2001:db8:1:2::/64"}
# An hour's digest a minute after the hour rather than five (make audit-demo; docs/audit-digests.md)
LOCAL_DIGEST_MARGIN = {"DigestMarginSeconds": "60"}


class PortInUse(OSError):
    """A port the stack must listen on is taken; the message names it and the variable that moves it."""

    def __init__(self, port: int, variable: str, what: str) -> None:
        super().__init__(
            errno.EADDRINUSE,
            f"port {port} ({what}) is in use - is another `make run` running? Stop it, or move this "
            f"one: {variable}=<port> make run ({variable}=0: any free port)",
        )


@dataclass(frozen=True)
class StackConfig:
    gateway_port: int = 3000
    aws_port: int = 4566
    lambda_port: int = 3001
    region: str = "eu-central-1"
    parameters: dict[str, str] = field(default_factory=dict)
    jumpserver: JumpServerTarget = field(default_factory=lambda: JumpServerTarget())
    rotation_interval_seconds: float | None = None  # None: the RotationSchedule's own rate

    @classmethod
    def from_env(cls) -> StackConfig:
        """DBGUARD_GATEWAY_PORT, DBGUARD_AWS_PORT (0 = any free port), DBGUARD_PARAMETERS="Key=Value ...",
        DBGUARD_ROTATION_INTERVAL_SECONDS, and JUMPSERVER_* for a real JumpServer (docs/configuration.md)."""
        pairs = os.environ.get("DBGUARD_PARAMETERS", "").split()
        interval = os.environ.get("DBGUARD_ROTATION_INTERVAL_SECONDS")
        return cls(
            gateway_port=int(os.environ.get("DBGUARD_GATEWAY_PORT", cls.gateway_port)),
            aws_port=int(os.environ.get("DBGUARD_AWS_PORT", cls.aws_port)),
            lambda_port=int(os.environ.get("DBGUARD_LAMBDA_PORT", cls.lambda_port)),
            parameters=dict(pair.split("=", 1) for pair in pairs),
            jumpserver=JumpServerTarget.from_env(),
            rotation_interval_seconds=float(interval) if interval else None,
        )


@dataclass(frozen=True)
class JumpServerTarget:
    """A real JumpServer (JUMPSERVER_URL and its credentials) or, by default, the simulator."""

    url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    simulator_version: str = "v4"
    simulator_licensed: bool = True  # an enterprise edition, whose DB proxy accepts the tokens

    @classmethod
    def from_env(cls) -> JumpServerTarget:
        names = {"private_token": "JUMPSERVER_PRIVATE_TOKEN", "access_key_id": "JUMPSERVER_ACCESS_KEY_ID",
                 "access_key_secret": "JUMPSERVER_ACCESS_KEY_SECRET"}  # fmt: skip
        credentials = {key: os.environ[name] for key, name in names.items() if os.environ.get(name)}
        return cls(
            url=os.environ.get("JUMPSERVER_URL") or None,
            credentials=credentials,
            simulator_version=os.environ.get("DBGUARD_JUMPSERVER_VERSION", "v4"),
            simulator_licensed=os.environ.get("DBGUARD_JUMPSERVER_EDITION", "enterprise") != "community",
        )


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.jumpserver = self._jumpserver()
        parameters = {**LOCAL_PROXY_CIDRS, **LOCAL_DIGEST_MARGIN, **self._parameters()}
        self.template = Template(load_template(), parameters=parameters, region=config.region)
        self.workers: dict[str, FunctionPool] = {}
        self._contexts = ExitStack()  # what stop() closes: the embedded AWS's rotations
        self.pollers: dict[str, SqsPoller] = {}
        self.schedulers: dict[str, Scheduler] = {}
        self._servers: list[Any] = []
        self.storage_faults: StorageFaultInjector | None = None  # DBGUARD_FAULT_* (dbguard_local/faults.py)
        self.aws_endpoint = ""
        self.api_url = ""
        self.lambda_endpoint = ""
        self.announcements_queue_url = ""

    def _jumpserver(self) -> Simulator | None:
        if self.config.jumpserver.url:
            return None
        # configured as docs/jumpserver.md asks operators to configure JumpServer (reusable tokens on, a
        # licensed DB proxy unless DBGUARD_JUMPSERVER_EDITION=community); otherwise a stock server of
        # its version (v4.10.16's 180 requests a minute included)
        target = self.config.jumpserver
        return Simulator(
            target.simulator_version,
            private_token=secrets.token_hex(20),
            connection_token_reusable=True,
            xpack_license_is_valid=target.simulator_licensed,
        )

    def _parameters(self) -> dict[str, str]:
        if self.jumpserver is None:
            url = self.config.jumpserver.url
            return {
                "JumpServerUrl": url,
                "JumpServerProxyHost": urlsplit(url).hostname or HOST,  # Magnus usually runs beside it
                "JumpServerPlatformIds": json.dumps(V3_HIDDEN_PLATFORMS),  # only used where hidden
                **self.config.parameters,
            }
        self.jumpserver.start()
        return {"JumpServerUrl": self.jumpserver.url, "JumpServerProxyHost": HOST, **self.config.parameters}

    @property
    def jumpserver_url(self) -> str:
        return self.template.parameters["JumpServerUrl"]

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        moto_app: Any = OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        faults = StorageFaultConfig.from_env()
        if faults.enabled:  # opt-in, for load and chaos runs only
            moto_app = self.storage_faults = StorageFaultInjector(moto_app, faults)
        moto = _listen(self.config.aws_port, "DBGUARD_AWS_PORT", "the embedded AWS, moto",
                       lambda port: _moto_server(moto_app, port))  # fmt: skip
        self._serve(moto)
        self.aws_endpoint = f"http://{HOST}:{moto.server_address[1]}"
        aws = {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
        }
        os.environ.update(aws)  # this process creates the resources through the same endpoint
        deploy(self.template, boto3.Session(region_name=self.config.region))
        self.announcements_queue_url = route_announcements_to_queue(
            boto3.Session(region_name=self.config.region), self.template.stack_name
        )
        self._store_jumpserver_credentials()
        self._create_demo_credentials()
        for logical_id, spec in function_specs(self.template).items():
            pool = FunctionPool(
                spec, lambda_environment(spec, aws), self.config.region, self.template.account_id
            )
            pool.start()
            self.workers[logical_id] = pool
        self._contexts.enter_context(rotations(self._rotation_function))
        api = RestApi(self.template, "AuditApi", self.invoke)
        gateway = _listen(self.config.gateway_port, "DBGUARD_GATEWAY_PORT", "the API gateway",
                          lambda port: GatewayServer((HOST, port), api, _print_access_log))  # fmt: skip
        self._serve(gateway)
        self.api_url = f"http://{HOST}:{gateway.server_port}/{api.stage}"
        names = {worker.spec.name: logical_id for logical_id, worker in self.workers.items()}
        lambda_api = _listen(self.config.lambda_port, "DBGUARD_LAMBDA_PORT", "the Lambda Invoke API",
                             lambda port: LambdaApiServer((HOST, port), names, self.invoke))  # fmt: skip
        self._serve(lambda_api)
        self.lambda_endpoint = f"http://{HOST}:{lambda_api.server_port}"
        self._start_event_sources()

    def _store_jumpserver_credentials(self) -> None:
        """Fill the credentials secret the template created (JumpServerCredentialsSecretArn empty)."""
        if not self.template.is_created("JumpServerCredentialsSecret"):
            return
        credentials = (
            {"private_token": self.jumpserver.private_token}
            if self.jumpserver
            else self.config.jumpserver.credentials
        )
        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.template.physical_ids["JumpServerCredentialsSecret"],
            SecretString=json.dumps(credentials),
        )

    def _create_demo_credentials(self) -> None:
        """The database account the sample CMDB events reference (events/samples/cmdb-upsert.json)."""
        boto3.client("secretsmanager").create_secret(
            Name=DEMO_CREDENTIALS_SECRET_NAME,
            SecretString=json.dumps({"username": "billing_app", "password": secrets.token_urlsafe(18)}),
            Tags=[{"Key": "dbguard:cmdb-ids", "Value": DEMO_CMDB_ID}],  # bound to the sample's database
        )

    def _start_event_sources(self) -> None:
        sqs = boto3.client("sqs")
        for logical_id, spec in function_specs(self.template).items():
            for source in spec.events.values():
                if source["Type"] == "SQS":
                    self.pollers[logical_id] = SqsPoller(
                        spec, source["Properties"], sqs, self.invoke, print_json
                    )
                elif source["Type"] == "Schedule":
                    rate = schedule_interval_seconds(source["Properties"]["Schedule"]) or 3600
                    faster = (
                        self.config.rotation_interval_seconds
                        if logical_id == "TokenRotationFunction"
                        else None
                    )
                    interval = faster or rate
                    self.schedulers[logical_id] = Scheduler(
                        spec, interval, self.invoke, print_json, self.template.account_id, self.config.region
                    )
        for source in [*self.pollers.values(), *self.schedulers.values()]:
            source.start()

    def settings_findings(self) -> ServerFindings:
        """What the deployment's settings check (RotationSettingsCheck) says of these settings and this
        JumpServer: token_rotation's own check, built from its template environment."""
        from dbguard.composition.token_rotation import compose  # the function's graph: only here

        try:
            check = compose(self.workers["TokenRotationFunction"].spec.environment).settings_check
        except Exception as error:  # as the deployment's check answers it (StartupFailed)
            return ServerFindings([f"token_rotation cannot start: {describe_error(error)}"])
        return check.findings(self.template.parameters["RequireDbProxy"])

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self.workers[logical_id].invoke(event)

    def _rotation_function(self, arn: str) -> Callable[[dict[str, Any]], Any] | None:
        """What Secrets Manager's RotateSecret invokes (dbguard_local/secrets_rotation.py)."""
        try:
            logical_id = function_of_arn(self.template, arn)
        except LookupError:
            return None
        return lambda event: self.invoke(logical_id, event)

    def restart_functions(self) -> None:
        """Every function's execution environment dies now, mid-invocation or not (as when Lambda
        recycles it); the next invocation cold-starts a new one. SIGUSR1 to `make run` does this."""
        for worker in self.workers.values():
            worker.crash()

    def stop(self) -> None:
        for source in [*self.pollers.values(), *self.schedulers.values()]:
            source.stop()
        self._contexts.close()
        for server in reversed(self._servers):
            server.shutdown()
            server.server_close()
        for worker in self.workers.values():
            worker.stop()
        if self.jumpserver is not None:
            self.jumpserver.stop()

    def endpoints(self) -> Endpoints:
        """Where this stack listens, for the helper scripts (dbguard_local/endpoints.py)."""
        return Endpoints(
            api_url=self.api_url,
            aws=self.aws_endpoint,
            lambda_api=self.lambda_endpoint,
            region=self.config.region,
            announcements_queue_url=self.announcements_queue_url,
            ingest_token_secret=self._ingest_token_secret(),
            pid=os.getpid(),
        )

    def _ingest_token_secret(self) -> str:
        return self.workers["AuditAuthorizerFunction"].spec.environment["INGEST_TOKEN_SECRET_ARN"]

    def ingest_url(self) -> str:
        secret_arn = self._ingest_token_secret()
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        tokens = json.loads(secret)["tokens"]
        token = tokens if isinstance(tokens, str) else tokens[0]
        return f"{self.api_url}/audit/events?token={token}"

    def _serve(self, server: Any) -> None:
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, name=type(server).__name__, daemon=True).start()


def _listen(port: int, variable: str, what: str, make: Callable[[int], Server]) -> Server:
    """`make(port)`, a server's constructor; a port already taken becomes PortInUse."""
    try:
        return make(port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port, variable, what) from None
        raise


def _moto_server(app: Any, port: int) -> Any:
    """moto's werkzeug server on a socket bound here: werkzeug, binding itself, would print its own
    message and exit the whole process when the port is taken."""
    with socket.create_server((HOST, port)) as listening:
        return make_server(
            HOST,
            listening.getsockname()[1],
            app,
            threaded=True,
            request_handler=MotoRequestHandler,
            fd=listening.fileno(),
        )


def _print_access_log(record: dict) -> None:
    print(json.dumps({"type": "api-access", **record}), file=sys.stdout, flush=True)
