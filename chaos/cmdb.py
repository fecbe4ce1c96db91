"""`make chaos-cmdb`: CMDB changes delivered at least once and out of order while JumpServer fails,
then JumpServer, the registry and the dead-letter queue are checked against what the CMDB says.

    .venv/bin/python -m chaos.cmdb --changes 500 --seed 1

In process: template.yaml deployed into moto, cmdb_sync loaded with its template environment, a
JumpServer simulator (`--version`). The changes (creates, updates, renames, deletes and re-creates
of `--instances` databases, a `--reuse-share` of the creations and renames taking a name another
database had, plus an `--invalid-share` of changes that are invalid by themselves) are put on the
CMDB queue in a shuffled order (each moves up to `--shuffle-window` places), a `--redeliver-share`
of them twice; the local SQS event source (dbguard_local/event_sources.py)
hands them to cmdb_sync in batches, and a change that fails comes back until moto's redrive policy
(CmdbMaxReceiveCount, `--max-receives`) moves it to the DLQ. Meanwhile each JumpServer request
draws one of the simulator's faults: 502 before (`--fail-rate`), 429 (`--throttle-rate`), a hang
past the client's timeout (`--hang-rate`) or 502 after the request was applied
(`--fail-after-commit-rate`).

Afterwards, for every database, the change the registry recorded as applied decides: an active
database has exactly one asset labelled with its CMDB id, with the CMDB's name, address, port,
database and labels, exactly one account and one permission, and a live current token; a retired
one at most one asset, inactive, with no live token. The registry agrees (version, status, fields,
asset id). Every change newer than the applied one is in the DLQ, refused because its name was
another database's (its asset's or its secret's: which database got a reused name first depends on
the delivery order), and the DLQ holds nothing else but the invalid changes. Every secret belongs
to one database (its tag), is the one its registry entry records, and holds that database's current
token for its own asset and database name. No credential or token value is in the logs. Exits 1 if
any check fails.
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
from dbguard_testkit.faults import SimulatorChaos
from dbguard_testkit.samples import cmdb_change, credentials_secret_arn, eventbridge_event

MANAGED_LABEL = "dbguard"
BINDING_TAG = "dbguard:cmdb-ids"


# --help's line for each option (chaos/report.py refuses an option without one)
OPTION_HELP = {
    "changes": "CMDB changes in all, invalid ones included",
    "instances": "databases they concern (0: changes / 8)",
    "invalid_share": "share of changes invalid by themselves (they must end in the DLQ)",
    "reuse_share": "share of creations and renames taking a name another database had",
    "redeliver_share": "share of changes delivered twice",
    "shuffle_window": "how many places a change may move from the CMDB's order",
    "fail_rate": "share of JumpServer requests answered 502 before they are applied",
    "throttle_rate": "share of JumpServer requests answered 429",
    "hang_rate": "share of JumpServer requests that hang past the client's timeout",
    "fail_after_commit_rate": "share of JumpServer requests applied, then answered 502",
    "hang_seconds": "how long a hanging request hangs",
    "jumpserver_timeout": "cmdb_sync's JumpServer client timeout, seconds",
    "max_receives": "receives before a change goes to the DLQ (CmdbMaxReceiveCount)",
    "backoff_factor": "scale of the client's back-off sleeps (1: as deployed)",
    "version": "JumpServer simulator version, v3 or v4",
    "max_seconds": "give up after this many seconds",
    "seed": "seed of every random draw (the same seed, the same run)",
}


@dataclass(frozen=True)
class Options:
    changes: int = 500
    instances: int = 0  # 0: changes / 8
    invalid_share: float = 0.03
    reuse_share: float = 0.3
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
    histories: dict[str, list[dict[str, Any]]]  # cmdb id -> its changes in version order
    usernames: dict[str, str]  # cmdb id -> the username of its credentials secret
    bodies: list[str] = field(default_factory=list)  # what is put on the queue, in that order

    def shared_names(self) -> set[str]:
        """Names more than one database has in the CMDB's history."""
        holders: dict[str, set[str]] = defaultdict(set)
        for change in self.changes:
            if change["action"] == "upsert":
                holders[change["instance"]["name"]].add(change["instance"]["id"])
        return {name for name, ids in holders.items() if len(ids) > 1}


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
    fresh = iter(f"db-{options.seed}-{n:05d}" for n in range(10**6))
    given_up: list[str] = []  # names a database left by a rename or a delete

    def a_name() -> str:
        if given_up and rng.random() < options.reuse_share:
            return given_up.pop(rng.randrange(len(given_up)))  # another database had it
        return next(fresh)

    for cmdb_id in ids:
        version, current, history = 0, None, []
        for _ in range(counts[cmdb_id]):
            version += rng.randint(1, 3)
            if current is None:  # created, or created again after a delete
                current = _instance(rng, cmdb_id, a_name())
                history.append(cmdb_change("upsert", version, **current))
                continue
            kind = rng.choices(("update", "rename", "delete"), weights=(50, 25, 25))[0]
            if kind == "delete":
                history.append(cmdb_change("delete", version, id=cmdb_id))
                given_up.append(current["name"])
                current = None
                continue
            current = dict(current)
            if kind == "rename":
                given_up.append(current["name"])
                current["name"] = a_name()
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
    usernames = {cmdb_id: f"app_{cmdb_id.replace('-', '_')}" for cmdb_id in ids}
    return Scenario(ordered, invalid, per_instance, usernames, bodies)


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


INVALID_KINDS = (
    "not-json", "missing-host", "bad-port", "reserved-label", "bad-action", "bad-name", "forged-label",
    "nul-database", "boolean-port", "version-ahead",
)  # fmt: skip


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
    elif kind == "forged-label":  # JumpServer v4 strips \x1f: it would store dbguard:someone-else
        change["instance"]["labels"] = {f"{MANAGED_LABEL}\x1f": "someone-else"}
    elif kind == "nul-database":
        change["instance"]["database"] = "bill\x00ing"
    elif kind == "boolean-port":
        change["instance"]["port"] = True
    elif kind == "version-ahead":  # would make every later change of the database stale
        change["version"] = 10**15
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
# what cmdb_sync says when a name is another database's: its asset's (NameCollision) or its secret's
NAME_REFUSALS = ("JumpServer already has an asset named", "belongs to the database")


def check(world: World, the_scenario: Scenario, passwords: dict[str, str]) -> dict[str, Any]:
    store = world.jumpserver.store
    world.clock.advance(301)  # one-time tokens of interrupted rotations (never made reusable) die
    now = world.jumpserver.clock()
    entries = _registry(world)
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
    refused, dlq_problems, dead_letters = _dead_letters(world, the_scenario)
    problems += dlq_problems
    active = retired = 0
    for cmdb_id, history in the_scenario.histories.items():
        assets = by_label.get(cmdb_id, [])
        entry = entries.get(cmdb_id, {})
        applied = entry.get("version")
        for later in (change for change in history if change["version"] > (applied or 0)):
            if (cmdb_id, later["version"]) not in refused:
                problems.append(
                    f"{cmdb_id}: version {later['version']} neither applied nor refused for its name"
                )
        change = next((change for change in history if change["version"] == applied), None)
        if change is None:  # nothing applied: every change was refused
            if assets or "name" in entry:
                problems.append(f"{cmdb_id}: nothing applied, yet {len(assets)} assets and entry {entry}")
            continue
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
    foreign = [cmdb_id for cmdb_id in by_label if cmdb_id not in the_scenario.histories]
    if foreign:
        problems.append(f"assets labelled with CMDB ids that were never valid: {sorted(foreign)[:5]}")
    secrets_checked, secret_problems = _check_secrets(entries, live)
    problems += secret_problems
    logs = world.logs.text()
    secrets_logged = sum(1 for p in passwords.values() if p in logs)
    secrets_logged += sum(1 for t in store.tokens.values() if t.value in logs)
    if secrets_logged:
        problems.append(f"{secrets_logged} credential or token values in the logs")
    return {
        "databases": len(the_scenario.histories),
        "active": active,
        "retired": retired,
        "assets": len(store.assets),
        "accounts": len(store.accounts),
        "permissions": len(store.permissions),
        "secrets": secrets_checked,
        "deadLetters": dead_letters,
        "invalidChanges": len(the_scenario.invalid),
        "refusedForTheirName": len(refused),
        "sharedNames": len(the_scenario.shared_names()),
        "secretsInLogs": secrets_logged,
        "logBytes": len(logs),
        "problems": problems,
    }


def _dead_letters(world: World, the_scenario: Scenario) -> tuple[set[tuple[str, int]], list[str], int]:
    """The valid changes in the DLQ (cmdb id, version), each refused because its name was another
    database's, and what else is wrong there: a valid change refused for another reason, a change
    refused whose name no other database ever had, an invalid change missing."""
    shared = the_scenario.shared_names()
    invalid, seen = set(the_scenario.invalid), set()
    refused: set[tuple[str, int]] = set()
    problems: list[str] = []
    letters = _drain_dlq(world)
    for body, reason in letters:
        if body in invalid:  # once, or more if SQS delivered it twice
            seen.add(body)
            continue
        detail = json.loads(body)["detail"]
        name = detail["instance"].get("name")
        if not any(text in reason for text in NAME_REFUSALS) or name not in shared:
            problems.append(f"a valid change in the DLQ: {reason[:200]} ({body[:200]})")
            continue
        refused.add((detail["instance"]["id"], detail["version"]))
    missing = len(invalid - seen)
    if missing:
        problems.append(f"{missing} invalid changes not in the DLQ")
    return refused, problems, len(letters)


def _check_secrets(entries: dict[str, dict[str, Any]], live: dict[str, set[str]]) -> tuple[int, list[str]]:
    """Every secret under the prefix is one database's (its tag) and the one its entry records; an
    active database's holds its current token, made for its own asset and database name."""
    secretsmanager = boto3.client("secretsmanager")
    problems: list[str] = []
    owners: Counter[str] = Counter()
    listed = secretsmanager.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": ["dbguard/db/"]}], IncludePlannedDeletion=True
    )
    secrets = [secret for page in listed for secret in page["SecretList"]]
    for secret in secrets:
        owner = {tag["Key"]: tag["Value"] for tag in secret.get("Tags", [])}.get("dbguard:cmdb-id")
        owners[owner or "(none)"] += 1
        entry = entries.get(owner or "", {})
        if entry.get("secretArn") not in (secret["ARN"], secret["Name"]):
            problems.append(f"secret {secret['Name']} (owner {owner}) is not the one its entry records")
            continue
        if entry.get("status") == "retired" or "dueKey" not in entry:
            if "DeletedDate" not in secret and entry.get("status") == "retired":
                problems.append(f"secret {secret['Name']} of retired {owner} is not scheduled for deletion")
            continue
        value = json.loads(secretsmanager.get_secret_value(SecretId=secret["ARN"])["SecretString"])
        made_for = (value["token_id"], value["jumpserver_asset_id"], value["dbname"])
        if made_for != (entry.get("currentTokenId"), entry.get("assetId"), entry.get("database")):
            problems.append(f"secret {secret['Name']} holds {made_for}, its database {owner} has {entry}")
        if value["token_id"] not in live[entry.get("assetId")]:
            problems.append(f"secret {secret['Name']}: its token is not live on its database's asset")
    problems += [f"{owner} owns {count} secrets" for owner, count in owners.items() if count > 1]
    return len(secrets), problems


def _registry(world: World) -> dict[str, dict[str, Any]]:
    pages = (
        boto3.client("dynamodb").get_paginator("scan").paginate(TableName=world.physical_id("RegistryTable"))
    )
    return {item["cmdbId"]: item for page in pages for item in map(_plain, page["Items"])}


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


def _drain_dlq(world: World) -> list[tuple[str, str]]:
    """(body, reason) of every message in the DLQ; SQS's own redrive gives no reason ("")."""
    sqs = boto3.client("sqs")
    url = world.physical_id("CmdbDeadLetterQueue")
    letters: list[tuple[str, str]] = []
    for _ in range(10_000):  # bounded: at most every message once
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
            letters.append((message["Body"], reason))
    return letters


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
        ("dead letters (invalid / refused for a name another database had)",
         f"{result['deadLetters']} ({result['invalidChanges']} / {result['refusedForTheirName']})"),
        ("names two databases had / secrets checked", f"{result['sharedNames']} / {result['secrets']}"),
        ("secrets in logs", result["secretsInLogs"]),
        ("duration", f"{result['seconds']} s"),
        ("problems", len(result["problems"])),
        ("passed", result["passed"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line(
        "python -m chaos.cmdb", __doc__.split("\n\n")[0], Options(), OPTION_HELP,
        lambda options, progress: run(options, show_progress=progress),
        lambda options, result: f"chaos-cmdb: {result['changes']} CMDB changes under JumpServer faults",
        _rows, argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
