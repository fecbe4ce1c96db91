"""The local loader runs a handler's init in a process that goes on afterwards (tests, benchmarks):
garbage collection must be on and nothing frozen, whatever the init did (dbguard/init_phase.py)."""

from __future__ import annotations

import gc
import sys

import pytest

from dbguard.errors import ConfigurationError
from dbguard_local.functions import load_handler_module
from tests.function_start import specs


@pytest.fixture
def sources_spec(monkeypatch):
    spec = specs()["AuditSourcesFunction"]
    for name, value in spec.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)  # not a Lambda environment (nor a local one)
    # imported anew, as by a fresh interpreter: the init turns the collector off again
    monkeypatch.delitem(sys.modules, "dbguard.init_phase", raising=False)
    return spec


def test_a_handler_loaded_outside_lambda_leaves_nothing_frozen_and_the_collector_on(sources_spec):
    load_handler_module(sources_spec)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_failed_init_leaves_the_collector_on(sources_spec, monkeypatch):
    monkeypatch.delenv("AUDIT_SOURCES_TABLE_NAME")
    with pytest.raises(ConfigurationError):
        load_handler_module(sources_spec)
    assert gc.isenabled()
