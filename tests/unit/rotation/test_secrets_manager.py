"""Secrets Manager's rotation steps (SecretsManagerRotation, Rotator.create_pending / test_pending /
finish) on in-memory fakes: `rotate-secret` labels a new version id AWSPENDING, then calls each step
with it, and retries a step that failed."""

from __future__ import annotations

import uuid

import pytest

from dbguard.errors import InvalidInput
from dbguard.registry.models import EntryStatus
from dbguard.rotation.steps import RotationStep
from dbguard.services.rotator import Outcome, RotationTooSoon, TokenRejected
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from tests.unit.rotation.conftest import DATABASE, FailOn, Rig

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def steps(rig: Rig, plan: FailOn | None = None, *, min_interval: int = 0) -> SecretsManagerRotation:
    return SecretsManagerRotation(rig.rotator(plan, min_interval=min_interval), rig.registry, rig.secrets)


def step(name: str, version: str, secret_id: str = f"dbguard/db/{DATABASE}") -> RotationStep:
    return RotationStep.model_validate({"Step": name, "SecretId": secret_id, "ClientRequestToken": version})


def rotate_secret(rig: Rig) -> str:
    """What `aws secretsmanager rotate-secret` starts with: a version id labelled AWSPENDING."""
    version = str(uuid.uuid4())
    rig.secrets.label_pending(rig.secrets.name_of(DATABASE), version)
    return version


def test_the_four_steps_rotate_the_secret(rig):
    before = rig.rotated()
    version = rotate_secret(rig)

    for name in STEPS:
        steps(rig).run(step(name, version))

    versions = rig.secrets.versions(before.secret_arn)
    entry = rig.entry()
    assert (versions.current, versions.pending) == (version, None)
    assert rig.labelled() == {"AWSCURRENT": entry.current_token_id, "AWSPREVIOUS": before.current_token_id}
    assert (entry.current_version_id, entry.pending_token_id, entry.retired_token_ids) == (version, None, [])
    rig.assert_only_labelled_tokens_valid("after rotate-secret")


def test_retried_steps_issue_no_second_token_and_promote_once(rig):
    before = rig.rotated()
    version = rotate_secret(rig)
    service = steps(rig)

    service.run(step("createSecret", version))
    issued = len(rig.tokens.tokens)
    service.run(step("createSecret", version))  # the version holds a good token already
    assert len(rig.tokens.tokens) == issued
    service.run(step("finishSecret", version))
    service.run(step("finishSecret", version))  # promoted already: settles again, changes nothing

    assert rig.labelled()["AWSPREVIOUS"] == before.current_token_id
    assert rig.entry().current_version_id == version


def test_create_within_the_consumer_cache_is_refused_and_writes_nothing(rig):
    rig.rotated()
    version = rotate_secret(rig)

    with pytest.raises(RotationTooSoon):
        steps(rig, min_interval=3600).run(step("createSecret", version))

    assert len(rig.tokens.tokens) == 2
    assert "AWSPENDING" not in rig.labelled()  # the label still holds no value


def test_a_create_whose_write_fails_expires_its_token(rig):
    before = rig.rotated()
    version = rotate_secret(rig)

    with pytest.raises(RuntimeError, match="injected"):
        steps(rig, FailOn("put_pending")).run(step("createSecret", version))

    assert rig.live() == {before.current_token_id, before.previous_token_id}
    assert rig.entry().pending_token_id is None


def test_set_secret_has_nothing_to_do(rig):
    before = rig.rotated()
    version = rotate_secret(rig)

    steps(rig).run(step("setSecret", version))

    assert rig.entry() == before
    assert rig.secrets.versions(before.secret_arn).pending == version


def test_a_version_whose_token_died_fails_the_test_and_is_never_promoted(rig):
    before = rig.rotated()
    version = rotate_secret(rig)
    steps(rig).run(step("createSecret", version))
    pending = rig.labelled()["AWSPENDING"]
    steps(rig).run(step("testSecret", version))  # a good token passes
    rig.tokens.expire_connection_token(pending)

    with pytest.raises(TokenRejected, match="does not know"):
        steps(rig).run(step("testSecret", version))
    with pytest.raises(TokenRejected):
        steps(rig).run(step("finishSecret", version))

    assert rig.secrets.versions(before.secret_arn).current == before.current_version_id
    assert rig.entry().current_token_id == before.current_token_id


def test_finish_reports_the_rotation(rig):
    rig.rotated()
    version = rotate_secret(rig)
    rotator = rig.rotator()
    rotator.create_pending(rig.entry(), version)

    result = rotator.finish(rig.entry(), version)

    assert result.status is Outcome.ROTATED
    assert result.tokens_expired == 1
    assert result.as_dict() == {"name": DATABASE, "status": "rotated"}


def test_a_secret_that_does_not_exist_is_refused(rig):
    rig.rotated()

    with pytest.raises(InvalidInput, match="does not exist"):
        steps(rig).run(step("createSecret", str(uuid.uuid4()), "dbguard/db/nobody"))


def test_a_secret_outside_the_prefix_is_refused(rig):
    entry = rig.rotated()
    value = rig.secrets.read(entry.secret_arn, entry.current_version_id)
    rig.secrets.create_secret("someone-else/billing", value, str(uuid.uuid4()), {})

    with pytest.raises(InvalidInput, match="does not belong to an active dbguard database"):
        steps(rig).run(step("createSecret", str(uuid.uuid4()), "someone-else/billing"))


def test_the_secret_of_a_retired_database_is_refused(rig):
    entry = rig.rotated()
    rig.registry.save_cmdb_state(entry.model_copy(update={"status": EntryStatus.RETIRED, "version": 2}))

    with pytest.raises(InvalidInput, match="does not belong to an active dbguard database"):
        steps(rig).run(step("createSecret", str(uuid.uuid4())))


def test_a_database_without_a_secret_gets_none_from_the_steps(rig):
    entry = rig.register()

    with pytest.raises(LookupError, match="has no secret yet"):
        rig.rotator().create_pending(entry, str(uuid.uuid4()))
