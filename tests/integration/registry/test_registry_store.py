"""The registry's rules, held by the DynamoDB adapter and by the in-memory fake the unit tests use
(dbguard_testkit/fakes/registry.py) alike: the same test against both keeps the fake faithful."""

import threading

import boto3
import pytest
from pydantic import ValidationError

from dbguard.adapters.registry_store import Registry
from dbguard.jumpserver import JumpServerAccount
from dbguard.registry.lease import LeaseBusy, LeaseLost
from dbguard.registry.models import EntryStatus, RegistryEntry, RotationStateChange
from dbguard.registry.ports import StaleChange
from dbguard_testkit.fakes import FakeRegistry


@pytest.fixture(params=["dynamodb", "in-memory fake"])
def registry(request):
    if request.param == "in-memory fake":
        return FakeRegistry()
    stack = request.getfixturevalue("stack")
    return Registry(stack.physical_ids["RegistryTable"], boto3.client("dynamodb"))


def entry(cmdb_id="cmdb-1", name="billing-qhb-01", version=1, status=EntryStatus.ACTIVE, **changes):
    account = JumpServerAccount(id="acc-1", name="dbguard")
    values = {"cmdb_id": cmdb_id, "name": name, "version": version, "status": status, "engine": "qhb"}
    values |= {"host": "10.1.2.3", "port": 5432, "database": "billing", "environment": "prod"}
    values |= {"labels": {"team": "billing"}, "asset_id": "asset-1", "account": account}
    values["protocol"] = "postgresql"
    return RegistryEntry(**{**values, **changes})


def register(registry, item):
    registry.save_cmdb_state(item)
    registry.confirm_version(item.cmdb_id, item.version)


def test_an_entry_round_trips(registry):
    register(registry, entry())
    stored = registry.get("cmdb-1")
    assert stored == entry()
    assert registry.by_name("billing-qhb-01") == stored
    assert registry.get("nope") is None
    assert registry.by_name("nope") is None


@pytest.mark.parametrize("retired_first", [True, False])
def test_a_name_reused_after_a_retirement_finds_the_active_database(registry, retired_first):
    retired = entry("cmdb-old", status=EntryStatus.RETIRED)
    active = entry("cmdb-new", asset_id="asset-2")
    for item in (retired, active) if retired_first else (active, retired):
        register(registry, item)
    assert registry.by_name("billing-qhb-01").cmdb_id == "cmdb-new"
    registry.save_cmdb_state(entry("cmdb-new", name="billing-qhb-02", version=2))
    assert registry.by_name("billing-qhb-01").cmdb_id == "cmdb-old"  # only the retired one is left


def test_the_version_is_recorded_last_and_only_forward(registry):
    registry.save_cmdb_state(entry(version=5))
    assert not registry.is_stale("cmdb-1", 5)  # not confirmed yet: a retry must go through
    assert registry.confirm_version("cmdb-1", 5)
    assert registry.is_stale("cmdb-1", 5)
    assert registry.is_stale("cmdb-1", 4)
    assert not registry.is_stale("cmdb-1", 6)
    assert not registry.confirm_version("cmdb-1", 3)
    with pytest.raises(StaleChange):
        registry.save_cmdb_state(entry(version=4, host="10.9.9.9"))
    assert registry.get("cmdb-1").host == "10.1.2.3"


def test_a_tombstone_without_details_still_makes_older_changes_stale(registry):
    assert registry.confirm_version("cmdb-9", 7)  # a delete seen before any upsert
    assert registry.get("cmdb-9") is None
    assert registry.is_stale("cmdb-9", 3)


def test_rotation_and_cmdb_writes_never_overwrite_each_other(registry):
    register(registry, entry())
    registry.save_rotation_state(
        "cmdb-1", RotationStateChange(current_token_id="tok-1", current_token_expires_at=2000)
    )
    register(registry, entry(version=2, host="10.1.2.4"))
    stored = registry.get("cmdb-1")
    assert (stored.host, stored.current_token_id, stored.current_token_expires_at) == (
        "10.1.2.4",
        "tok-1",
        2000,
    )
    registry.save_rotation_state("cmdb-1", RotationStateChange(current_token_id=None))
    assert registry.get("cmdb-1").current_token_id is None
    assert registry.get("cmdb-1").current_token_expires_at == 2000  # not named: left as it was
    with pytest.raises(ValidationError):
        RotationStateChange(host="x")  # a rotation never writes what the CMDB owns


def test_due_lists_active_entries_soonest_first_and_new_ones_at_once(registry):
    for index, expiry in enumerate([3000, 1000, None, 2000]):
        register(registry, entry(cmdb_id=f"c{index}", name=f"db{index}"))
        if expiry is not None:
            registry.save_rotation_state(f"c{index}", RotationStateChange(current_token_expires_at=expiry))
    register(registry, entry(cmdb_id="gone", name="gone", status=EntryStatus.RETIRED))
    assert [e.name for e in registry.due()] == ["db2", "db1", "db3", "db0"]  # db2 has no token yet
    assert [e.name for e in registry.due(expiring_before=2000)] == ["db2", "db1", "db3"]
    assert registry.count_active() == 4


def test_a_lease_is_exclusive_until_released_or_run_out(registry):
    with registry.lease("cmdb-1", now=1000, seconds=60):
        with pytest.raises(LeaseBusy), registry.lease("cmdb-1", now=1030, seconds=60):
            pass
        with registry.lease("cmdb-1", now=1061, seconds=60):  # the first one ran out
            pass
    with registry.lease("cmdb-1", now=1062, seconds=60):
        pass


def test_only_one_of_many_concurrent_lease_requests_wins(registry):
    contenders = 6
    start_together = threading.Barrier(contenders)
    refused = threading.Semaphore(0)
    winners = []

    def contend():
        start_together.wait()
        try:
            with registry.lease("cmdb-1", now=5000, seconds=60):
                winners.append(1)
                for _ in range(contenders - 1):  # hold it until every other contender has tried
                    refused.acquire(timeout=5)
        except LeaseBusy:
            refused.release()

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners == [1]


def test_a_renewed_lease_stays_and_a_lost_one_says_so(registry):
    with registry.lease("cmdb-1", now=1000, seconds=60) as lease:
        lease.renew(1050)  # now held until 1110
        with pytest.raises(LeaseBusy), registry.lease("cmdb-1", now=1100, seconds=60):
            pass
        with registry.lease("cmdb-1", now=1111, seconds=60):  # ran out: another takes it
            with pytest.raises(LeaseLost):
                lease.renew(1112)
            with pytest.raises(LeaseBusy), registry.lease("cmdb-1", now=1112, seconds=60):
                pass  # the first holder's release (below) must not free it either


def test_releasing_never_frees_a_lease_taken_over_by_another(registry):
    first = registry.lease("cmdb-1", now=1000, seconds=60)
    first.__enter__()
    with registry.lease("cmdb-1", now=1061, seconds=60):
        first.__exit__(None, None, None)  # the slow first holder finishes late
        with pytest.raises(LeaseBusy), registry.lease("cmdb-1", now=1062, seconds=60):
            pass


def test_a_lease_carries_the_entry_as_taking_it_found_it(registry):
    with registry.lease("cmdb-1", now=1000, seconds=60) as lease:
        assert lease.entry is None  # not registered
    register(registry, entry())
    registry.save_rotation_state("cmdb-1", RotationStateChange(current_token_id="tok-1"))

    with registry.lease("cmdb-1", now=1000, seconds=60) as lease:
        assert lease.entry == registry.get("cmdb-1")
        assert lease.entry.current_token_id == "tok-1"


def test_a_last_write_gives_up_the_lease_unless_another_holder_took_it(registry):
    register(registry, entry())
    with registry.lease("cmdb-1", now=1000, seconds=60) as lease:
        registry.save_rotation_state("cmdb-1", RotationStateChange(current_token_id="tok-1"), release=lease)
        with registry.lease("cmdb-1", now=1001, seconds=60):  # free at once
            pass
    assert registry.get("cmdb-1").current_token_id == "tok-1"

    late = registry.lease("cmdb-1", now=2000, seconds=60)
    held = late.__enter__()
    with registry.lease("cmdb-1", now=2061, seconds=60):  # the first ran out: another took it
        with pytest.raises(LeaseLost):
            registry.save_rotation_state(
                "cmdb-1", RotationStateChange(current_token_id="tok-2"), release=held
            )
        assert registry.get("cmdb-1").current_token_id == "tok-1"  # nothing written
        with pytest.raises(LeaseBusy), registry.lease("cmdb-1", now=2062, seconds=60):
            pass  # still the other holder's
    late.__exit__(None, None, None)
