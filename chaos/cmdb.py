"""`make chaos-cmdb`: CMDB changes delivered at least once and out of order while JumpServer fails,
then JumpServer, the registry and the dead-letter queue are checked against what the CMDB says.

    .venv/bin/python -m chaos.cmdb --changes 500 --seed 1

In process: template.yaml deployed into moto, cmdb_sync loaded with its template environment, a
JumpServer simulator (`--version`). The changes (creates, updates, renames, deletes and re-creates
of `--instances` databases, plus an `--invalid-share` of changes that are invalid by themselves)
are put on the CMDB queue in a shuffled order (each moves up to `--shuffle-window` places), a
`--redeliver-share` of them twice; the local SQS event source (dbguard_local/event_sources.py)
hands them to cmdb_sync in batches, and a change that fails comes back until moto's redrive policy
(CmdbMaxReceiveCount, `--max-receives`) moves it to the DLQ. Meanwhile each JumpServer request
draws one of the simulator's faults: 502 before (`--fail-rate`), 429 (`--throttle-rate`), a hang
past the client's timeout (`--hang-rate`) or 502 after the request was applied
(`--fail-after-commit-rate`).

Afterwards, for every database, the change with the highest version decides: an active database
has exactly one asset labelled with its CMDB id, with the CMDB's name, address, port, database and
labels, exactly one account and one permission, and a live current token; a retired one at most
one asset, inactive, with no live token. The registry agrees (version, status, fields, asset id),
the DLQ holds exactly the invalid changes, and no credential or token value is in the logs.
Exits 1 if any check fails.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from chaos.report import Progress, command_line
from chaos.world import World, fast_sleep, in_process_world
from dbguard_local import event_sources
from dbguard_local.event_sources import SqsPoller
from tests.faults import SimulatorChaos
from tests.samples import cmdb_change, credentials_secret_arn, eventbridge_event

MANAGED_LABEL = "dbguard"
BINDING_TAG = "dbguard:cmdb-ids"


@dataclass(frozen=True)
class Options:
    changes: int = 500
    instances: int = 0  # 0: changes / 8
    invalid_share: float = 0.03
    redeliver_share: float = 0.1
    shuffle_window: int = 25
    fail_rate: float = 0.02
    throttle_rate: float = 0.02
    hang_rate: float = 0.005
    fail_after_commit_rate: float = 0.02
    hang_seconds: float = 1.5
    jumpserver_timeout: float = 1.0
    max_receives: int = 10  # CmdbMaxReceiveCount
    backoff_factor: float = 0.05  # the client's back-off sleeps, scaled (429's Retry-After: 1 s)
    version: str = "v4"
    max_seconds: float = 1800.0
    seed: int = 1


@dataclass
class Scenario:
    changes: list[dict[str, Any]]  # valid change details, in CMDB order
    invalid: list[str]  # message bodies invalid by themselves
    final: dict[str, dict[str, Any]]  # cmdb id -> the change with the highest version
    usernames: dict[str, str]  # cmdb id -> the username of its credentials secret
    bodies: list[str] = field(default_factory=list)  # what is put on the queue, in that order


def scenario(options: Options) -> Scenario:
    rng = random.Random(options.seed)
    invalid_count = round(options.changes * options.invalid_share)
    valid_count = options.changes - invalid_count
    instances = options.instances or max(1, options.changes // 8)
    ids = [f"chaos-{options.seed}-{n:04d}" for n in range(min(instances, valid_count))]
    counts = Counter(ids)  # every database starts with its creation
    for _ in range(valid_count - len(ids)):
        counts[rng.choice(ids)] += 1
    per_instance: dict[str, list[dict[str, Any]]] = {}
    names = iter(f"db-{options.seed}-{n:05d}" for n in range(10**6))
    for cmdb_id in ids:
        version, current, history = 0, None, []
        for _ in range(counts[cmdb_id]):
            version += rng.randint(1, 3)
            if current is None:  # created, or created again after a delete
                current = _instance(rng, cmdb_id, next(names))
                history.append(cmdb_change("upsert", version, **current))
                continue
            kind = rng.choices(("update", "rename", "delete"), weights=(50, 25, 25))[0]
            if kind == "delete":
                history.append(cmdb_change("delete", version, id=cmdb_id))
                current = None
                continue
            current = dict(current)
            if kind == "rename":
                current["name"] = next(names)
            else:
                current.update(_update(rng))
            history.append(cmdb_change("upsert", version, **current))
        per_instance[cmdb_id] = history
    ordered = _interleave(rng, per_instance)
    invalid = [_invalid(rng, kind, rng.choice(ids)) for kind in _cycle(INVALID_KINDS, invalid_count)]
    bodies = [json.dumps(eventbridge_event(change)) for change in ordered] + invalid
    bodies = _shuffled(rng, bodies, options.shuffle_window)
    redelivered = [body for body in bodies if rng.random() < options.redeliver_share]
    for body in redelivered:  # SQS delivers a message twice now and then
        bodies.insert(rng.randrange(bodies.index(body), len(bodies) + 1), body)
    final = {cmdb_id: history[-1] for cmdb_id, history in per_instance.items()}
    usernames = {cmdb_id: f"app_{cmdb_id.replace('-', '_')}" for cmdb_id in ids}
    return Scenario(ordered, invalid, final, usernames, bodies)


def _instance(rng: random.Random, cmdb_id: str, name: str) -> dict[str, Any]:
    return {
        "id": cmdb_id,
        "name": name,
        "engine": "qhb",
        "host": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "port": rng.choice((5432, 5433, 6432)),
        "database": rng.choice(("billing", "crm", "ledger")),
        "environment": rng.choice(("prod", "test")),
        "labels": {"team": rng.choice(("billing", "crm", "core"))},
        "credentialsSecretArn": credentials_secret_arn(f"cmdb/{cmdb_id}"),
    }


def _update(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        (
            {"host": f"10.9.{rng.randint(0, 255)}.{rng.randint(1, 254)}"},
            {"port": rng.choice((5432, 5433, 6432))},
            {"labels": {"team": rng.choice(("billing", "crm", "core")), "tier": str(rng.randint(1, 3))}},
            {"environment": rng.choice(("prod", "test"))},
            {"database": rng.choice(("billing", "crm", "ledger"))},
        )
    )


INVALID_KINDS = ("not-json", "missing-host", "bad-port", "reserved-label", "bad-action", "bad-name")


def _invalid(rng: random.Random, kind: str, cmdb_id: str) -> str:
    """A message no delivery order or retry can make valid (a fresh version: never a duplicate)."""
    if kind == "not-json":
        return '{"detail": {"action": "upsert", "instance": '
    version = 10**6 + rng.randint(0, 10**6)
    change = cmdb_change("upsert", version, **_instance(rng, cmdb_id, f"bad-{version}"))
    if kind == "missing-host":
        del change["instance"]["host"]
    elif kind == "bad-port":
        change["instance"]["port"] = 0
    elif kind == "reserved-label":
        change["instance"]["labels"] = {MANAGED_LABEL: "someone-else"}
    elif kind == "bad-action":
        change["action"] = "merge"
    elif kind == "bad-name":
        change["instance"]["name"] = "has spaces/and slashes"
    return json.dumps(eventbridge_event(change))


def _cycle(kinds: tuple[str, ...], count: int) -> list[str]:
    return [kinds[n % len(kinds)] for n in range(count)]


def _interleave(rng: random.Random, per_instance: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The CMDB's order: each database's changes in version order, databases interleaved."""
    queues = {cmdb_id: list(history) for cmdb_id, history in per_instance.items()}
    ordered = []
    while queues:
        cmdb_id = rng.choice(sorted(queues))
        ordered.append(queues[cmdb_id].pop(0))
        if not queues[cmdb_id]:
            del queues[cmdb_id]
    return ordered


def _shuffled(rng: random.Random, items: list[str], window: int) -> list[str]:
    """Each item moves by up to `window` places: nearby changes (of one database too) swap."""
    keyed = sorted(enumerate(items), key=lambda pair: pair[0] + rng.uniform(0, window))
    return [item for _, item in keyed]


# ------------------------------------------------------------------------------------------ run
@contextmanager
def _immediate_retries():
    """A failed message is visible again at once (the local event source waits 2 s for a demo)."""
    saved = event_sources.LOCAL_RETRY_SECONDS
    event_sources.LOCAL_RETRY_SECONDS = 0
    try:
        yield
    finally:
        event_sources.LOCAL_RETRY_SECONDS = saved


def _create_credentials(the_scenario: Scenario) -> dict[str, str]:
    secretsmanager = boto3.client("secretsmanager")
    passwords = {}
    for cmdb_id, username in the_scenario.usernames.items():
        password = f"cmdb-pw-{random.Random(cmdb_id).getrandbits(64):016x}"
        secretsmanager.create_secret(
            Name=f"cmdb/{cmdb_id}",
            SecretString=json.dumps({"username": username, "password": password}),
            Tags=[{"Key": BINDING_TAG, "Value": cmdb_id}],
        )
        passwords[cmdb_id] = password
    return passwords


def deliver(world: World, the_scenario: Scenario, options: Options, progress: Progress | None) -> dict:
    function = world.load("CmdbSyncFunction", JUMPSERVER_TIMEOUT_SECONDS=str(options.jumpserver_timeout))
    function.module.parts.sync._jumpserver._http._sleep = fast_sleep(options.backoff_factor)
    spec = function.spec
    source = next(event["Properties"] for event in spec.events.values() if event["Type"] == "SQS")
    sqs = boto3.client("sqs")
    queue_url = world.physical_id("CmdbQueue")
    for body in the_scenario.bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    invocations = Counter()

    def invoke(_: str, event: dict[str, Any]) -> Any:
        invocations["batches"] += 1
        invocations["records"] += len(event["Records"])
        answer = function.invoke(event)
        failed = len(answer.get("batchItemFailures", []))
        invocations["failed records"] += failed
        if progress:
            progress.advance(len(event["Records"]) - failed)
        return answer

    poller = SqsPoller(spec, source, sqs, invoke, lambda record: invocations.update(["event-source errors"]))
    deadline = time.monotonic() + options.max_seconds
    idle = 0
    with _immediate_retries():
        while time.monotonic() < deadline and idle < 3:
            idle = idle + 1 if poller.poll_once(wait_seconds=0) == 0 and _drained(sqs, queue_url) else 0
    invocations["timed out"] = int(time.monotonic() >= deadline)
    return dict(invocations)


def _drained(sqs: Any, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return set(attributes.values()) == {"0"}


# ------------------------------------------------------------------------------------------ checks
def check(world: World, the_scenario: Scenario, passwords: dict[str, str]) -> dict[str, Any]:
    store = world.jumpserver.store
    world.clock.advance(301)  # one-time tokens of interrupted rotations (never made reusable) die
    now = world.jumpserver.clock()
    registry = boto3.client("dynamodb")
    table = world.physical_id("RegistryTable")
    problems: list[str] = []
    by_label: dict[str, list[Any]] = defaultdict(list)
    for asset in store.assets.values():
        ids = [label.split(":", 1)[1] for label in asset.labels if label.startswith(f"{MANAGED_LABEL}:")]
        if len(ids) != 1:
            problems.append(f"asset {asset.name} ({asset.id}) has {len(ids)} dbguard labels")
        for cmdb_id in ids:
            by_label[cmdb_id].append(asset)
    live = defaultdict(set)
    for token in store.tokens.values():
        if token.expires > now:
            live[token.asset_id].add(token.id)
    active = retired = 0
    for cmdb_id, change in the_scenario.final.items():
        assets = by_label.get(cmdb_id, [])
        item = registry.get_item(TableName=table, Key={"cmdbId": {"S": cmdb_id}}, ConsistentRead=True)
        entry = _plain(item.get("Item", {}))
        if entry.get("version") != change["version"]:
            problems.append(f"{cmdb_id}: registry version {entry.get('version')}, CMDB {change['version']}")
        if change["action"] == "delete":
            retired += 1
            if len(assets) > 1:
                problems.append(f"{cmdb_id}: retired, but {len(assets)} assets")
            for asset in assets:
                if asset.is_active:
                    problems.append(f"{cmdb_id}: retired, but asset {asset.id} is active")
                if live[asset.id]:
                    problems.append(f"{cmdb_id}: retired, but {len(live[asset.id])} live tokens")
            if entry.get("status", "retired" if "name" not in entry else "active") != "retired":
                problems.append(f"{cmdb_id}: retired in the CMDB, {entry.get('status')} in the registry")
            continue
        active += 1
        problems += _check_active(store, cmdb_id, change["instance"], assets, entry, live, the_scenario)
    foreign = [cmdb_id for cmdb_id in by_label if cmdb_id not in the_scenario.final]
    if foreign:
        problems.append(f"assets labelled with CMDB ids that were never valid: {sorted(foreign)[:5]}")
    dead_letters = _drain_dlq(world)
    expected = Counter(the_scenario.invalid)
    unexpected = [body for body in dead_letters if body not in expected]
    missing = [body for body in expected if body not in dead_letters]
    if unexpected:
        problems.append(f"{len(unexpected)} valid changes in the DLQ, e.g. {unexpected[0][:200]}")
    if missing:
        problems.append(f"{len(missing)} invalid changes not in the DLQ")
    logs = world.logs.text()
    secrets_logged = sum(1 for p in passwords.values() if p in logs)
    secrets_logged += sum(1 for t in store.tokens.values() if t.value in logs)
    if secrets_logged:
        problems.append(f"{secrets_logged} credential or token values in the logs")
    return {
        "databases": len(the_scenario.final),
        "active": active,
        "retired": retired,
        "assets": len(store.assets),
        "accounts": len(store.accounts),
        "permissions": len(store.permissions),
        "deadLetters": len(dead_letters),
        "invalidChanges": len(the_scenario.invalid),
        "secretsInLogs": secrets_logged,
        "logBytes": len(logs),
        "problems": problems,
    }


def _check_active(store, cmdb_id, instance, assets, entry, live, the_scenario) -> list[str]:
    problems = []
    if len(assets) != 1:
        return [f"{cmdb_id}: active, but {len(assets)} assets carry its label"]
    (asset,) = assets
    ports = {protocol.get("port") for protocol in asset.protocols}
    want_labels = {f"{k}:{v}" for k, v in instance["labels"].items()} | {f"{MANAGED_LABEL}:{cmdb_id}"}
    actual = (asset.name, asset.address, ports, asset.db_name, set(asset.labels), asset.is_active)
    wanted = (instance["name"], instance["host"], {instance["port"]}, instance["database"], want_labels, True)
    if actual != wanted:
        problems.append(f"{cmdb_id}: asset {actual} but the CMDB says {wanted}")
    accounts = [a for a in store.accounts.values() if a.asset_id == asset.id]
    if [(a.name, a.username) for a in accounts] != [("dbguard", the_scenario.usernames[cmdb_id])]:
        problems.append(f"{cmdb_id}: accounts {[(a.name, a.username) for a in accounts]}")
    permissions = [p for p in store.permissions.values() if asset.id in p.assets]
    if len(permissions) != 1:
        problems.append(f"{cmdb_id}: {len(permissions)} permissions for its asset")
    registry = (entry.get("status", "active"), entry.get("name"), entry.get("host"), entry.get("port"),
                entry.get("database"), entry.get("labels"), entry.get("assetId"))  # fmt: skip
    expected = ("active", instance["name"], instance["host"], instance["port"], instance["database"],
                instance["labels"], asset.id)  # fmt: skip
    if registry != expected:
        problems.append(f"{cmdb_id}: registry {registry}, expected {expected}")
    if entry.get("currentTokenId") not in live[asset.id]:
        problems.append(f"{cmdb_id}: its current token is not live on its asset")
    return problems


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    values = {key: deserializer.deserialize(value) for key, value in item.items()}
    return {key: int(value) if hasattr(value, "as_integer_ratio") and key in ("version", "port") else value
            for key, value in values.items()}  # fmt: skip


def _drain_dlq(world: World) -> list[str]:
    sqs = boto3.client("sqs")
    url = world.physical_id("CmdbDeadLetterQueue")
    bodies: list[str] = []
    for _ in range(10_000):  # bounded: at most every message once
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
            "Messages", []
        )
        if not messages:
            break
        bodies += [message["Body"] for message in messages]
    return bodies


def run(options: Options, show_progress: bool = True) -> dict[str, Any]:
    the_scenario = scenario(options)
    rng = random.Random(options.seed + 1)
    parameters = {"CmdbMaxReceiveCount": str(options.max_receives)}
    with in_process_world(options.version, parameters) as world:
        passwords = _create_credentials(the_scenario)
        world.jumpserver.faults(hang_seconds=options.hang_seconds, retry_after_seconds=1)
        chaos = SimulatorChaos(
            world.jumpserver,
            rng,
            {
                "fail_next": options.fail_rate,
                "throttle_next": options.throttle_rate,
                "hang_next": options.hang_rate,
                "fail_after_commit_next": options.fail_after_commit_rate,
            },
        )
        progress = Progress("chaos-cmdb", len(the_scenario.bodies)) if show_progress else None
        started = time.monotonic()
        delivery = deliver(world, the_scenario, options, progress)
        elapsed = time.monotonic() - started
        if progress:
            progress.close()
        chaos.enabled = False
        time.sleep(options.hang_seconds)  # a hung request still being answered settles first
        checked = check(world, the_scenario, passwords)
    kinds = Counter(change["action"] for change in the_scenario.changes)
    return {
        "options": options.__dict__,
        "changes": len(the_scenario.changes) + len(the_scenario.invalid),
        "upserts": kinds["upsert"],
        "deletes": kinds["delete"],
        "messages": len(the_scenario.bodies),
        "redelivered": len(the_scenario.bodies) - len(the_scenario.changes) - len(the_scenario.invalid),
        "delivery": delivery,
        "jumpserverRequests": chaos.requests,
        "jumpserverFaults": dict(chaos.injected),
        "seconds": round(elapsed, 1),
        **checked,
        "passed": not checked["problems"] and not delivery.get("timed out"),
    }


def _rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    faults = result["jumpserverFaults"]
    return [
        ("CMDB changes (upserts / deletes / invalid)",
         f"{result['changes']} ({result['upserts']} / {result['deletes']} / {result['invalidChanges']})"),
        ("messages (redelivered)", f"{result['messages']} ({result['redelivered']})"),
        ("deliveries (batches, failed records)",
         f"{result['delivery'].get('records')} ({result['delivery'].get('batches')}, "
         f"{result['delivery'].get('failed records', 0)})"),
        ("JumpServer requests", result["jumpserverRequests"]),
        ("faults: 502 / 429 / hang / 502 after commit",
         f"{faults.get('fail_next', 0)} / {faults.get('throttle_next', 0)} / {faults.get('hang_next', 0)} / "
         f"{faults.get('fail_after_commit_next', 0)}"),
        ("databases (active / retired)", f"{result['databases']} ({result['active']} / {result['retired']})"),
        ("assets / accounts / permissions in JumpServer",
         f"{result['assets']} / {result['accounts']} / {result['permissions']}"),
        ("dead letters (invalid changes)", f"{result['deadLetters']} ({result['invalidChanges']})"),
        ("secrets in logs", result["secretsInLogs"]),
        ("duration", f"{result['seconds']} s"),
        ("problems", len(result["problems"])),
        ("passed", result["passed"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line(
        "python -m chaos.cmdb", __doc__.split("\n")[0], Options(),
        lambda options, progress: run(options, show_progress=progress),
        lambda options, result: f"chaos-cmdb: {result['changes']} CMDB changes under JumpServer faults",
        _rows, argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
