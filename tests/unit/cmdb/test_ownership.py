"""A database's secret is its own for life (secrets/ownership.py), sequences of changes included, and a
refused change changes nothing: the findings of the hostile-CMDB review, on the in-memory fakes.

Each test names the finding it pins (F1-F7). Their counterparts against the simulator over HTTP are
tests/integration/functions/test_cmdb_ownership.py; rename-then-reuse and the foreign secret also run
against real servers in tests/contract/test_dbguard_path.py."""

from __future__ import annotations

import json

import pytest

from dbguard.errors import NameCollision, RejectedChange, SecretNotOwned, SecretUnreadable, Unretryable
from dbguard.jumpserver import OutcomeUnknown
from dbguard.rotation.steps import RotationStep
from dbguard.secrets.ports import OWNER_TAG
from dbguard.services.cmdb_sync import SyncOutcome
from dbguard.services.rotation_runner import RotationRunner
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from dbguard_testkit.fakes.jumpserver import Rejected
from dbguard_testkit.samples import credentials_secret_arn
from tests.unit.cmdb.conftest import CMDB_ID, NAME, SyncWorld

OTHER = "cmdb-other"  # bound to the test credentials as well (conftest)
MARKER = "Marker-Pa55word-7c1e"


def secret_of(world: SyncWorld, cmdb_id: str) -> tuple[str, str, str]:
    """(the secret's name, the asset and database its AWSCURRENT token was made for)."""
    entry = world.entry(cmdb_id)
    versions = world.secrets.versions(entry.secret_arn)
    value = world.secrets.read(versions.arn, versions.current)
    return versions.name, value.jumpserver_asset_id, value.dbname


def test_f1_a_renamed_database_keeps_its_secret_and_its_old_name_is_refused_to_another(world: SyncWorld):
    world.apply(version=1)
    world.apply(version=2, name="billing-qhb-renamed")
    mine = world.entry()
    before = world.snapshot()

    with pytest.raises(SecretNotOwned, match=rf"dbguard/db/{NAME} belongs to the database {CMDB_ID}"):
        world.apply(version=1, id=OTHER, host="10.7.7.7", database="crm")

    assert world.snapshot() == before  # no asset, account or entry for the newcomer either
    assert world.registry.get(OTHER) is None
    assert secret_of(world, CMDB_ID) == (f"dbguard/db/{NAME}", mine.asset_id, "billing")
    world.rotate()  # its rotation still works on its own secret
    world.assert_registered()


@pytest.mark.parametrize(
    ("hard_delete", "refusal"),
    [(False, NameCollision), (True, SecretNotOwned)],
    ids=["deactivated: the asset keeps the name", "hard-deleted: the secret keeps it"],
)
def test_f1_a_retired_database_s_name_and_secret_are_never_handed_to_a_newcomer(
    world: SyncWorld, hard_delete, refusal
):
    world.options["hard_delete_assets"] = hard_delete
    world.apply(version=1)
    world.apply("delete", version=2)
    before = world.snapshot()

    with pytest.raises(refusal, match=f"belongs to the database {CMDB_ID}"):
        world.apply(version=1, id=OTHER)

    assert world.snapshot() == before
    assert world.secrets.versions(f"dbguard/db/{NAME}").scheduled_for_deletion


def test_f1_once_the_old_asset_and_secret_are_gone_the_name_can_be_reused(world: SyncWorld):
    world.options["hard_delete_assets"] = True
    world.apply(version=1)
    world.apply("delete", version=2)
    del world.secrets.secrets[f"dbguard/db/{NAME}"]  # the recovery window ran out

    assert world.apply(version=1, id=OTHER) is SyncOutcome.REGISTERED
    world.assert_registered(OTHER)
    assert world.secrets.versions(f"dbguard/db/{NAME}").owner == OTHER


def test_f1_a_secret_dbguard_did_not_make_is_never_touched(world: SyncWorld):
    foreign = world.secrets.create_raw(f"dbguard/db/{NAME}", '{"username": "app", "password": "x"}', {})
    before = world.snapshot()

    with pytest.raises(SecretNotOwned, match="was not created by dbguard"):
        world.apply(version=1)

    assert world.snapshot() == before
    assert world.secrets.versions(foreign).owner is None


def test_f1_a_secret_re_tagged_to_another_database_is_neither_rotated_nor_deleted(world: SyncWorld):
    world.apply(version=1)
    secret = world.secrets.secrets[f"dbguard/db/{NAME}"]
    secret.tags[OWNER_TAG] = OTHER  # by hand, or by a tool gone wrong

    result = world.rotator().rotate(world.entry(), force=True)
    assert (result.status, "belongs to the database cmdb-other" in (result.error or "")) == ("failed", True)
    values = dict(secret.values)
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
    assert not secret.scheduled_for_deletion
    assert secret.values == values


def test_f1_on_demand_rotation_by_name_finds_the_active_database_not_the_retired_one(world: SyncWorld):
    world.options["hard_delete_assets"] = True
    world.apply(version=1)
    world.apply("delete", version=2)
    del world.secrets.secrets[f"dbguard/db/{NAME}"]
    world.apply(version=1, id=OTHER)
    runner = RotationRunner(world.registry, world.rotator(), databases_at_once=1)

    report = runner.rotate_named([NAME], lambda: True, force=True)

    assert [(r.name, r.status.value) for r in report.results] == [(NAME, "rotated")]
    assert world.entry(OTHER).current_token_id != world.entry(OTHER).previous_token_id
    world.assert_registered(OTHER)


def test_f1_rotate_secret_on_a_renamed_database_s_secret_finds_it_by_its_owner(world: SyncWorld):
    world.apply(version=1)
    world.apply(version=2, name="billing-qhb-renamed")
    rotation = SecretsManagerRotation(world.rotator(), world.registry, world.secrets)
    version_id = "c" * 32
    world.secrets.label_pending(f"dbguard/db/{NAME}", version_id)

    for step in ("createSecret", "testSecret", "finishSecret"):
        rotation.run(RotationStep(Step=step, SecretId=f"dbguard/db/{NAME}", ClientRequestToken=version_id))

    assert world.secrets.versions(f"dbguard/db/{NAME}").current == version_id
    world.assert_registered()


def test_f2_new_credentials_of_another_username_change_nothing_not_even_the_address(world: SyncWorld):
    world.apply(version=1)
    other_user = world.credentials.add(
        credentials_secret_arn("cmdb/other-user"), "someone_else", "pw-2", bound_to=CMDB_ID
    )
    before = world.snapshot()

    with pytest.raises(RejectedChange, match="another user name"):
        world.apply(version=2, host="10.9.9.9", port=6432, credentialsSecretArn=other_user)

    assert world.snapshot() == before
    assert world.entry().version == 1


def test_f2_a_rename_onto_another_database_s_name_changes_nothing(world: SyncWorld):
    world.apply(version=1)
    world.apply(version=1, id=OTHER, name="billing-qhb-02")
    before = world.snapshot()

    with pytest.raises(NameCollision, match=f"belongs to the database {OTHER}"):
        world.apply(version=2, name="billing-qhb-02", host="10.9.9.9")

    assert world.snapshot() == before


def test_f3_a_secret_that_is_no_dbguard_secret_is_reported_by_field_names_only(world: SyncWorld, capsys):
    world.apply(version=1)
    secret = world.secrets.secrets[f"dbguard/db/{NAME}"]
    current = secret.labels["AWSCURRENT"]
    secret.values[current] = json.dumps({"username": "app", "password": MARKER})  # edited by hand

    with pytest.raises(SecretUnreadable) as refused:
        world.apply(version=2, labels={"team": "core"})  # reads the secret to see if it still fits

    assert "password" not in str(refused.value) or MARKER not in str(refused.value)
    assert MARKER not in str(refused.value)
    assert MARKER not in json.dumps(world.registry.items)
    assert world.entry().last_sync_error.startswith("SecretUnreadable: ")
    assert MARKER not in capsys.readouterr().out


def test_f6_a_version_far_ahead_of_time_is_refused_so_the_database_stays_reachable(world: SyncWorld):
    world.apply(version=1)
    ahead = int(world.clock.timestamp() * 1000) + 2 * 86_400_000

    with pytest.raises(RejectedChange, match="ahead of the current time"):
        world.apply(version=ahead, host="10.9.9.9")

    assert world.entry().version == 1
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED  # not frozen
    world.assert_retired()


def test_f6_a_millisecond_timestamp_as_version_is_accepted(world: SyncWorld):
    now_ms = int(world.clock.timestamp() * 1000)
    assert world.apply(version=now_ms) is SyncOutcome.REGISTERED
    assert world.apply(version=now_ms + 1, host="10.9.9.9") is SyncOutcome.UPDATED


def test_f4_a_refusal_from_jumpserver_is_unretryable_an_outage_is_not(world: SyncWorld, monkeypatch):
    """The handler dead-letters an Unretryable at once and leaves anything else to SQS's retries."""
    world.apply(version=1)

    def refused(*_: object) -> None:
        raise Rejected("name: this field must be unique")  # what JumpServer answers with a 400

    monkeypatch.setattr(world.jumpserver, "ensure_permission", refused)
    with pytest.raises(Unretryable):
        world.apply(version=2, host="10.9.9.9")

    def down(*_: object) -> None:
        raise OutcomeUnknown("JumpServer answered 502")

    monkeypatch.setattr(world.jumpserver, "ensure_permission", down)
    with pytest.raises(OutcomeUnknown) as failed:
        world.apply(version=2, host="10.9.9.9")
    assert not isinstance(failed.value, Unretryable)
