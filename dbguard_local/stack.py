"""The whole bundle on 127.0.0.1: embedded AWS, the template's resources, functions and API."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import function_specs
from dbguard_local.gateway import GatewayServer, RestApi
from dbguard_local.resources import deploy
from dbguard_local.worker import FunctionWorker, lambda_environment

HOST = "127.0.0.1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class StackConfig:
    gateway_port: int = 3000
    aws_port: int = 4566
    region: str = "eu-central-1"
    parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        """DBGUARD_GATEWAY_PORT, DBGUARD_AWS_PORT (0 = any free port), DBGUARD_PARAMETERS="Key=Value ..."."""
        pairs = os.environ.get("DBGUARD_PARAMETERS", "").split()
        return cls(
            gateway_port=int(os.environ.get("DBGUARD_GATEWAY_PORT", cls.gateway_port)),
            aws_port=int(os.environ.get("DBGUARD_AWS_PORT", cls.aws_port)),
            parameters=dict(pair.split("=", 1) for pair in pairs),
        )


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.template = Template(load_template(), parameters=config.parameters, region=config.region)
        self.workers: dict[str, FunctionWorker] = {}
        self._servers: list[Any] = []
        self.aws_endpoint = ""
        self.api_url = ""

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        moto = make_server(
            HOST,
            self.config.aws_port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
        self._serve(moto)
        self.aws_endpoint = f"http://{HOST}:{moto.server_port}"
        aws = {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
        }
        os.environ.update(aws)  # this process creates the resources through the same endpoint
        deploy(self.template, boto3.Session(region_name=self.config.region))
        for logical_id, spec in function_specs(self.template).items():
            worker = FunctionWorker(
                spec, lambda_environment(spec, aws), self.config.region, self.template.account_id
            )
            worker.start()
            self.workers[logical_id] = worker
        api = RestApi(self.template, "AuditApi", self.invoke)
        gateway = GatewayServer((HOST, self.config.gateway_port), api, _print_access_log)
        self._serve(gateway)
        self.api_url = f"http://{HOST}:{gateway.server_port}/{api.stage}"

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self.workers[logical_id].invoke(event)

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.shutdown()
            server.server_close()
        for worker in self.workers.values():
            worker.stop()

    def ingest_url(self) -> str:
        secret_arn = self.workers["AuditAuthorizerFunction"].spec.environment["INGEST_TOKEN_SECRET_ARN"]
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        tokens = json.loads(secret)["tokens"]
        token = tokens if isinstance(tokens, str) else tokens[0]
        return f"{self.api_url}/audit/events?token={token}"

    def _serve(self, server: Any) -> None:
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, name=type(server).__name__, daemon=True).start()


def _print_access_log(record: dict) -> None:
    print(json.dumps({"type": "api-access", **record}), file=sys.stdout, flush=True)
