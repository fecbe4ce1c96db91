"""token_rotation: a run over N databases against the JumpServer simulator with injected latency,
as a ratio to the ideal: the larger of calls x latency / concurrency and calls / the request budget.

The ideal counts only JumpServer's latency spread perfectly over the workers (the bench sets no
request budget, so that term is 0 here; it is what bounds a real server: see "databases an hour");
the ratio is what the rest costs (Secrets Manager and DynamoDB, in-process moto here, the registry
journal, threads). Measured in the steady state: every database was rotated twice before, so each
rotation also expires the token two rotations back (docs/rotation.md, "How many databases an hour").
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import boto3
from moto import mock_aws

from bench.harness import FAKE_AWS, report
from dbguard.adapters.jumpserver.auth import CredentialsSource
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.jumpserver.transport import Transport
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.rotator import RegistrySettings, build_rotator
from dbguard.observability import logger
from dbguard.registry.models import EntryStatus, RegistryEntry
from dbguard.rotation.runner import RotationRunner
from dbguard_local.cfn import Template, load_template
from dbguard_local.resources import create_data_resources
from jumpserver_sim import Simulator
from jumpserver_sim.api import Request

DATABASES = int(os.environ.get("BENCH_ROTATION_DATABASES", "1000"))
LATENCY_SECONDS = 0.05
CONCURRENCY = 8
TOKEN = "b" * 40
BUDGET_PER_MINUTE = None  # unthrottled: the ratio measures dbguard, not the budget
V4_THROTTLE_PER_MINUTE = 180  # what v4.10.15-16 allow one user


def run() -> dict[str, float]:
    os.environ.update(FAKE_AWS)
    logger.setLevel(logging.ERROR)  # one line per database would time the terminal
    # configured as docs/jumpserver.md asks (reusable tokens), unthrottled: the ratio measures dbguard
    simulator = Simulator("v4", private_token=TOKEN, connection_token_reusable=True, throttle_rate=None)
    with mock_aws(), simulator as jumpserver:
        runner, registry = _deployed(jumpserver)
        _seed(jumpserver, registry)
        runner.rotate_named(None, lambda: True)  # every database gets its first secret (no latency)
        runner.rotate_named(None, lambda: True, force=True)  # and a previous token (back to back: forced)
        jumpserver.faults(latency_seconds=LATENCY_SECONDS)
        calls_before = len(jumpserver.requests)
        started = time.perf_counter()
        result = runner.rotate_named(None, lambda: True, force=True)
        elapsed = time.perf_counter() - started
        measured = jumpserver.requests[calls_before:]
    rotated = sum(item.status.value == "rotated" for item in result.results)
    expired = sum(item.tokens_expired for item in result.results)
    calls = len(measured) / DATABASES
    kinds = Counter(f"{request.method} {_kind(request.path)}" for request in measured)
    total_calls = len(measured)
    ideal = max(
        total_calls * LATENCY_SECONDS / CONCURRENCY,
        total_calls / (BUDGET_PER_MINUTE / 60) if BUDGET_PER_MINUTE else 0.0,
    )
    per_hour = V4_THROTTLE_PER_MINUTE * 60 / calls
    report(
        f"token_rotation: {DATABASES} databases in the steady state, {LATENCY_SECONDS * 1000:.0f} ms "
        f"JumpServer latency, concurrency {CONCURRENCY}",
        [
            ("rotated", f"{rotated} of {DATABASES} ({expired} tokens two rotations back expired)"),
            ("JumpServer calls per database", f"{calls:.2f}: "
             + ", ".join(f"{kind} {count / DATABASES:.2f}" for kind, count in sorted(kinds.items()))),
            ("run time", f"{elapsed:.1f} s"),
            ("ideal (max of calls x latency / concurrency, calls / budget)", f"{ideal:.1f} s"),
            ("ratio to ideal", f"{elapsed / ideal:.2f}"),
            (f"databases an hour at {V4_THROTTLE_PER_MINUTE} requests/min", f"{per_hour:.0f}"),
        ],
    )  # fmt: skip
    return {
        "rotation_ratio": elapsed / ideal,
        "rotation_seconds": elapsed,
        "rotation_calls_per_database": calls,
        "rotation_databases_per_hour_at_180_per_minute": per_hour,
    }


def _kind(path: str) -> str:
    """A request path without ids: /api/v1/authentication/connection-token/{id}/reuse/ -> .../reuse/"""
    parts = [part for part in path.split("?")[0].split("/") if part]
    return "/".join("{id}" if len(part) == 36 else part for part in parts[2:])


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
    table = template.physical_ids["RegistryTable"]
    registry = Registry(table, boto3.client("dynamodb"))
    settings = RegistrySettings.load(
        {"REGISTRY_TABLE_NAME": table, "JUMPSERVER_PROXY_HOST": "jms-proxy.example.com"}
    )
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
