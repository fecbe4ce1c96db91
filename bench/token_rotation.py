"""token_rotation: a run over N databases against the JumpServer simulator with injected latency,
as a ratio to the ideal N x latency x JumpServer calls per database / concurrency.

The ideal counts only JumpServer's latency spread perfectly over the workers; the ratio is what
the rest costs (Secrets Manager and DynamoDB, in-process moto here, the registry journal, threads).
Each database already has a secret (the steady state): one rotation is create token, make it
reusable, read it back, verify it in JumpServer, then put AWSPENDING and promote in Secrets Manager.
"""

from __future__ import annotations

import logging
import os
import time

import boto3
from moto import mock_aws

from bench.harness import FAKE_AWS, report
from dbguard.jumpserver.auth import CredentialsSource
from dbguard.jumpserver.client import JumpServerClient
from dbguard.jumpserver.transport import Transport
from dbguard.observability import logger
from dbguard.registry.models import EntryStatus, RegistryEntry
from dbguard.registry.store import Registry
from dbguard.rotation.factory import build_rotator
from dbguard.rotation.runner import RotationRunner
from dbguard.secrets.store import DatabaseSecrets
from dbguard.settings import Settings
from dbguard_local.cfn import Template, load_template
from dbguard_local.resources import create_data_resources
from jumpserver_sim import Simulator
from jumpserver_sim.api import Request

DATABASES = int(os.environ.get("BENCH_ROTATION_DATABASES", "1000"))
LATENCY_SECONDS = 0.05
CONCURRENCY = 8
TOKEN = "b" * 40


def run() -> dict[str, float]:
    os.environ.update(FAKE_AWS)
    logger.setLevel(logging.ERROR)  # one line per database would time the terminal
    with mock_aws(), Simulator("v4", private_token=TOKEN) as jumpserver:
        runner, registry = _deployed(jumpserver)
        _seed(jumpserver, registry)
        runner.rotate_named(None, lambda: True)  # every database gets its first secret (no latency)
        jumpserver.faults(latency_seconds=LATENCY_SECONDS)
        calls_before = len(jumpserver.requests)
        started = time.perf_counter()
        result = runner.rotate_named(None, lambda: True)
        elapsed = time.perf_counter() - started
        calls = (len(jumpserver.requests) - calls_before) / DATABASES
    rotated = sum(item.status.value == "rotated" for item in result.results)
    ideal = DATABASES * LATENCY_SECONDS * calls / CONCURRENCY
    report(
        f"token_rotation: {DATABASES} databases, {LATENCY_SECONDS * 1000:.0f} ms JumpServer latency, "
        f"concurrency {CONCURRENCY}",
        [
            ("rotated", f"{rotated} of {DATABASES}"),
            ("JumpServer calls per database", f"{calls:.2f}"),
            ("run time", f"{elapsed:.1f} s"),
            ("ideal (N x latency x calls / concurrency)", f"{ideal:.1f} s"),
            ("ratio to ideal", f"{elapsed / ideal:.2f}"),
        ],
    )
    return {"rotation_ratio": elapsed / ideal, "rotation_seconds": elapsed}


def _deployed(jumpserver: Simulator) -> tuple[RotationRunner, Registry]:
    template = Template(load_template(), parameters={"JumpServerUrl": jumpserver.url})
    create_data_resources(template, boto3.Session(region_name="eu-central-1"))
    secretsmanager = boto3.client("secretsmanager")
    credentials = secretsmanager.create_secret(
        Name="bench/jms", SecretString=f'{{"private_token": "{TOKEN}"}}'
    )
    transport = Transport(
        jumpserver.url,
        CredentialsSource(secretsmanager, credentials["ARN"], 300),
        org_id="00000000-0000-0000-0000-000000000002",
        timeout_seconds=5,
        max_retries=3,
    )
    client = JumpServerClient(transport)
    registry = Registry(template.physical_ids["RegistryTable"], boto3.client("dynamodb"))
    settings = Settings.from_env(environ={"JUMPSERVER_PROXY_HOST": "jms-proxy.example.com"})
    rotator = build_rotator(
        settings, client, registry, DatabaseSecrets(secretsmanager, settings.secrets_prefix)
    )
    return RotationRunner(registry, rotator, CONCURRENCY), registry


def _seed(jumpserver: Simulator, registry: Registry) -> None:
    """N assets, each with the dbguard account, one permission over their node, and a registry entry."""
    node = jumpserver.store.ensure_path("/DEFAULT/dbguard/bench")
    jumpserver.grant_service_user(node_path="/DEFAULT/dbguard/bench")
    for index in range(DATABASES):
        name = f"bench-{index:04d}"
        body = {
            "name": name, "address": "10.0.0.1", "platform": 19, "nodes": [node.id], "db_name": "app",
            "protocols": [{"name": "postgresql", "port": 5432}],
            "accounts": [{"name": "dbguard", "username": "svc", "secret_type": "password", "secret": "x"}],
        }  # fmt: skip
        asset = jumpserver.api.create_asset(Request("POST", "", {}, body, time.time())).body
        account = next(a for a in jumpserver.store.accounts.values() if a.asset_id == asset["id"])
        registry.save_cmdb_state(
            RegistryEntry(
                cmdb_id=f"cmdb-{index}",
                name=name,
                status=EntryStatus.ACTIVE,
                version=1,
                engine="qhb",
                host="10.0.0.1",
                port=5432,
                database="app",
                environment="bench",
                asset_id=asset["id"],
                account={"id": account.id, "name": account.name},
                protocol="postgresql",
            )
        )
