"""The rotation invariant under every failure, on in-memory fakes (the same sweep as
tests/integration/rotation/test_failure_at_every_step.py, against moto and the JumpServer simulator,
in a fraction of the time).

Each call a rotation, a first secret or Secrets Manager's rotation steps make to JumpServer's tokens,
the secrets or the registry is made to fail in turn: before it runs, after it runs, or as a kill at
either point (no cleanup runs; the lease stays behind until it runs out). Right after the failure
every token a label of the secret refers to must be valid; after the next clean run exactly
AWSCURRENT and AWSPREVIOUS are labelled, and no other token of the database is valid once the
one-time tokens have died by themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from dbguard.rotation.steps import RotationStep
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from dbguard_testkit.faults import FaultPlan, Killed, each_failure
from tests.unit.rotation.conftest import DATABASE, LEASE_SECONDS, Rig


def attempt(rig: Rig, action: Callable[[], object]) -> None:
    try:
        action()
    except Killed:
        rig.clock.advance(LEASE_SECONDS + 1)  # only once the killed run's lease ran out can another start
    except Exception:  # noqa: S110 - the injected failure, or what it caused: the invariant is the test
        pass


def assert_clean_run_converges(rig: Rig, context: str, name: str = DATABASE) -> None:
    # "completed": the run finished the interrupted rotation (its token promoted) and issued none
    assert rig.rotator().rotate(rig.entry(name)).status in ("rotated", "completed"), context
    labelled = rig.labelled(name)
    assert set(labelled) <= {"AWSCURRENT", "AWSPREVIOUS"}, f"{context}: {labelled}"
    assert rig.entry(name).current_token_id == labelled["AWSCURRENT"], context
    rig.assert_only_labelled_tokens_valid(context, name)


def test_a_rotation_failing_at_any_call_never_expires_a_live_token():
    def run(plan: FaultPlan) -> None:
        rig = Rig()
        rig.rotated()
        attempt(rig, lambda: rig.rotator(plan).rotate(rig.entry()))
        context = f"rotation with {plan}"
        rig.assert_labelled_tokens_valid(context)
        assert_clean_run_converges(rig, context + ", then a clean run")
        assert set(rig.labelled()) == {"AWSCURRENT", "AWSPREVIOUS"}

    assert each_failure(run) >= 36  # every call of the rotation (9), four ways


def test_a_first_secret_failing_at_any_call_converges_on_the_next_run():
    def run(plan: FaultPlan) -> None:
        rig = Rig()
        rig.register()
        attempt(rig, lambda: rig.rotator(plan).rotate(rig.entry()))
        context = f"first secret with {plan}"
        if rig.secrets.versions(rig.secrets.name_of(DATABASE)) is not None:
            rig.assert_labelled_tokens_valid(context)
        assert_clean_run_converges(rig, context + ", then a clean run")

    assert each_failure(run) >= 52  # every call of a first secret (13), four ways


def test_secrets_manager_steps_failing_at_any_call_never_expire_a_live_token():
    def run(plan: FaultPlan) -> None:
        rig = Rig()
        rig.rotated()
        steps = SecretsManagerRotation(rig.rotator(plan), rig.registry, rig.secrets)
        version = str(uuid.uuid4())
        rig.secrets.label_pending(rig.secrets.name_of(DATABASE), version)

        def rotate_secret() -> None:
            for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
                request = {"Step": step, "SecretId": f"dbguard/db/{DATABASE}", "ClientRequestToken": version}
                steps.run(RotationStep.model_validate(request))

        attempt(rig, rotate_secret)
        context = f"Secrets Manager steps with {plan}"
        rig.assert_labelled_tokens_valid(context)
        assert_clean_run_converges(rig, context + ", then a clean run")

    assert each_failure(run) >= 44
