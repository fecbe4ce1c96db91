"""`make chaos-rotation`: databases rotated again and again while JumpServer and the embedded AWS fail
at random; afterwards every secret's AWSCURRENT and AWSPREVIOUS tokens work and no other is valid.

    .venv/bin/python -m chaos.rotation --databases 200 --rounds 5 --seed 1

In process: template.yaml deployed into moto, a JumpServer simulator, `--databases` databases
registered through cmdb_sync (without faults). Then `--rounds` forced rotations of every database
(token_rotation's graph built by its composition root from the function's environment, with faults
around its adapters: at most `--concurrency` JumpServer requests at once, twice as many databases in
progress; ConsumerCacheSeconds 0) while:

- each JumpServer request draws one of the simulator's faults: 502 before (`--fail-rate`), 429
  (`--throttle-rate`), a hang past the client's timeout (`--hang-rate`), 502 after the request was
  applied (`--fail-after-commit-rate`);
- each boto3 HTTP attempt of the registry and Secrets Manager is throttled at `--aws-throttle-rate`
  (botocore retries it, as it would DynamoDB's or Secrets Manager's own);
- each call the rotator makes to its dependencies (JumpServer client, registry, secrets) fails at
  `--call-fault-rate`, before or after it ran, or as a kill (the run stops there, its lease stays
  behind until it runs out: the clock then skips ahead past it) — dbguard_testkit/faults.py.

After every round, every secret's AWSCURRENT and AWSPREVIOUS tokens must be live in JumpServer.
After the rounds, one run without faults, which must rotate every database, then 301 s later
(one-time tokens never made reusable die by themselves): the labelled tokens are live, the secret
holds their values, the registry's current token is AWSCURRENT, and no other token of the database
is valid; no token value is in the logs. Exits 1 if any check fails.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3

from chaos.report import Progress, command_line
from chaos.world import World, fast_sleep, in_process_world
from dbguard_local.secrets_rotation import wait_until_idle
from dbguard_testkit.faults import MODES, AwsThrottling, Faulty, Killed, RandomFaults, SimulatorChaos
from dbguard_testkit.samples import cmdb_change, credentials_secret_arn, eventbridge_event, sqs_event

STAGES = ("AWSCURRENT", "AWSPREVIOUS")


# --help's line for each option (chaos/report.py refuses an option without one)
OPTION_HELP = {
    "databases": "databases registered, then rotated",
    "rounds": "forced rotations of every database under faults",
    "concurrency": "JumpServer requests at once (twice as many databases in progress)",
    "fail_rate": "share of JumpServer requests answered 502 before they are applied",
    "throttle_rate": "share of JumpServer requests answered 429",
    "hang_rate": "share of JumpServer requests that hang past the client's timeout",
    "fail_after_commit_rate": "share of JumpServer requests applied, then answered 502",
    "aws_throttle_rate": "share of registry and Secrets Manager HTTP attempts throttled",
    "call_fault_rate": "share of the rotator's calls that fail before or after running, or kill the run",
    "hang_seconds": "how long a hanging request hangs",
    "jumpserver_timeout": "token_rotation's JumpServer client timeout, seconds",
    "backoff_factor": "scale of the client's back-off sleeps (1: as deployed)",
    "version": "JumpServer simulator version, v3 or v4",
    "max_seconds": "give up after this many seconds",
    "seed": "seed of every random draw (the same seed, the same run)",
}


@dataclass(frozen=True)
class Options:
    databases: int = 200
    rounds: int = 5
    concurrency: int = 8
    fail_rate: float = 0.01
    throttle_rate: float = 0.01
    hang_rate: float = 0.002
    fail_after_commit_rate: float = 0.01
    aws_throttle_rate: float = 0.02
    call_fault_rate: float = 0.005
    hang_seconds: float = 1.5
    jumpserver_timeout: float = 1.0
    backoff_factor: float = 0.05
    version: str = "v4"
    max_seconds: float = 1800.0
    seed: int = 1


def names(options: Options) -> list[str]:
    return [f"rot-{options.seed}-{n:04d}" for n in range(options.databases)]


def register_all(world: World, options: Options) -> None:
    """Every database through cmdb_sync, ten changes a batch, with a credentials secret of its own."""
    secretsmanager = boto3.client("secretsmanager")
    changes = []
    for name in names(options):
        secretsmanager.create_secret(
            Name=f"cmdb/{name}",
            SecretString=json.dumps({"username": f"app_{name.replace('-', '_')}", "password": f"pw-{name}"}),
            Tags=[{"Key": "dbguard:cmdb-ids", "Value": f"cmdb-{name}"}],
        )
        arn = credentials_secret_arn(f"cmdb/{name}")
        changes.append(cmdb_change("upsert", 1, id=f"cmdb-{name}", name=name, credentialsSecretArn=arn))
    cmdb_sync = world.load("CmdbSyncFunction")
    world.load("TokenRotationFunction")  # registration's RotateSecret runs testSecret on it, as on AWS
    for start in range(0, len(changes), 10):
        bodies = [json.dumps(eventbridge_event(change)) for change in changes[start : start + 10]]
        for _ in range(3):  # bounded: a registration that fails here is retried like SQS would
            failures = cmdb_sync.invoke(sqs_event(*bodies))["batchItemFailures"]
            if not failures:
                break
        else:
            raise RuntimeError(f"registration failed without faults: {failures}")


@dataclass(frozen=True)
class Steps:
    """Stands for the loaded function where RotateSecret invokes it (chaos/world.py World.loaded)."""

    invoke: Callable[[dict[str, Any]], Any]


class Chaos:
    """token_rotation's graph as its composition root builds it, with faults around every adapter."""

    def __init__(self, world: World, options: Options, rng: random.Random, progress: Progress | None) -> None:
        world.load(
            "TokenRotationFunction",
            CONSUMER_CACHE_SECONDS="0",
            JUMPSERVER_TIMEOUT_SECONDS=str(options.jumpserver_timeout),
            ROTATION_CONCURRENCY=str(options.concurrency),
            ROTATION_STEP_WAIT_SECONDS="8",  # a step that died after its promotion is settled after 2 s
        )
        # imported after the cold start above: the same module generation as the function's
        from dbguard.composition.token_rotation import TokenRotationSettings, compose
        from dbguard.rotation.steps import RotationStep

        self.world, self.progress = world, progress
        self.lease_seconds = TokenRotationSettings.load().rotation_lease_seconds
        self.aws_faults = AwsThrottling(rng, options.aws_throttle_rate)
        self.call_faults = RandomFaults(rng, options.call_fault_rate, MODES)

        def faulty(made: Any) -> Any:
            self.aws_faults.attach(made.registry._dynamodb)
            self.aws_faults.attach(made.secrets._client)
            made.jumpserver._http._sleep = fast_sleep(options.backoff_factor)
            return replace(
                made,
                registry=Faulty(made.registry, self.call_faults),
                secrets=Faulty(made.secrets, self.call_faults),
                jumpserver=Faulty(made.jumpserver, self.call_faults),
            )

        rotation = compose(around=faulty, clock=lambda: datetime.fromtimestamp(world.clock(), UTC))
        # the steps Secrets Manager sends token_rotation run on this graph too, faults and all
        world.loaded["TokenRotationFunction"] = Steps(
            lambda event: rotation.secrets_manager_rotation.run(RotationStep.model_validate(event))
        )
        self.runner = rotation.runner
        self._rotator = self.runner._rotator
        self.runner._rotator = self  # counts each database's outcome (rotate below)
        self.jumpserver_faults = SimulatorChaos(
            world.jumpserver,
            rng,
            {
                "fail_next": options.fail_rate,
                "throttle_next": options.throttle_rate,
                "hang_next": options.hang_rate,
                "fail_after_commit_next": options.fail_after_commit_rate,
            },
        )
        world.jumpserver.faults(hang_seconds=options.hang_seconds, retry_after_seconds=1)
        self.outcomes: Counter[str] = Counter()
        self.last_round: list[Any] = []  # the results of the round running or run last

    def rotate(self, entry: Any, *, force: bool = False) -> Any:
        """The rotator's, counted (the runner calls this)."""
        try:
            result = self._rotator.rotate(entry, force=force)
        except Killed:
            self.outcomes["killed"] += 1
            raise
        except Exception:
            self.outcomes["raised"] += 1
            raise
        finally:
            if self.progress:
                self.progress.advance()
        self.outcomes[result.status.value] += 1
        self.last_round.append(result)
        return result

    def faults(self, enabled: bool) -> None:
        self.aws_faults.enabled = self.call_faults.enabled = self.jumpserver_faults.enabled = enabled

    def run_round(self) -> str:
        """One forced rotation of every database; how the run ended."""
        self.last_round = []
        try:
            self.runner.rotate_named(None, lambda: True, force=True)
        except Killed:
            # the rotations Secrets Manager already runs finish on their own (other invocations),
            # then the dead run's leases run out
            wait_until_idle()
            self.world.clock.advance(self.lease_seconds + 1)
            return "killed"
        except Exception:
            return "failed"  # a dependency failed where the rotator does not catch it (listing, ...)
        return "completed"


# ------------------------------------------------------------------------------------------ checks
def labelled_tokens(name: str) -> dict[str, dict[str, Any]]:
    secrets = boto3.client("secretsmanager")
    secret_id = f"dbguard/db/{name}"
    stages = secrets.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    found = {}
    for version, labels in stages.items():
        for stage in set(labels) & set(STAGES):
            value = secrets.get_secret_value(SecretId=secret_id, VersionId=version)
            found[stage] = json.loads(value["SecretString"])
    return found


def live_tokens(world: World, asset_id: str) -> dict[str, Any]:
    now = world.jumpserver.clock()
    tokens = world.jumpserver.store.tokens.values()
    return {t.id: t for t in tokens if t.asset_id == asset_id and t.expires > now}


def asset_of(world: World, name: str) -> Any:
    return next(a for a in world.jumpserver.store.assets.values() if a.name == name)


def labelled_tokens_live(world: World, options: Options) -> list[str]:
    """Problems: a secret handing out a token JumpServer no longer accepts."""
    problems = []
    for name in names(options):
        live = live_tokens(world, asset_of(world, name).id)
        for stage, secret in labelled_tokens(name).items():
            if secret["token_id"] not in live:
                problems.append(f"{name}: {stage} token {secret['token_id']} is not valid")
    return problems


def only_labelled_tokens_valid(world: World, options: Options) -> list[str]:
    problems = []
    registry = boto3.client("dynamodb")
    table = world.physical_id("RegistryTable")
    for name in names(options):
        live = live_tokens(world, asset_of(world, name).id)
        labelled = labelled_tokens(name)
        if set(labelled) != set(STAGES):
            problems.append(f"{name}: the secret has only {sorted(labelled)}")
        for stage, secret in labelled.items():
            token = live.get(secret["token_id"])
            if token is None:
                problems.append(f"{name}: {stage} token is not valid")
            elif secret["password"] != token.value:
                problems.append(f"{name}: {stage} holds another value than its token's")
        extra = set(live) - {secret["token_id"] for secret in labelled.values()}
        if extra:
            problems.append(f"{name}: {len(extra)} valid tokens no secret version holds")
        item = registry.get_item(TableName=table, Key={"cmdbId": {"S": f"cmdb-{name}"}}, ConsistentRead=True)
        current = item["Item"].get("currentTokenId", {}).get("S")
        if "AWSCURRENT" in labelled and current != labelled["AWSCURRENT"]["token_id"]:
            problems.append(f"{name}: the registry's current token is not AWSCURRENT")
    return problems


def run(options: Options, show_progress: bool = True) -> dict[str, Any]:
    rng = random.Random(options.seed)
    with in_process_world(options.version) as world:
        register_all(world, options)
        total = options.databases * (options.rounds + 1)
        progress = Progress("chaos-rotation", total) if show_progress else None
        chaos = Chaos(world, options, rng, progress)
        started = time.monotonic()
        deadline = started + options.max_seconds
        rounds: Counter[str] = Counter()
        round_problems: list[str] = []
        for number in range(options.rounds):
            if time.monotonic() > deadline:
                rounds["not run (time)"] += 1
                continue
            chaos.faults(True)
            rounds[chaos.run_round()] += 1
            chaos.faults(False)
            time.sleep(options.hang_seconds)  # a hung request still being answered lands first
            round_problems += [f"round {number + 1}: {p}" for p in labelled_tokens_live(world, options)]
        chaos.faults(False)
        rotated_under_faults = chaos.outcomes["rotated"]
        settled_before = rotated_under_faults + chaos.outcomes["completed"]
        # a step Secrets Manager ran may have been killed holding a database's lease: it runs out
        wait_until_idle()
        world.clock.advance(chaos.lease_seconds + 1)
        settle = chaos.run_round()
        # without faults every database rotates, or finishes the rotation a fault interrupted
        rotated_without_faults = chaos.outcomes["rotated"] + chaos.outcomes["completed"] - settled_before
        unsettled = [r for r in chaos.last_round if r.status.value not in ("rotated", "completed")]
        world.clock.advance(301)  # one-time tokens never made reusable die
        final_problems = only_labelled_tokens_valid(world, options)
        elapsed = time.monotonic() - started
        if progress:
            progress.close()
        logs = world.logs.text()
        leaked = sum(1 for token in world.jumpserver.store.tokens.values() if token.value in logs)
        tokens_issued = len(world.jumpserver.store.tokens)
    problems = round_problems + final_problems + ([f"{leaked} token values in the logs"] if leaked else [])
    if settle != "completed":
        problems.append(f"the run without faults {settle}")
    elif rotated_without_faults != options.databases:
        others = [f"{r.name} {r.status.value} ({r.error})" for r in unsettled]
        rotated = f"the run without faults rotated {rotated_without_faults} of {options.databases}"
        problems.append(f"{rotated}: {'; '.join(others)}")
    return {
        "options": options.__dict__,
        "rounds": dict(rounds),
        "rotations": dict(chaos.outcomes),
        "rotatedUnderFaults": rotated_under_faults,
        # rotated, or an interrupted rotation finished: a database made progress
        "settledUnderFaults": settled_before,
        "rotatedWithoutFaults": rotated_without_faults,
        "tokensIssued": tokens_issued,
        "jumpserverRequests": chaos.jumpserver_faults.requests,
        "jumpserverFaults": dict(chaos.jumpserver_faults.injected),
        "awsThrottled": chaos.aws_faults.injected,
        "callFaults": dict(chaos.call_faults.injected),
        "invariantViolationsDuringRounds": len(round_problems),
        "invariantViolationsAfterSettling": len(final_problems),
        "tokenValuesInLogs": leaked,
        "seconds": round(elapsed, 1),
        "problems": problems[:50],
        "passed": not problems,
    }


def _rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    faults, calls = result["jumpserverFaults"], result["callFaults"]
    return [
        ("databases x rounds (+1 without faults)",
         f"{result['options']['databases']} x {result['options']['rounds']} (+1)"),
        ("rounds", ", ".join(f"{k}: {v}" for k, v in sorted(result["rounds"].items()))),
        ("rotations", ", ".join(f"{k}: {v}" for k, v in sorted(result["rotations"].items()))),
        ("rotated with faults / in the run without",
         f"{result['rotatedUnderFaults']} / {result['rotatedWithoutFaults']}"),
        ("JumpServer requests / tokens issued", f"{result['jumpserverRequests']} / {result['tokensIssued']}"),
        ("faults: 502 / 429 / hang / 502 after commit",
         f"{faults.get('fail_next', 0)} / {faults.get('throttle_next', 0)} / {faults.get('hang_next', 0)} / "
         f"{faults.get('fail_after_commit_next', 0)}"),
        ("AWS attempts throttled", result["awsThrottled"]),
        ("dependency calls failed", ", ".join(f"{k}: {v}" for k, v in sorted(calls.items()))),
        ("AWSCURRENT/AWSPREVIOUS not valid after a round", result["invariantViolationsDuringRounds"]),
        ("violations after settling (+301 s)", result["invariantViolationsAfterSettling"]),
        ("token values in logs", result["tokenValuesInLogs"]),
        ("duration", f"{result['seconds']} s"),
        ("passed", result["passed"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line(
        "python -m chaos.rotation", __doc__.split("\n\n")[0], Options(), OPTION_HELP,
        lambda options, progress: run(options, show_progress=progress),
        lambda options, result: f"chaos-rotation: {options.databases} databases under JumpServer, AWS faults",
        _rows, argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
