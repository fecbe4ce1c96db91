"""token_rotation: a run over N databases against the JumpServer simulator with injected latency,
as a ratio to the ideal: the larger of calls x latency / concurrency and calls / the request budget.
Each rotation goes through Secrets Manager (RotateSecret, AWS's way: dbguard_local/secrets_rotation.py),
whose four steps call the same graph, as Secrets Manager calls token_rotation.

The ideal counts only JumpServer's latency spread perfectly over the workers (the bench sets no
request budget, so that term is 0 here; it is what bounds a real server: see "databases an hour");
the ratio is what the rest costs (Secrets Manager in-process moto, the registry, the journal, threads).
Measured in the steady state: every database was rotated twice before, so each rotation also
expires the token two rotations back (docs/rotation.md, "How many databases an hour").

The goal line meets the registry as production does (bench/registry_model.py: DynamoDB's rules, a
10 ms round trip per request, the table's own work off this CPU). The same run on the DynamoDB
adapter over in-process moto is reported beside it: moto's expression checks then take most of the
CPU, which is why it is not the goal line (docs/rotation.md, "Throughput").
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import boto3

from bench.harness import FAKE_AWS, report
from bench.registry_model import ROUND_TRIP_SECONDS, RegistryOverNetwork
from dbguard.adapters.registry_store import Registry
from dbguard.composition.token_rotation import TokenRotation, compose
from dbguard.observability import logger
from dbguard.registry.models import EntryStatus, RegistryEntry
from dbguard.rotation.steps import RotationStep
from dbguard.services.rotation_runner import RotationRunner, RunReport
from dbguard.services.rotator import Outcome
from dbguard_local.atomic import atomic_mock_aws
from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import function_specs
from dbguard_local.resources import deploy
from dbguard_local.secrets_rotation import rotations
from jumpserver_sim import Simulator
from jumpserver_sim.api import Request

DATABASES = int(os.environ.get("BENCH_ROTATION_DATABASES", "1000"))
LATENCY_SECONDS = 0.05
CONCURRENCY = 8  # RotationConcurrency: JumpServer requests at once (the ideal's concurrency)
TOKEN = "b" * 40
BUDGET_PER_MINUTE = None  # unthrottled: the ratio measures dbguard, not the budget
V4_THROTTLE_PER_MINUTE = 180  # what v4.10.15-16 allow one user
RotationRegistryUnderTest = Registry | RegistryOverNetwork


@dataclass
class Run:
    elapsed: float
    report: RunReport
    jumpserver_requests: list[Request]
    registry_requests: int | None  # counted on the modelled registry only


def run() -> dict[str, float]:
    os.environ.update(FAKE_AWS)
    logger.setLevel(logging.ERROR)  # one line per database would time the terminal
    modelled = _timed_run(lambda table, dynamodb: RegistryOverNetwork())
    on_moto = _timed_run(lambda table, dynamodb: Registry(table, dynamodb))
    calls = len(modelled.jumpserver_requests) / DATABASES
    kinds = Counter(f"{request.method} {_kind(request.path)}" for request in modelled.jumpserver_requests)
    ideal = max(
        len(modelled.jumpserver_requests) * LATENCY_SECONDS / CONCURRENCY,
        len(modelled.jumpserver_requests) / (BUDGET_PER_MINUTE / 60) if BUDGET_PER_MINUTE else 0.0,
    )
    per_hour = V4_THROTTLE_PER_MINUTE * 60 / calls
    rotated = modelled.report.count(Outcome.ROTATED)
    expired = sum(request.path.endswith("/expire/") for request in modelled.jumpserver_requests)
    report(
        f"token_rotation: {DATABASES} databases in the steady state, {LATENCY_SECONDS * 1000:.0f} ms "
        f"JumpServer latency, concurrency {CONCURRENCY}",
        [
            ("rotated", f"{rotated} of {DATABASES} ({expired} tokens two rotations back expired)"),
            ("JumpServer calls per database", f"{calls:.2f}: "
             + ", ".join(f"{kind} {count / DATABASES:.2f}" for kind, count in sorted(kinds.items()))),
            ("registry requests per database", f"{(modelled.registry_requests or 0) / DATABASES:.2f}"),
            ("ideal (max of calls x latency / concurrency, calls / budget)", f"{ideal:.1f} s"),
            (f"run time, registry {ROUND_TRIP_SECONDS * 1000:.0f} ms away", f"{modelled.elapsed:.1f} s"),
            ("ratio to ideal", f"{modelled.elapsed / ideal:.2f}"),
            ("run time, registry on in-process moto", f"{on_moto.elapsed:.1f} s "
             f"(ratio {on_moto.elapsed / ideal:.2f}; {on_moto.report.count(Outcome.ROTATED)} rotated)"),
            (f"databases an hour at {V4_THROTTLE_PER_MINUTE} requests/min", f"{per_hour:.0f}"),
        ],
    )  # fmt: skip
    return {
        "rotation_ratio": modelled.elapsed / ideal,
        "rotation_seconds": modelled.elapsed,
        "rotation_ratio_registry_on_moto": on_moto.elapsed / ideal,
        "rotation_calls_per_database": calls,
        "rotation_registry_requests_per_database": (modelled.registry_requests or 0) / DATABASES,
        "rotation_databases_per_hour_at_180_per_minute": per_hour,
    }


def _timed_run(registry_on: Callable[[str, Any], RotationRegistryUnderTest]) -> Run:
    """The third rotation of every database, timed, after two that give each a secret and a
    previous token. `registry_on(table name, DynamoDB client)` makes the registry to run on."""
    # configured as docs/jumpserver.md asks (reusable tokens), unthrottled: the ratio measures dbguard
    simulator = Simulator("v4", private_token=TOKEN, connection_token_reusable=True, throttle_rate=None)
    with atomic_mock_aws(), simulator as jumpserver:
        rotation, registry = _deployed(jumpserver, registry_on)
        steps = rotation.secrets_manager_rotation
        with rotations(lambda arn: lambda event: steps.run(RotationStep.model_validate(event))):
            return _third_rotation(rotation.runner, registry, jumpserver)


def _third_rotation(
    runner: RotationRunner, registry: RotationRegistryUnderTest, jumpserver: Simulator
) -> Run:
    _seed(jumpserver, registry)
    _rotate_every_database(runner, force=False)  # every database gets its first secret (no latency)
    _rotate_every_database(runner, force=True)  # and a previous token (back to back: forced)
    jumpserver.faults(latency_seconds=LATENCY_SECONDS)
    calls_before = len(jumpserver.requests)
    registry_before = getattr(registry, "requests", None)
    started = time.perf_counter()
    result = runner.rotate_named(None, lambda: True, force=True)
    elapsed = time.perf_counter() - started
    registry_requests = getattr(registry, "requests", None)
    if registry_before is not None and registry_requests is not None:
        registry_requests -= registry_before
    return Run(elapsed, result, jumpserver.requests[calls_before:], registry_requests)


def _rotate_every_database(runner: RotationRunner, *, force: bool) -> None:
    """One rotation of every database; the timed run is only the steady state if all of them rotated."""
    report = runner.rotate_named(None, lambda: True, force=force)
    failed = [result.name for result in report.results if result.status is not Outcome.ROTATED]
    if failed:
        raise RuntimeError(f"{len(failed)} databases could not be rotated: {failed[:5]}")


def _kind(path: str) -> str:
    """A request path without ids: /api/v1/authentication/connection-token/{id}/reuse/ -> .../reuse/"""
    parts = [part for part in path.split("?")[0].split("/") if part]
    return "/".join("{id}" if len(part) == 36 else part for part in parts[2:])


def _deployed(
    jumpserver: Simulator, registry_on: Callable[[str, Any], RotationRegistryUnderTest]
) -> tuple[TokenRotation, RotationRegistryUnderTest]:
    """token_rotation's graph as its composition root builds it from the template's environment
    (unpaced, the bench's concurrency), on the registry `registry_on` makes."""
    template = Template(
        load_template(),
        parameters={
            "JumpServerUrl": jumpserver.url,
            "JumpServerProxyHost": "jms-proxy.example.com",
            "JumpServerRequestsPerMinute": "0",  # unthrottled: the ratio measures dbguard, not the budget
            "RotationConcurrency": str(CONCURRENCY),
        },
    )
    deploy(template, boto3.Session(region_name="eu-central-1"))
    boto3.client("secretsmanager").put_secret_value(
        SecretId=template.physical_ids["JumpServerCredentialsSecret"],
        SecretString=f'{{"private_token": "{TOKEN}"}}',
    )
    registry = registry_on(template.physical_ids["RegistryTable"], boto3.client("dynamodb"))
    environment = function_specs(template)["TokenRotationFunction"].environment
    rotation = compose(environment, around=lambda made: replace(made, registry=registry))
    return rotation, registry


def _seed(jumpserver: Simulator, registry: RotationRegistryUnderTest) -> None:
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
