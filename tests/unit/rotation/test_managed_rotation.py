"""Rotations through Secrets Manager (services/managed_rotation.py) on the fakes: what AWS Security Hub
reads (rotation enabled with dbguard's function, LastRotatedDate moving on every rotation), dbguard
still choosing when, and the rotation invariant under every single failure of the run or its steps."""

from __future__ import annotations

import pytest

from dbguard.services.rotation_runner import RotationRunner
from dbguard.services.rotator import Outcome
from dbguard_testkit.faults import FaultPlan, Killed, each_failure
from tests.unit.rotation.conftest import DATABASE, ROTATION, Rig


def compliance(rig: Rig) -> tuple[str | None, int | None]:
    """What SecretsManager.1 and .4 read: the rotation function while enabled, LastRotatedDate."""
    secret = rig.secrets.secrets[rig.secrets.name_of(DATABASE)]
    return (secret.rotation.function_arn if secret.rotation else None), secret.last_rotated


def test_a_rotation_runs_through_secrets_manager_which_then_shows_it(rig):
    before = rig.rotated()
    assert compliance(rig) == (None, None)  # a secret from before rotation was configured
    rig.clock.advance(3600)

    result = rig.managed().rotate(rig.entry())

    assert result.status is Outcome.ROTATED
    assert compliance(rig) == (ROTATION.function_arn, int(rig.clock.timestamp()))
    assert rig.labelled() == {
        "AWSCURRENT": rig.entry().current_token_id,
        "AWSPREVIOUS": before.current_token_id,
    }
    assert result.expires_at is not None
    assert rig.tokens.reserved == 4  # the steps' JumpServer requests, counted against the budget
    rig.assert_only_labelled_tokens_valid("managed")
    rig.clock.advance(3600)
    assert rig.managed().rotate(rig.entry()).status is Outcome.ROTATED
    assert compliance(rig)[1] == int(rig.clock.timestamp())  # it moves on every rotation


def test_dbguard_still_decides_when_a_rotation_within_the_consumer_cache_is_refused_unless_forced(rig):
    rig.rotated()
    versions_before = rig.secrets.versions(rig.entry().secret_arn)

    refused = rig.managed(min_interval=3600).rotate(rig.entry())

    assert refused.status is Outcome.TOO_SOON
    assert rig.secrets.versions(rig.entry().secret_arn) == versions_before  # Secrets Manager not asked
    forced = rig.managed(min_interval=3600).rotate(rig.entry(), force=True)
    assert forced.status is Outcome.ROTATED
    assert rig.entry().force_next_rotation is None  # used up by the rotation it was for


def test_a_failed_step_is_reported_at_once_announced_once_and_settled_by_the_next_run(rig):
    rig.rotated()
    rig.tokens.unpermitted_assets.add(f"asset-{DATABASE}")
    rig.tokens.ensure_permission = lambda asset_id, account: None  # the repair does not help: stays down

    first = rig.managed().rotate(rig.entry())
    second = rig.managed().rotate(rig.entry())

    assert (first.status, second.status) == (Outcome.FAILED, Outcome.FAILED)
    assert "no permission covers" in first.error
    assert rig.entry().rotation_failures == 2
    assert rig.events.types() == ["Rotation Failed"]  # once per change of state, not per attempt
    (_, _, detail) = rig.events.published[0]
    assert (detail["step"], detail["attempts"], detail["errorClass"]) == (
        "createSecret",
        1,
        "PermissionMissing",
    )
    rig.assert_labelled_tokens_valid("after the failures")
    rig.tokens.unpermitted_assets.clear()
    assert rig.managed().rotate(rig.entry()).status is Outcome.ROTATED
    assert rig.events.types() == ["Rotation Failed", "Rotation Recovered"]
    assert (rig.entry().rotation_failures, rig.entry().last_rotation_error) == (None, None)
    rig.assert_only_labelled_tokens_valid("recovered")


def test_a_database_with_no_secret_yet_gets_its_first_one_here(rig):
    rig.register()
    assert rig.managed().rotate(rig.entry()).status is Outcome.ROTATED
    rig.assert_only_labelled_tokens_valid("first secret")


def test_a_rotation_secrets_manager_left_unfinished_is_settled_before_a_new_one(rig):
    rig.rotated()
    rig.secrets.rotation_function = None
    secret = rig.secrets.secrets[rig.secrets.name_of(DATABASE)]
    secret.labels["AWSPENDING"] = "a-version-secrets-manager-labelled-and-left"

    assert rig.managed().rotate(rig.entry()).status is Outcome.ROTATED
    assert "AWSPENDING" not in secret.labels


def run_and_settle(rig: Rig, plan: FaultPlan, context: str) -> None:
    try:
        rig.managed(plan).rotate(rig.entry())
    except Killed:  # the run itself stopped: its lease stays until it runs out
        rig.clock.advance(901)
    rig.assert_labelled_tokens_valid(context)
    settled = rig.managed().rotate(rig.entry())
    assert settled.status in (Outcome.ROTATED, Outcome.COMPLETED), f"{context}: {settled}"
    assert set(rig.labelled()) == {"AWSCURRENT", "AWSPREVIOUS"}, context
    rig.assert_only_labelled_tokens_valid(context)


def test_a_rotation_through_secrets_manager_failing_at_any_call_never_expires_a_live_token():
    """Each call the run and the steps make fails in turn, four ways (before, after, a kill at
    either); a clean run afterwards converges, leaving exactly the labelled tokens valid."""

    def run(plan: FaultPlan) -> None:
        rig = Rig()
        rig.rotated()
        rig.clock.advance(3600)
        run_and_settle(rig, plan, f"managed rotation with {plan}")

    assert each_failure(run) >= 56  # 58 today: the run, createSecret, testSecret and finishSecret, 4 ways


@pytest.mark.parametrize("force", [False, True])
def test_an_operator_s_force_reaches_the_step_that_checks_the_interval(rig, force):
    rig.rotated()
    result = rig.managed(min_interval=3600).rotate(rig.entry(), force=force)
    assert result.status is (Outcome.ROTATED if force else Outcome.TOO_SOON)


def test_a_refusal_of_dbguard_itself_stops_the_run_announces_the_fix_once_and_the_next_run_resumes(rig):
    """Reusable tokens disabled in JumpServer: every database would fail alike, each attempt spending
    the budget; the run stops at the first refusal, and resumes by itself once the setting is fixed."""
    names = [f"db-{n}" for n in range(5)]
    for name in names:
        rig.rotated(name)
    rig.clock.advance(3600)
    runner = RotationRunner(rig.registry, rig.managed(), databases_at_once=1)
    rig.tokens.reuse_refused = True

    stopped = runner.rotate_named(names, lambda: True)

    [refused] = stopped.results
    assert (refused.status, refused.service_refused) == (Outcome.FAILED, True)
    assert stopped.deferred == names[1:]  # not started: they would meet the same refusal
    assert "CONNECTION_TOKEN_REUSABLE" in (stopped.refusal or "")
    [(_, detail_type, detail)] = rig.events.published
    assert (detail_type, detail["needsOperator"], detail["fix"]) == (
        "Rotation Failed", True, "set CONNECTION_TOKEN_REUSABLE=true",
    )  # fmt: skip
    for name in names:
        rig.assert_labelled_tokens_valid("refused", name)
    rig.tokens.reuse_refused = False  # the operator's fix; nothing to redrive

    resumed = runner.rotate_named(names, lambda: True)

    assert [result.status for result in resumed.results] == [Outcome.ROTATED] * 5
    assert rig.events.types() == ["Rotation Failed", "Rotation Recovered"]
    assert rig.entry(names[0]).service_refused is None
