"""Every function registers what a SnapStart restore must renew while it initialises, so a snapshot
of any of them carries the hook (dbguard/snapstart.py; EnableSnapStart in template.yaml)."""

import pytest
import snapshot_restore_py

FUNCTIONS = ["AuditIngestFunction", "AuditAuthorizerFunction", "AuditQueryFunction", "CmdbSyncFunction",
             "TokenRotationFunction", "RotationStatusFunction"]  # fmt: skip


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_registers_the_restore_hook_at_init(function, load_function, monkeypatch):
    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    load_function(function)
    hooks = [(hook.__module__, hook.__name__) for hook, _, _ in snapshot_restore_py.get_after_restore()]
    assert hooks == [("dbguard.snapstart", "renew_after_restore")]
