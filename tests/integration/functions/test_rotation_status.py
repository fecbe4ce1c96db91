"""rotation_status on moto: GET /rotation/databases answers every active database from the registry,
most urgent first; a registration and a failed rotation show as they left the registry."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from dbguard_local.functions import function_specs
from dbguard_testkit.registry_seed import seed_registry
from tests.integration.functions.test_sample_events import load
from tests.world import register, template_parameters, world  # noqa: F401 - fixtures


def get(function, query: dict[str, str] | None = None) -> tuple[int, dict]:
    event = load("rotation_status/list.json")
    event["multiValueQueryStringParameters"] = {
        name: [value] for name, value in (query or {}).items()
    } or None
    answer = function.invoke(event)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def status(stack, load_function):
    return load_function("RotationStatusFunction")


def test_every_active_database_most_urgent_first(stack, status):
    seed_registry(boto3.client("dynamodb"), stack.physical_ids["RegistryTable"], 50, int(time.time()))
    code, body = get(status)
    assert code == 200
    assert body["total"] == 50
    assert body["counts"] == {"expired": 5, "no_token": 5, "failing": 5, "overdue": 5, "due": 5, "ok": 25}
    states = [database["state"] for database in body["databases"]]
    order = ["expired", "no_token", "failing", "overdue", "due", "ok"]
    assert states == sorted(states, key=order.index)
    missing = {d["name"] for d in body["databases"] if d["permission"] == "missing"}
    assert missing == {"db-00002", "db-00022", "db-00042"}

    code, top = get(status, {"limit": "3"})
    assert (code, [d["state"] for d in top["databases"]], top["total"]) == (200, ["expired"] * 3, 50)
    assert get(status, {"limit": "0"})[0] == 400


def test_the_function_only_queries_the_due_index(stack):
    """Least privilege: the template lets it read nothing else, and its settings need nothing else."""
    statements = stack.resources["RotationStatusFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [(s["Action"], stack.resolve(s["Resource"])) for s in statements] == [
        (
            "dynamodb:Query",
            f"arn:aws:dynamodb:eu-central-1:123456789012:table/{stack.physical_ids['RegistryTable']}/index/byDue",
        )
    ]
    assert function_specs(stack)["RotationStatusFunction"].environment["REGISTRY_TABLE_NAME"]


def test_a_registration_then_a_failed_rotation(world, status, load_function):
    cmdb_sync = load_function("CmdbSyncFunction")
    assert register(cmdb_sync, version=1) == {"batchItemFailures": []}
    [database] = get(status)[1]["databases"]
    assert (database["name"], database["state"], database["permission"]) == (
        "billing-qhb-01",
        "ok",
        "confirmed",
    )
    assert database["lastRotationError"] is None
    assert 29 * 86400 < database["secondsLeft"] <= 30 * 86400  # the simulator's 30-day reusable token

    world.jumpserver.faults(fail_next=100)  # JumpServer down
    rotation = load_function("TokenRotationFunction", CONSUMER_CACHE_SECONDS="0", JUMPSERVER_MAX_RETRIES="0")
    [result] = rotation.invoke({"rotate": ["billing-qhb-01"]})["results"]
    assert result["status"] == "failed"
    [database] = get(status)[1]["databases"]
    assert (database["state"], database["permission"]) == ("failing", "unknown")
    assert database["lastRotationError"].startswith("JumpServerUnavailable")
