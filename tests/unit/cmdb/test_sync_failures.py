"""A CMDB change failing at any call converges when SQS delivers it again.

Each call CmdbSync (and the rotation it runs) makes to JumpServer, the registry, the database
secrets and the credentials secrets is made to fail in turn (tests/faults.py): before it runs, after
it ran, and as a kill at either point (no cleanup runs, the lease stays until it runs out). The same
change applied again, cleanly, must then leave one asset, account and permission for the database,
recorded by the registry as JumpServer holds them, a secret for an active database whose token was
made for what the registry holds, and no other valid token once one-time tokens have died.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.tokens import ONE_TIME_SECONDS
from tests.faults import FaultPlan, Killed, each_failure
from tests.unit.cmdb.conftest import CMDB_ID, LEASE_SECONDS, SyncWorld

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
