"""A CMDB change failing at any call converges when SQS delivers it again.

Each call CmdbSync (and the rotation it runs) makes to JumpServer, the registry, the database
secrets and the credentials secrets is made to fail in turn (dbguard_testkit/faults.py): before it runs, after
it ran, and as a kill at either point (no cleanup runs, the lease stays until it runs out). The same
change applied again, cleanly, must then leave one asset, account and permission for the database,
recorded by the registry as JumpServer holds them, a secret for an active database whose token was
made for what the registry holds, and no other valid token once one-time tokens have died.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest

from dbguard.errors import RejectedChange
from dbguard_testkit.fakes.tokens import ONE_TIME_SECONDS
from dbguard_testkit.faults import FaultPlan, Killed, each_failure
from dbguard_testkit.samples import credentials_secret_arn
from tests.unit.cmdb.conftest import CMDB_ID, LEASE_SECONDS, NAME, SyncWorld

Change = dict[str, Any]
REGISTER: Change = {"version": 1}
UPDATES: dict[str, Change] = {
    "rename": {"version": 2, "name": "billing-qhb-02"},
    "address and labels": {"version": 2, "host": "10.9.9.9", "labels": {"team": "core"}},
    "engine (a new secret)": {"version": 2, "engine": "mysql", "port": 3306},
    "database name (a new secret)": {"version": 2, "database": "billing_v2"},
}
RETIRE: Change = {"action": "delete", "version": 2}


def fail_then_redeliver(world: SyncWorld, change: Change, plan: FaultPlan) -> None:
    try:
        world.apply(plan=plan, **change)
    except Killed:
        pass
    except Exception:  # noqa: S110 - the injected failure or what it caused: the invariant is the test
        pass
    world.clock.advance(LEASE_SECONDS + 1)  # a killed holder's lease runs out before the redelivery
    world.apply(**change)


def assert_no_stray_token(world: SyncWorld) -> None:
    world.clock.advance(ONE_TIME_SECONDS + 1)  # tokens never made reusable die by themselves
    entry = world.entry()
    labelled = world.secrets.labelled(entry.secret_arn) if entry.is_active else {}
    assert world.jumpserver.live_tokens(entry.asset_id) == set(labelled.values())


def test_a_registration_failing_at_any_call_converges():
    def run(plan: FaultPlan) -> None:
        fresh = SyncWorld()
        fail_then_redeliver(fresh, REGISTER, plan)
        fresh.assert_registered(settled=False)
        assert_no_stray_token(fresh)

    assert each_failure(run) >= 4 * 20  # 28 calls today: JumpServer, registry, secrets, credentials


@pytest.mark.parametrize("update", UPDATES, ids=str)
def test_an_update_failing_at_any_call_converges(update: str):
    change = UPDATES[update]

    def run(plan: FaultPlan) -> None:
        world = SyncWorld()
        world.apply(**REGISTER)
        fail_then_redeliver(world, change, plan)
        world.assert_registered(settled=False)
        entry = world.entry()
        expected = {key: value for key, value in change.items() if key != "version"}
        assert {key: getattr(entry, key) for key in expected} == expected
        assert_no_stray_token(world)

    assert each_failure(run) >= 4 * 12  # 14 to 20 calls today


def test_a_retirement_failing_at_any_call_converges():
    def run(plan: FaultPlan) -> None:
        world = SyncWorld()
        world.apply(**REGISTER)
        world.rotate()  # a previous token as well
        fail_then_redeliver(world, RETIRE, plan)
        world.assert_retired(CMDB_ID)
        assert_no_stray_token(world)

    assert each_failure(run) >= 4 * 8  # 10 calls today


def _username_change(world: SyncWorld) -> Change:
    world.apply(**REGISTER)
    arn = world.credentials.add(
        credentials_secret_arn("cmdb/other"), "someone_else", "pw-2", bound_to=CMDB_ID
    )
    return {"version": 2, "host": "10.9.9.9", "credentialsSecretArn": arn}


def _onto_another_database_s_name(world: SyncWorld) -> Change:
    world.apply(**REGISTER)
    world.apply(version=1, id="cmdb-other", name="billing-qhb-02")
    return {"version": 2, "name": "billing-qhb-02", "port": 6432}


def _newcomer_on_a_renamed_database_s_name(world: SyncWorld) -> Change:
    world.apply(**REGISTER)
    world.apply(version=2, name="billing-qhb-renamed")
    return {"version": 1, "id": "cmdb-other", "database": "crm"}


def _foreign_secret_at_the_name(world: SyncWorld) -> Change:
    world.secrets.create_raw(f"dbguard/db/{NAME}", '{"username": "app", "password": "x"}', {})
    return REGISTER


REFUSED: dict[str, Callable[[SyncWorld], Change]] = {
    "new credentials of another username": _username_change,
    "a rename onto another database's name": _onto_another_database_s_name,
    "a newcomer on a renamed database's name": _newcomer_on_a_renamed_database_s_name,
    "a foreign secret where the secret would go": _foreign_secret_at_the_name,
}


@pytest.mark.parametrize("refusal", REFUSED, ids=str)
def test_a_refused_change_failing_at_any_call_still_changes_nothing(refusal: str):
    """Everything that can refuse a change is read before anything is written: whichever call fails,
    and however often the change comes back, it is refused and JumpServer, the secrets and the
    registry stay as they were (but for the error the registry records)."""

    def run(plan: FaultPlan) -> None:
        world = SyncWorld()
        change = REFUSED[refusal](world)
        before = world.snapshot()
        with suppress(Killed, Exception):  # refused, or the injected failure: the invariant is the test
            world.apply(plan=plan, **change)
        world.clock.advance(LEASE_SECONDS + 1)
        with pytest.raises(RejectedChange):
            world.apply(**change)
        assert world.snapshot() == before, str(plan)

    assert each_failure(run) >= 4 * 3


MARKER = "Marker-Pa55word-0b7e"


def _marked(world: SyncWorld) -> None:
    """Every secret the change touches carries MARKER: the database account's password, and the
    database's own secret, edited by hand into something that is no dbguard secret."""
    world.credentials.add(
        credentials_secret_arn("cmdb/billing-qhb-01"), "app_billing", MARKER, bound_to=CMDB_ID
    )
    world.apply(**REGISTER)
    secret = world.secrets.secrets[f"dbguard/db/{NAME}"]
    secret.values[secret.labels["AWSCURRENT"]] = f'{{"username": "app", "password": "{MARKER}"}}'


def test_no_failure_path_lets_a_secret_value_out(capsys):
    """Whichever call fails, and however: the logs, the registry, and every error raised (a dead
    letter's reason is its text) hold neither MARKER nor a connection token's value."""
    texts: list[str] = []
    tokens: set[str] = set()

    def run(plan: FaultPlan) -> None:
        world = SyncWorld()
        _marked(world)
        for change in ({"version": 2, "labels": {"team": "core"}}, {"version": 3, "database": "b2"}):
            try:
                world.apply(plan=plan, **change)
            except (Killed, Exception) as error:
                texts.append(f"{type(error).__name__}: {error}")
        texts.append(repr(world.registry.items))
        tokens.update(token.value for token in world.jumpserver.tokens.values())

    assert each_failure(run) >= 4 * 5
    logged = capsys.readouterr().out
    assert "SecretUnreadable" in "".join(texts)
    for secret in (MARKER, *tokens):
        assert secret not in logged
        assert not any(secret in text for text in texts)
