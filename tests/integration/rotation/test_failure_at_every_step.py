"""The rotation invariant under every failure, not only the ones a test happened to think of.

Each JumpServer, Secrets Manager and registry call of a rotation, of a first secret (through a CMDB
registration) and of Secrets Manager's rotation steps is made to fail in turn: before it runs (it
never happened), after it runs (it happened but the caller saw an error, like a timeout after a
commit), and as a kill (the function stopped there: no cleanup code runs, the lease stays behind).
Right after the failure, and after the next clean run, the tokens that are AWSCURRENT and
AWSPREVIOUS of the database's secret must be valid in JumpServer; after the clean run and 300 s
(one-time tokens that were never made reusable die by themselves), no other token of the database
may be valid.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from dbguard.adapters.cmdb_credentials import CredentialsReader
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.cmdb.models import CmdbChange
from dbguard.composition.jumpserver import build_jumpserver
from dbguard.composition.rotator import build_rotator
from dbguard.composition.token_rotation import TokenRotationSettings
from dbguard.rotation.steps import RotationStep
from dbguard.services.cmdb_sync import CmdbSync, SyncOptions
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from dbguard_testkit.faults import FaultPlan, Faulty, Killed, each_failure
from dbguard_testkit.samples import cmdb_change, credentials_secret_arn
from tests.world import template_parameters, world  # noqa: F401 - fixtures

LEASE_SECONDS = 900


class Harness:
    def __init__(self, world) -> None:
        self.world = world
        self.sim = world.jumpserver
        self.settings = TokenRotationSettings.load()
        secretsmanager = boto3.client("secretsmanager")
        self.real = {
            "tokens": build_jumpserver(self.settings, secretsmanager),
            "registry": Registry(world.registry_table, boto3.client("dynamodb")),
            "secrets": DatabaseSecrets(secretsmanager, self.settings.secrets_prefix),
        }
        self.credentials = CredentialsReader(secretsmanager)

    def clock(self) -> datetime:
        return datetime.fromtimestamp(self.sim.clock(), UTC)

    def parts(self, plan: FaultPlan) -> dict[str, Any]:
        wrapped = {name: Faulty(part, plan) for name, part in self.real.items()}
        rotator = build_rotator(self.settings, wrapped["tokens"], wrapped["registry"], wrapped["secrets"])
        rotator._clock = self.clock  # the simulator's clock: tests skip ahead in time
        return {**wrapped, "rotator": rotator}

    def cmdb_sync(self, parts: dict[str, Any]) -> CmdbSync:
        options = SyncOptions(
            node_path_template="dbguard/{environment}", account_name="dbguard", account_template_id=None,
            hard_delete_assets=False, secret_recovery_window_days=7, lease_seconds=LEASE_SECONDS,
        )  # fmt: skip
        return CmdbSync(
            parts["tokens"], parts["registry"], parts["secrets"], self.credentials, parts["rotator"],
            self.settings.engines, options, clock=self.clock,
        )  # fmt: skip

    def register(self, name: str, plan: FaultPlan | None = None) -> None:
        secret = f"cmdb/failures/{name}"  # the world's cmdb/billing-qhb-01 is bound to other databases
        if not self.known_secret(secret):
            boto3.client("secretsmanager").create_secret(
                Name=secret, SecretString=json.dumps({"username": "app", "password": uuid.uuid4().hex}),
                Tags=[{"Key": "dbguard:cmdb-ids", "Value": f"cmdb-{name}"}],
            )  # fmt: skip
        instance = {
            "id": f"cmdb-{name}",
            "name": name,
            "credentialsSecretArn": credentials_secret_arn(secret),
        }
        change = CmdbChange.model_validate(cmdb_change(version=1, **instance))
        self.cmdb_sync(self.parts(plan or FaultPlan())).apply(change)

    @staticmethod
    def known_secret(name: str) -> bool:
        return bool(
            boto3.client("secretsmanager").list_secrets(Filters=[{"Key": "name", "Values": [name]}])[
                "SecretList"
            ]
        )

    def entry(self, name: str):
        return self.real["registry"].get(f"cmdb-{name}")

    def after_a_kill(self) -> None:
        """A killed holder's lease runs out; only then can the next run start."""
        self.sim.clock.advance(LEASE_SECONDS + 1)

    # ---------------------------------------------------------------- the invariant
    def labelled_tokens(self, name: str) -> dict[str, str]:
        secrets = boto3.client("secretsmanager")
        secret_id = f"dbguard/db/{name}"
        stages = secrets.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        return {
            stage: json.loads(
                secrets.get_secret_value(SecretId=secret_id, VersionId=version)["SecretString"]
            )["token_id"]
            for version, labels in stages.items()
            for stage in labels
            if stage in ("AWSCURRENT", "AWSPREVIOUS")
        }

    def live_tokens_of(self, name: str) -> set[str]:
        asset = self.world.asset(name)
        now = self.sim.clock()
        return {t.id for t in self.sim.store.tokens.values() if t.asset_id == asset.id and t.expires > now}

    def assert_labelled_tokens_valid(self, name: str, context: str) -> None:
        labelled = self.labelled_tokens(name)
        dead = {stage: token for stage, token in labelled.items() if token not in self.live_tokens_of(name)}
        assert not dead, f"{context}: {dead} expired while its secret still hands it out"

    def assert_only_labelled_tokens_valid(self, name: str, context: str) -> None:
        self.sim.clock.advance(301)  # one-time tokens never made reusable die by themselves
        self.assert_labelled_tokens_valid(name, context)
        extra = self.live_tokens_of(name) - set(self.labelled_tokens(name).values())
        assert not extra, f"{context}: tokens {extra} are valid but no secret version holds them"


@pytest.fixture
def harness(world, load_function) -> Harness:
    load_function("TokenRotationFunction", CONSUMER_CACHE_SECONDS="0")  # the template's environment
    return Harness(world)


def attempt(harness: Harness, plan: FaultPlan, action) -> None:
    try:
        action()
    except Killed:
        harness.after_a_kill()
    except Exception:  # noqa: S110 - the injected failure, or what it caused: the invariant is the test
        pass


def test_a_rotation_failing_at_any_call_never_expires_a_live_token(harness):
    harness.register("billing-qhb-01")

    def run(plan: FaultPlan) -> None:
        parts = harness.parts(plan)
        attempt(harness, plan, lambda: parts["rotator"].rotate(harness.entry("billing-qhb-01")))
        context = f"rotation with {plan}"
        harness.assert_labelled_tokens_valid("billing-qhb-01", context)
        harness.parts(FaultPlan())["rotator"].rotate(harness.entry("billing-qhb-01"))
        harness.assert_only_labelled_tokens_valid("billing-qhb-01", context + ", then a clean run")

    assert each_failure(run) >= 36  # every call of the rotation (9), four ways


def test_a_rotation_meeting_a_configuration_test_s_copy_failing_at_any_call_never_expires_a_live_token(
    harness,
):
    """AWSPENDING holding the current value, as RotateSecret (RotateImmediately=false) leaves it while
    Secrets Manager tests the configuration: its label is removed, never promoted, whatever fails."""
    harness.register("billing-qhb-01")
    secrets = boto3.client("secretsmanager")

    def run(plan: FaultPlan) -> None:
        current = secrets.get_secret_value(SecretId="dbguard/db/billing-qhb-01")["SecretString"]
        secrets.put_secret_value(
            SecretId="dbguard/db/billing-qhb-01", SecretString=current, VersionStages=["AWSPENDING"]
        )
        parts = harness.parts(plan)
        attempt(harness, plan, lambda: parts["rotator"].rotate(harness.entry("billing-qhb-01")))
        context = f"rotation meeting a copy under AWSPENDING with {plan}"
        harness.assert_labelled_tokens_valid("billing-qhb-01", context)
        labelled = harness.labelled_tokens("billing-qhb-01")
        assert len(set(labelled.values())) == len(labelled), f"{context}: the copy was promoted: {labelled}"
        harness.parts(FaultPlan())["rotator"].rotate(harness.entry("billing-qhb-01"))
        harness.assert_only_labelled_tokens_valid("billing-qhb-01", context + ", then a clean run")

    assert each_failure(run) >= 36


def test_a_registration_failing_at_any_call_converges_on_its_redelivery(harness):
    def run(plan: FaultPlan) -> None:
        name = f"db-{uuid.uuid4().hex[:8]}"
        attempt(harness, plan, lambda: harness.register(name, plan))
        harness.register(name)  # SQS delivers the change again
        harness.assert_only_labelled_tokens_valid(name, f"registration with {plan}")
        assert harness.entry(name).current_token_id == harness.labelled_tokens(name)["AWSCURRENT"]

    assert each_failure(run) > 60


def test_secrets_manager_steps_failing_at_any_call_never_expire_a_live_token(harness):
    harness.register("billing-qhb-01")

    def run(plan: FaultPlan) -> None:
        parts = harness.parts(plan)
        steps = SecretsManagerRotation(parts["rotator"], parts["registry"], parts["secrets"])
        version = str(uuid.uuid4())
        context = f"Secrets Manager steps with {plan}"

        def rotate_secret() -> None:
            for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
                request = {
                    "Step": step,
                    "SecretId": "dbguard/db/billing-qhb-01",
                    "ClientRequestToken": version,
                }
                steps.run(RotationStep.model_validate(request))

        attempt(harness, plan, rotate_secret)
        harness.assert_labelled_tokens_valid("billing-qhb-01", context)
        harness.parts(FaultPlan())["rotator"].rotate(harness.entry("billing-qhb-01"))
        harness.assert_only_labelled_tokens_valid("billing-qhb-01", context + ", then a clean run")

    assert each_failure(run) > 40
