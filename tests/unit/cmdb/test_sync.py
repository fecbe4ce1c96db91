"""CmdbSync's every branch, on in-memory fakes of its ports (dbguard_testkit/fakes): versions, registration,
updates, retirement, and the repair of what an earlier attempt left behind."""

from __future__ import annotations

import pytest

from dbguard.errors import NameCollision, RejectedChange
from dbguard.jumpserver import OutcomeUnknown
from dbguard.registry.lease import LeaseBusy
from dbguard.services.cmdb_sync import SyncOutcome
from dbguard_testkit.fakes.jumpserver import PLATFORMS, ROOT_NODE
from tests.unit.cmdb.conftest import CMDB_ID, LEASE_SECONDS, NAME, SyncWorld


def fail_once(monkeypatch: pytest.MonkeyPatch, target: object, method: str) -> None:
    """`target.method` fails once before it runs (as a 502 would), then works again."""
    real = getattr(target, method)

    def failing(*args: object, **kwargs: object) -> None:
        monkeypatch.setattr(target, method, real)
        raise RuntimeError(f"injected failure of {method}")

    monkeypatch.setattr(target, method, failing)


# ---------------------------------------------------------------------------- versions and the lease


def test_a_change_not_newer_than_the_applied_one_is_ignored(world: SyncWorld):
    assert world.apply(version=2) is SyncOutcome.REGISTERED
    assert world.apply(version=2, host="10.9.9.9") is SyncOutcome.IGNORED_STALE
    assert world.apply("delete", version=1) is SyncOutcome.IGNORED_STALE
    assert world.entry().host == "10.1.2.3"
    world.assert_registered()


def test_a_change_overtaken_while_it_was_applied_is_reported_stale(world: SyncWorld, monkeypatch):
    confirm = world.registry.confirm_version

    def overtaken(cmdb_id: str, version: int) -> bool:
        confirm(cmdb_id, version + 1)  # a newer change finished first (this one's lease ran out)
        return confirm(cmdb_id, version)

    monkeypatch.setattr(world.registry, "confirm_version", overtaken)
    assert world.apply(version=1) is SyncOutcome.IGNORED_STALE
    assert world.registry.is_stale(CMDB_ID, 2)


def test_a_busy_database_is_left_for_a_retry_without_an_error_on_record(world: SyncWorld):
    world.apply(version=1)
    world.registry.take_lease(CMDB_ID, until=int(world.clock.timestamp()) + 60)
    with pytest.raises(LeaseBusy):
        world.apply(version=2, host="10.9.9.9")
    assert world.entry().last_sync_error is None
    world.clock.advance(61)
    assert world.apply(version=2, host="10.9.9.9") is SyncOutcome.UPDATED


def test_a_failure_is_recorded_on_the_entry_and_raised(world: SyncWorld):
    world.apply(version=1)
    with pytest.raises(RejectedChange):
        world.apply(version=2, engine="db2")
    assert world.entry().last_sync_error.startswith("RejectedChange: engine 'db2' is not in the engine map")


def test_a_failure_to_record_the_failure_still_raises_the_failure(world: SyncWorld, monkeypatch):
    def broken(cmdb_id: str, message: str) -> None:
        raise ConnectionError("the registry is unreachable")

    monkeypatch.setattr(world.registry, "record_sync_error", broken)
    with pytest.raises(RejectedChange):
        world.apply(version=1, engine="db2")


# ---------------------------------------------------------------------------- registration


def test_a_new_database_gets_asset_account_permission_entry_and_first_secret(world: SyncWorld):
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    world.assert_registered()
    entry = world.entry()
    asset = world.jumpserver.assets[entry.asset_id]
    assert asset.labels == {"team": "billing", "dbguard": CMDB_ID}
    assert asset.platform == PLATFORMS["PostgreSQL"]
    assert asset.nodes == [world.jumpserver.nodes["dbguard/prod"]]
    assert [(p.name, p.port) for p in asset.protocols] == [("postgresql", 5432)]
    [account] = world.jumpserver.accounts_of(asset.id)
    assert (account.name, account.username, account.secret) == ("dbguard", "app_billing", "db-Pa55-word")
    assert (entry.version, entry.engine, entry.protocol) == (1, "qhb", "postgresql")
    assert world.secret().port == 54320  # the proxy's port for PostgreSQL


def test_the_root_node_is_used_when_the_template_names_no_path(world: SyncWorld):
    world.options["node_path_template"] = ""
    world.apply(version=1)
    assert world.jumpserver.assets[world.entry().asset_id].nodes == [ROOT_NODE]


def test_an_unknown_engine_is_rejected_before_anything_changes(world: SyncWorld):
    with pytest.raises(RejectedChange, match=r"known: .*qhb"):
        world.apply(version=1, engine="db2")
    assert (world.jumpserver.assets, world.registry.get(CMDB_ID)) == ({}, None)


def test_credentials_not_bound_to_the_database_are_refused_before_anything_changes(world: SyncWorld):
    with pytest.raises(RejectedChange, match="not bound to cmdb-9"):
        world.apply(version=1, id="cmdb-9")
    assert world.jumpserver.assets == {}


def test_without_credentials_the_account_template_gives_the_account(world: SyncWorld):
    template = world.jumpserver.add_template("dbguard-template", "tpl_user")
    world.options["account_template_id"] = template
    world.apply(version=1, credentialsSecretArn=None)
    world.assert_registered()
    [account] = world.jumpserver.accounts_of(world.entry().asset_id)
    assert (account.name, account.username, account.secret) == ("dbguard-template", "tpl_user", None)


def test_without_credentials_or_template_the_change_is_rejected(world: SyncWorld):
    with pytest.raises(RejectedChange, match="no JumpServer account template configured"):
        world.apply(version=1, credentialsSecretArn=None)
    assert world.jumpserver.assets == {}


def test_an_unmanaged_asset_of_the_same_name_is_never_taken_over(world: SyncWorld):
    theirs = world.add_asset(NAME, labels={"team": "dba"})
    with pytest.raises(NameCollision, match="does not manage"):
        world.apply(version=1)
    assert list(world.jumpserver.assets) == [theirs]
    assert world.jumpserver.accounts == {}
    assert world.registry.get(CMDB_ID) is None


def test_an_asset_managed_for_another_database_is_a_collision_too(world: SyncWorld):
    world.apply(version=1, id="cmdb-other")
    with pytest.raises(NameCollision):
        world.apply(version=1)
    world.assert_registered("cmdb-other")


def test_an_asset_labelled_for_the_database_is_adopted(world: SyncWorld):
    """Made by an attempt that stopped before it journalled the asset, or labelled by hand."""
    mine = world.add_asset(NAME, labels={"dbguard": CMDB_ID})
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    assert world.entry().asset_id == mine
    world.assert_registered()


def test_a_create_whose_outcome_is_unknown_but_done_is_found_not_repeated(world: SyncWorld, monkeypatch):
    create = world.jumpserver.create_database

    def timed_out_after_the_create(fields):
        create(fields)
        raise OutcomeUnknown("JumpServer answered 502 to asset billing-qhb-01; it may or may not be done")

    monkeypatch.setattr(world.jumpserver, "create_database", timed_out_after_the_create)
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    assert world.registry.journalled_asset(CMDB_ID) == world.entry().asset_id
    world.assert_registered()


def test_a_create_refused_because_an_earlier_hung_one_landed_meanwhile_uses_that_asset(
    world: SyncWorld, monkeypatch
):
    create = world.jumpserver.create_database

    def landed_just_before(fields):
        create(fields)  # the request that hung past the timeout of the attempt before
        return create(fields)  # this attempt's own: refused by JumpServer's uniqueness rule

    monkeypatch.setattr(world.jumpserver, "create_database", landed_just_before)
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    assert len(world.jumpserver.assets) == 1
    world.assert_registered()


def test_a_create_whose_outcome_is_unknown_and_not_done_fails_for_a_retry(world: SyncWorld, monkeypatch):
    def timed_out_before_the_create(fields):
        raise OutcomeUnknown("JumpServer did not answer asset billing-qhb-01 (ReadTimeout); it may be done")

    monkeypatch.setattr(world.jumpserver, "create_database", timed_out_before_the_create)
    with pytest.raises(OutcomeUnknown):
        world.apply(version=1)
    assert world.registry.journalled_asset(CMDB_ID) is None
    monkeypatch.undo()
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    world.assert_registered()


def test_a_registration_that_failed_after_the_asset_was_made_goes_on_with_that_asset(
    world: SyncWorld, monkeypatch
):
    fail_once(monkeypatch, world.jumpserver, "ensure_account")
    with pytest.raises(RuntimeError):
        world.apply(version=1)
    journalled = world.registry.journalled_asset(CMDB_ID)
    assert world.apply(version=1) is SyncOutcome.REGISTERED
    assert world.entry().asset_id == journalled
    world.assert_registered()


def test_a_rename_overtaking_a_failed_registration_updates_the_journalled_asset(
    world: SyncWorld, monkeypatch
):
    """tests/integration/cmdb/test_overtaken_partial_registration.py, on fakes."""
    fail_once(monkeypatch, world.jumpserver, "ensure_account")
    with pytest.raises(RuntimeError):
        world.apply(version=1, name="billing-qhb-01")
    assert world.apply(version=2, name="billing-qhb-02") is SyncOutcome.REGISTERED
    assert [a.name for a in world.jumpserver.labelled(CMDB_ID)] == ["billing-qhb-02"]
    world.assert_registered()
    assert world.apply(version=1, name="billing-qhb-01") is SyncOutcome.IGNORED_STALE  # the redelivery


def test_a_delete_overtaking_a_failed_registration_retires_the_asset_it_left(world: SyncWorld, monkeypatch):
    fail_once(monkeypatch, world.jumpserver, "ensure_account")
    with pytest.raises(RuntimeError):
        world.apply(version=1)
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
    assert [a.is_active for a in world.jumpserver.assets.values()] == [False]
    assert world.registry.get(CMDB_ID) is None  # nothing was registered
    assert world.apply(version=1) is SyncOutcome.IGNORED_STALE  # the late registration stays dead


# ---------------------------------------------------------------------------- updates


def test_an_update_of_address_port_and_labels_keeps_the_secret(world: SyncWorld):
    world.apply(version=1)
    token = world.entry().current_token_id
    assert world.apply(version=2, host="10.9.9.9", port=6432, labels={"team": "core"}) is SyncOutcome.UPDATED
    world.assert_registered()
    asset = world.jumpserver.assets[world.entry().asset_id]
    assert (asset.address, asset.protocols[0].port) == ("10.9.9.9", 6432)
    assert asset.labels == {"team": "core", "dbguard": CMDB_ID}
    assert world.entry().current_token_id == token


def test_a_rename_renames_the_asset_and_keeps_the_secret_where_it_is(world: SyncWorld):
    world.apply(version=1)
    first = world.entry()
    assert world.apply(version=2, name="billing-qhb-02") is SyncOutcome.UPDATED
    world.assert_registered()
    renamed = world.entry()
    assert (renamed.name, renamed.asset_id) == ("billing-qhb-02", first.asset_id)
    assert (renamed.secret_arn, renamed.current_token_id) == (first.secret_arn, first.current_token_id)


def test_a_rename_onto_a_name_another_asset_has_is_refused_before_anything_changes(world: SyncWorld):
    world.apply(version=1)
    world.add_asset("billing-qhb-02")
    before = world.snapshot()
    with pytest.raises(NameCollision, match=r"'billing-qhb-02'.*does not manage"):
        world.apply(version=2, name="billing-qhb-02", host="10.9.9.9")
    assert world.snapshot() == before
    assert world.entry().last_sync_error.startswith("NameCollision: JumpServer already has an asset named")


@pytest.mark.parametrize(
    ("change", "why"),
    [({"engine": "mysql", "port": 3306}, "engine"), ({"database": "billing_v2"}, "database name")],
)
def test_a_change_the_secret_depends_on_issues_a_new_secret_at_once(world: SyncWorld, change, why):
    world.apply(version=1)
    first = world.entry().current_token_id
    assert world.apply(version=2, **change) is SyncOutcome.UPDATED
    world.assert_registered()
    assert world.entry().current_token_id != first, why
    assert world.jumpserver.is_valid(first)  # AWSPREVIOUS: applications holding it keep working


def test_an_asset_deleted_in_jumpserver_by_hand_is_recreated_with_a_new_secret(world: SyncWorld):
    world.apply(version=1)
    gone = world.entry().asset_id
    world.jumpserver.delete_database(gone)
    assert world.apply(version=2) is SyncOutcome.UPDATED
    assert world.entry().asset_id != gone
    world.assert_registered()


def test_an_entry_registered_before_usernames_were_kept_gets_its_username(world: SyncWorld):
    world.apply(version=1)
    entry = world.entry()
    world.registry.items[CMDB_ID]["account"] = {"id": entry.account.id, "name": entry.account.name}
    token = entry.current_token_id
    assert world.apply(version=2) is SyncOutcome.UPDATED
    assert world.entry().account.username == "app_billing"
    assert world.entry().current_token_id == token  # the same account: the secret still fits


# ---------------------------------------------------------------------------- retirement


def test_a_delete_deactivates_the_asset_expires_every_token_and_schedules_the_secret(world: SyncWorld):
    world.apply(version=1)
    world.rotate()  # so there is a previous token to expire as well
    assert len(world.jumpserver.live_tokens(world.entry().asset_id)) == 2
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
    world.assert_retired()
    assert world.jumpserver.assets[world.entry().asset_id].is_active is False  # kept: session history
    assert world.entry().version == 2


def test_a_delete_with_hard_delete_removes_the_asset(world: SyncWorld):
    world.options["hard_delete_assets"] = True
    world.apply(version=1)
    asset_id = world.entry().asset_id
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
    world.assert_retired()
    assert asset_id not in world.jumpserver.assets
    assert world.jumpserver.accounts_of(asset_id) == []


def test_a_delete_of_an_asset_already_gone_still_retires_the_database(world: SyncWorld):
    world.apply(version=1)
    world.jumpserver.delete_database(world.entry().asset_id)
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
    world.assert_retired()


def test_a_delete_of_an_unknown_database_only_records_its_version(world: SyncWorld):
    assert world.apply("delete", version=3) is SyncOutcome.RETIRED
    assert world.jumpserver.assets == {}
    assert world.registry.get(CMDB_ID) is None
    assert world.apply(version=2) is SyncOutcome.IGNORED_STALE  # an older upsert does not revive it


def test_a_second_delete_changes_nothing_more(world: SyncWorld):
    world.apply(version=1)
    world.apply("delete", version=2)
    retired = world.entry()
    assert world.apply("delete", version=3) is SyncOutcome.RETIRED
    assert world.entry().model_dump(exclude={"version", "changed_at"}) == retired.model_dump(
        exclude={"version", "changed_at"}
    )


def test_an_upsert_after_a_delete_brings_the_database_back_with_its_secret(world: SyncWorld):
    world.apply(version=1)
    world.apply("delete", version=2)
    assert world.apply(version=3) is SyncOutcome.REGISTERED
    world.assert_registered()
    versions = world.secrets.versions(world.entry().secret_arn)
    assert not versions.scheduled_for_deletion  # restored, not a second secret
    assert len(world.secrets.secrets) == 1


def test_an_upsert_after_a_half_done_retirement_restores_the_secret(world: SyncWorld, monkeypatch):
    world.apply(version=1)
    fail_once(monkeypatch, world.registry, "save_rotation_state")  # after the secret was scheduled
    with pytest.raises(RuntimeError):
        world.apply("delete", version=2)
    assert world.entry().is_active
    assert world.secrets.versions(world.entry().secret_arn).scheduled_for_deletion
    assert world.apply(version=3) is SyncOutcome.UPDATED  # the CMDB changed its mind
    world.assert_registered()  # its tokens were expired: a new one, in the restored secret


def test_a_lease_taken_over_after_a_crash_lets_the_next_change_through(world: SyncWorld):
    world.apply(version=1)
    world.registry.take_lease(CMDB_ID, until=int(world.clock.timestamp()) + LEASE_SECONDS)
    world.clock.advance(LEASE_SECONDS + 1)  # the crashed holder's lease ran out
    assert world.apply("delete", version=2) is SyncOutcome.RETIRED
