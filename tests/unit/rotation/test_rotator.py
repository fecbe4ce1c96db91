"""Rotator.rotate and rotate_under_lease on in-memory fakes: the steady state, the refusals, and each
repair a run makes of what an interrupted one left (rotator.py `_repair`, `_abandon`, `_settle`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from dbguard.registry.models import EntryStatus
from dbguard.secrets.ports import SecretValueNotFound
from dbguard.services.rotator import Outcome, TokenRejected
from dbguard_testkit.fakes.tokens import REUSABLE_SECONDS
from dbguard_testkit.faults import Killed
from tests.unit.rotation.conftest import DATABASE, LEASE_SECONDS, CallLog, FailOn, Rig


def killed(rig: Rig, plan: FailOn) -> None:
    """Run a rotation that the plan kills, then let its lease run out (the function stopped)."""
    with pytest.raises(Killed):
        rig.rotator(plan).rotate(rig.entry())
    assert plan.fired
    rig.clock.advance(LEASE_SECONDS + 1)


def tokens_issued(rig: Rig) -> int:
    return len(rig.tokens.tokens)


def left_pending(rig: Rig) -> str:
    """Secrets Manager's own rotation stopped after createSecret: a version AWSPENDING; its token."""
    version = str(uuid.uuid4())
    rig.secrets.label_pending(rig.entry().secret_arn, version)
    rig.rotator().create_pending(rig.entry(), version)
    return rig.labelled()["AWSPENDING"]


# --------------------------------------------------------------------------- the steady state
def test_a_first_secret_holds_a_reusable_token_the_registry_records(rig):
    result = rig.rotator().rotate(rig.register())

    entry = rig.entry()
    expires = rig.clock() + timedelta(seconds=REUSABLE_SECONDS)
    assert result.status is Outcome.ROTATED
    assert result.expires_at == expires
    assert rig.labelled() == {"AWSCURRENT": entry.current_token_id}
    secret_id = rig.secrets.name_of(DATABASE)
    versions = rig.secrets.versions(secret_id)
    assert (entry.secret_arn, entry.current_version_id) == (versions.arn, versions.current)
    assert entry.current_token_expires_at == int(expires.timestamp())
    assert rig.registry.items[entry.cmdb_id]["dueAt"] == entry.current_token_expires_at
    assert entry.last_rotated_at == int(rig.clock.timestamp())
    assert (entry.pending_token_id, entry.retired_token_ids, entry.previous_token_id) == (None, [], None)
    secret = rig.secrets.read(secret_id, versions.current)
    stored = rig.tokens.tokens[entry.current_token_id]
    assert (secret.username, secret.password.get_secret_value()) == (stored.id, stored.value)
    assert stored.is_reusable
    assert (stored.asset_id, stored.account_id, stored.protocol) == (
        entry.asset_id,
        entry.account.id,
        "postgresql",
    )


def test_a_rotation_keeps_current_and_previous_and_expires_the_token_two_back(rig):
    before = rig.rotated()
    second = before.current_token_id
    calls = CallLog()

    result = rig.rotator(calls).rotate(rig.entry())

    entry = rig.entry()
    assert result.status is Outcome.ROTATED
    assert result.tokens_expired == 1
    assert rig.labelled() == {"AWSCURRENT": entry.current_token_id, "AWSPREVIOUS": second}
    assert entry.previous_token_id == second
    assert rig.live() == {entry.current_token_id, second}  # the first token expired
    # three JumpServer calls, three Secrets Manager ones and three registry writes: the entry comes
    # with the lease; the new version is written AWSCURRENT at once; the token becoming AWSPREVIOUS is
    # the one the registry recorded with its version, never read back; the labels are read again
    # before the token two back is expired, and the settled state is written once, after the expiry
    # (the registry names that token, and the new one's journal entry stays until then), in the
    # write that gives up the lease
    assert calls.names == [
        "lease", "versions", "create_connection_token", "save_rotation_state",
        "make_token_reusable", "put_current", "versions", "expire_connection_token",
        "save_rotation_state",
    ]  # fmt: skip
    assert "leaseOwner" not in rig.registry.items[entry.cmdb_id]


def test_a_rotation_within_the_consumer_cache_is_refused_unless_forced(rig):
    before = rig.rotated()
    rig.clock.advance(3599)
    rotator = rig.rotator(min_interval=3600)

    refused = rotator.rotate(rig.entry())
    assert refused.status is Outcome.TOO_SOON
    assert "ConsumerCacheSeconds (3600 s)" in refused.error
    assert rig.entry() == before
    assert tokens_issued(rig) == 2

    assert rotator.rotate(rig.entry(), force=True).status is Outcome.ROTATED
    rig.clock.advance(3600)  # exactly the cache's time since the forced one
    assert rotator.rotate(rig.entry()).status is Outcome.ROTATED


def test_a_first_secret_is_never_too_soon(rig):
    assert rig.rotator(min_interval=3600).rotate(rig.register()).status is Outcome.ROTATED


def test_a_database_someone_else_holds_is_busy_until_the_lease_runs_out(rig):
    before = rig.rotated()
    until = int(rig.clock.timestamp()) + 60
    rig.registry.take_lease(before.cmdb_id, until)

    busy = rig.rotator().rotate(before)
    assert busy.status is Outcome.BUSY
    assert "in progress" in busy.error
    assert rig.entry() == before
    assert tokens_issued(rig) == 2

    rig.clock.advance(61)
    assert rig.rotator().rotate(before).status is Outcome.ROTATED


def test_a_lease_lost_mid_run_stops_it_and_the_next_run_expires_its_token(rig, monkeypatch):
    before = rig.rotated()
    make_reusable = rig.tokens.make_token_reusable

    def slow_then_overtaken(token):
        reusable = make_reusable(token)
        rig.clock.advance(LEASE_SECONDS + 1)  # the lease ran out, and another change took it
        rig.registry.take_lease(before.cmdb_id, int(rig.clock.timestamp()) + 60)
        return reusable

    monkeypatch.setattr(rig.tokens, "make_token_reusable", slow_then_overtaken)
    lost = rig.rotator().rotate(before)
    monkeypatch.undo()

    assert lost.status is Outcome.BUSY
    assert "ran out" in lost.error
    orphan = rig.entry().pending_token_id
    assert orphan in rig.live()
    assert orphan not in rig.labelled().values()
    assert rig.registry.items[before.cmdb_id]["leaseOwner"] == "someone else"  # left to its holder
    rig.clock.advance(61)
    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED
    rig.assert_only_labelled_tokens_valid("after the overtaken run")


def test_a_database_retired_since_the_caller_read_it_is_not_found(rig):
    stale_copy = rig.rotated()
    rig.registry.save_cmdb_state(stale_copy.model_copy(update={"status": EntryStatus.RETIRED, "version": 2}))

    result = rig.rotator().rotate(stale_copy)

    assert result.status is Outcome.NOT_FOUND
    assert tokens_issued(rig) == 2


def test_a_secret_scheduled_for_deletion_is_restored_for_a_database_that_came_back(rig):
    rig.rotated()
    rig.secrets.schedule_deletion(rig.secrets.name_of(DATABASE), 7)

    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED

    assert not rig.secrets.versions(rig.secrets.name_of(DATABASE)).scheduled_for_deletion
    rig.assert_only_labelled_tokens_valid("restored")


# --------------------------------------------------------------------------- tokens JumpServer refuses
@pytest.mark.parametrize(
    ("setting", "refusing", "normal", "message"),
    [
        ("reuse_ignored", True, False, "did not make token"),
        ("reusable_seconds", 0, REUSABLE_SECONDS, "expired"),
    ],
    ids=["not made reusable", "reusable but already expired"],
)
def test_a_token_jumpserver_does_not_confirm_is_expired_and_never_written(
    rig, setting, refusing, normal, message
):
    before = rig.rotated()
    setattr(rig.tokens, setting, refusing)

    result = rig.rotator().rotate(before)

    assert result.status is Outcome.FAILED
    assert message in result.error
    assert result.as_dict() == {"name": DATABASE, "status": "failed", "error": result.error}
    entry = rig.entry()
    assert entry.last_rotation_error == result.error
    assert (entry.current_token_id, entry.pending_token_id) == (before.current_token_id, None)
    assert rig.live() == set(rig.labelled().values())  # the refused token is expired already
    setattr(rig.tokens, setting, normal)
    assert rig.rotator().rotate(entry).status is Outcome.ROTATED
    assert rig.entry().last_rotation_error is None


def test_a_missing_permission_is_repaired_once_then_the_token_issued(rig):
    rig.rotated()
    rig.tokens.revoke_permission(f"asset-{DATABASE}")

    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED
    assert rig.tokens.unpermitted_assets == set()


def test_a_permission_the_repair_does_not_fix_fails_the_rotation(rig, monkeypatch):
    before = rig.rotated()
    rig.tokens.revoke_permission(f"asset-{DATABASE}")
    monkeypatch.setattr(rig.tokens, "ensure_permission", lambda asset_id, account: None)

    result = rig.rotator().rotate(before)

    assert result.status is Outcome.FAILED
    assert "no permission covers" in result.error
    assert rig.entry().model_copy(update={"last_rotation_error": None, "rotation_failures": None}) == before
    assert rig.entry().rotation_failures == 1


# --------------------------------------------------------------------------- failures before promotion
def test_a_version_that_failed_to_be_written_leaves_the_labels_and_its_token_is_expired(rig):
    before = rig.rotated()

    result = rig.rotator(FailOn("put_current")).rotate(before)

    assert result.status is Outcome.FAILED
    assert rig.labelled() == {"AWSCURRENT": before.current_token_id, "AWSPREVIOUS": before.previous_token_id}
    assert rig.entry().pending_token_id is None
    assert rig.live() == {before.current_token_id, before.previous_token_id}


def test_a_cleanup_that_fails_is_left_to_the_next_run(rig):
    before = rig.rotated()

    result = rig.rotator(FailOn("put_current", "expire_connection_token")).rotate(before)

    assert result.status is Outcome.FAILED
    stray = rig.entry().pending_token_id
    assert stray in rig.live()
    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED
    assert stray not in rig.live()
    rig.assert_only_labelled_tokens_valid("after the deferred cleanup")


def test_a_labelled_version_whose_value_is_not_found_is_never_taken_for_one_without_a_token(rig, monkeypatch):
    before = rig.rotated()
    read = rig.secrets.read

    def current_not_found(secret_id, version_id):
        if version_id == before.current_version_id:
            raise SecretValueNotFound(f"{secret_id} has no value for version {version_id}")
        return read(secret_id, version_id)

    monkeypatch.setattr(rig.secrets, "read", current_not_found)

    result = rig.rotator(FailOn("put_current")).rotate(before)

    assert result.status is Outcome.FAILED
    kept = rig.entry().pending_token_id  # the cleanup could not tell which tokens are labelled
    assert kept in rig.live()
    monkeypatch.undo()
    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED
    assert kept not in rig.live()


def test_a_token_expiry_that_fails_after_promotion_is_retried_by_the_next_run(rig):
    before = rig.rotated()
    two_back = before.previous_token_id

    result = rig.rotator(FailOn("expire_connection_token")).rotate(before)

    assert result.status is Outcome.ROTATED
    assert result.tokens_expired == 0
    assert rig.entry().retired_token_ids == [two_back]
    assert two_back in rig.live()
    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED
    assert two_back not in rig.live()
    assert rig.entry().retired_token_ids == []
    rig.assert_only_labelled_tokens_valid("after the retried expiry")


# --------------------------------------------------------------------------- repairs of a stopped run
def test_a_pending_version_a_stopped_rotate_secret_left_is_promoted_by_the_next_run(rig):
    before = rig.rotated()
    pending = left_pending(rig)
    issued = tokens_issued(rig)

    result = rig.rotator().rotate(rig.entry())  # completing the stopped rotation is this run

    assert result.status is Outcome.COMPLETED  # no new token: the one before is still AWSPREVIOUS
    assert tokens_issued(rig) == issued
    assert rig.labelled() == {"AWSCURRENT": pending, "AWSPREVIOUS": before.current_token_id}
    assert (rig.entry().current_token_id, rig.entry().pending_token_id) == (pending, None)
    rig.assert_only_labelled_tokens_valid("resumed")


def test_a_pending_version_whose_token_died_is_discarded_and_a_new_rotation_made(rig):
    before = rig.rotated()
    dead = left_pending(rig)
    rig.tokens.expire_connection_token(dead)  # revoked in JumpServer meanwhile

    result = rig.rotator().rotate(rig.entry())

    labelled = rig.labelled()
    assert result.status is Outcome.ROTATED
    assert set(labelled) == {"AWSCURRENT", "AWSPREVIOUS"}
    assert dead not in labelled.values()
    assert labelled["AWSPREVIOUS"] == before.current_token_id
    rig.assert_only_labelled_tokens_valid("after the discarded version")


def test_a_pending_label_without_a_value_is_discarded(rig):
    before = rig.rotated()
    rig.secrets.label_pending(before.secret_arn, "a-version-rotate-secret-labelled-but-never-wrote")

    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED

    assert set(rig.labelled()) == {"AWSCURRENT", "AWSPREVIOUS"}
    assert rig.secrets.versions(before.secret_arn).pending is None


@pytest.mark.parametrize(
    ("mode", "pending_label_left"),
    [("kill-after", False), ("after", False), ("kill-after", True)],
    ids=["stopped after the write", "the write timed out", "finishSecret stopped between its requests"],
)
def test_a_promotion_the_registry_did_not_record_is_recorded_without_a_new_token(
    rig, mode, pending_label_left
):
    before = rig.rotated()
    if mode == "after":
        assert rig.rotator(FailOn("put_current", mode=mode)).rotate(before).status is Outcome.FAILED
    else:
        killed(rig, FailOn("put_current", mode=mode))
    if pending_label_left:  # finishSecret moved AWSCURRENT, and stopped before removing AWSPENDING
        versions = rig.secrets.versions(before.secret_arn)
        current = rig.secrets.read(versions.arn, versions.current)
        rig.secrets.put_pending(versions.arn, versions.current, current)
    promoted = rig.labelled()["AWSCURRENT"]
    issued = tokens_issued(rig)

    entry = rotated_without_a_new_token(rig, promoted, before.current_token_id, issued)
    assert entry.current_token_expires_at == int(rig.tokens.tokens[promoted].expires.timestamp())
    assert entry.last_rotated_at == int(rig.clock.timestamp())
    assert (entry.pending_token_id, entry.last_rotation_error) == (None, None)
    assert before.previous_token_id not in rig.live()
    rig.assert_only_labelled_tokens_valid("recorded")


def test_a_run_stopped_between_the_expiry_and_the_settled_write_is_recorded_by_the_next_one(rig):
    before = rig.rotated()
    killed(rig, FailOn("expire_connection_token", mode="kill-after"))
    promoted = rig.labelled()["AWSCURRENT"]
    assert before.previous_token_id not in rig.live()  # expired before the registry was told
    assert (rig.entry().current_token_id, rig.entry().pending_token_id) == (before.current_token_id, promoted)
    issued = tokens_issued(rig)

    entry = rotated_without_a_new_token(rig, promoted, before.current_token_id, issued)
    assert (entry.pending_token_id, entry.retired_token_ids) == (None, [])
    rig.assert_only_labelled_tokens_valid("after the stopped settle")


def test_a_journalled_token_never_written_is_expired_before_the_rotation(rig):
    rig.rotated()
    killed(rig, FailOn("put_current", mode="kill-before"))
    stray = rig.entry().pending_token_id
    assert stray in rig.live()  # made reusable: it would live for weeks

    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED

    assert stray not in rig.live()
    assert stray not in rig.labelled().values()
    rig.assert_only_labelled_tokens_valid("after the stray")


# --------------------------------------------------------------------------- the first secret
def test_a_first_secret_whose_run_stopped_expires_the_stray_then_is_made(rig):
    rig.register()
    killed(rig, FailOn("create_secret", mode="kill-before"))
    stray = rig.entry().pending_token_id
    assert stray in rig.live()

    assert rig.rotator().rotate(rig.entry()).status is Outcome.ROTATED

    assert stray not in rig.live()
    assert rig.entry().pending_token_id is None
    rig.assert_only_labelled_tokens_valid("first secret after a stray")


def test_a_first_secret_that_failed_to_be_created_expires_its_token(rig):
    entry = rig.register()

    result = rig.rotator(FailOn("create_secret")).rotate(entry)

    assert result.status is Outcome.FAILED
    assert rig.live() == set()
    assert rig.entry().pending_token_id is None
    assert rig.secrets.versions(rig.secrets.name_of(DATABASE)) is None


def test_a_first_secret_created_though_the_call_failed_keeps_its_token_and_is_recorded(rig):
    entry = rig.register()

    failed = rig.rotator(FailOn("create_secret", mode="after")).rotate(entry)

    assert failed.status is Outcome.FAILED
    token = rig.labelled()["AWSCURRENT"]
    assert token in rig.live()
    assert rig.entry().pending_token_id == token
    issued = tokens_issued(rig)
    assert rig.rotator().rotate(rig.entry()).status is Outcome.COMPLETED
    assert rig.entry().current_token_id == token
    assert tokens_issued(rig) == issued
    assert rig.entry().secret_arn is not None


def test_a_caller_holding_the_lease_gets_a_secret_whatever_the_interval_or_an_error(rig):
    entry = rig.rotated()
    rotator = rig.rotator(min_interval=3600)

    with rig.registry.lease(entry.cmdb_id, int(rig.clock.timestamp()), LEASE_SECONDS) as lease:
        result = rotator.rotate_under_lease(entry, lease)
        assert result.status is Outcome.ROTATED
        assert rig.labelled()["AWSPREVIOUS"] == entry.current_token_id
        rig.tokens.reuse_ignored = True
        with pytest.raises(TokenRejected):
            rotator.rotate_under_lease(rig.entry(), lease)


def rotated_without_a_new_token(rig, promoted: str, previous: str, issued: int):
    """The next run records the promotion a stopped run left, issuing no token; the entry after it."""
    result = rig.rotator().rotate(rig.entry())
    entry = rig.entry()
    assert result.status is Outcome.COMPLETED  # said so: no new token was issued
    assert tokens_issued(rig) == issued
    assert (entry.current_token_id, entry.previous_token_id) == (promoted, previous)
    return entry
