"""Found by `make chaos-cmdb` (seeds 1 and 2): a registration that failed after JumpServer created
the asset, overtaken by a newer change that renames the database, used to leave the first asset
behind, active and labelled with the database's CMDB id, next to one the newer change created
(cmdb_sync looked for it by name while the registry had no entry). The asset id is now journalled
in the registry as soon as the asset exists.
"""

import pytest

from dbguard_testkit.samples import cmdb_change
from tests.world import batch, register, template_parameters, world  # noqa: F401 - fixtures


@pytest.fixture
def cmdb_sync(world, load_function):  # noqa: F811 - the fixture
    return load_function("CmdbSyncFunction")


def fail_once(simulator, method: str, path: str) -> None:
    """The simulator's next `method` on `path` answers 502 before it is applied."""
    answer = simulator.answer

    def failing(request_method, target, headers, raw):
        if request_method == method and target.startswith(path):
            simulator.answer = answer
            simulator.faults(fail_next=1)
        return answer(request_method, target, headers, raw)

    simulator.answer = failing


def test_a_rename_overtaking_a_failed_registration_leaves_one_asset(world, cmdb_sync):  # noqa: F811
    fail_once(world.jumpserver, "POST", "/api/v1/accounts/accounts/")  # after the asset was created
    failed = register(cmdb_sync, version=1, name="billing-qhb-01")
    assert len(failed["batchItemFailures"]) == 1  # SQS will redeliver version 1 ...
    assert register(cmdb_sync, version=2, name="billing-qhb-02") == {"batchItemFailures": []}  # ... too late
    labelled = [a for a in world.jumpserver.store.assets.values() if "dbguard:cmdb-4711" in a.labels]
    assert [(a.name, a.is_active) for a in labelled] == [("billing-qhb-02", True)]


def test_a_delete_after_a_failed_registration_retires_the_asset_it_left(world, cmdb_sync):  # noqa: F811
    fail_once(world.jumpserver, "POST", "/api/v1/accounts/accounts/")
    assert len(register(cmdb_sync, version=1)["batchItemFailures"]) == 1
    assert cmdb_sync.invoke(batch(cmdb_change("delete", 2))) == {"batchItemFailures": []}
    assert [a.is_active for a in world.jumpserver.store.assets.values()] == [False]
