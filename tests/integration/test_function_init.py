"""What each function's init loads (docs/architecture.md, "Handlers are thin"): packages that only
some requests need, or none, stay out of every cold start."""

from __future__ import annotations

import pytest

from tests.function_start import LAYER_SOURCE, loaded_after_init, specs

# boto3 adds its resource layer and s3transfer to botocore; the X-Ray SDK is for EnableTracing only;
# requests waits for the first JumpServer call; Powertools' event handler imports every resolver
NEVER_AT_INIT = ["boto3", "s3transfer", "aws_xray_sdk", "requests", "aws_lambda_powertools.event_handler"]
# Powertools' parameters utility (the authorizer's cached ingest-token secret) is built on boto3
ALSO_LOADED = {"AuditAuthorizerFunction": {"boto3", "s3transfer"}}


@pytest.mark.parametrize("logical_id", sorted(specs()))
def test_an_init_loads_only_what_its_requests_need(logical_id):
    loaded = loaded_after_init(
        logical_id, [LAYER_SOURCE], f"[name for name in {NEVER_AT_INIT!r} if name in sys.modules]"
    )
    assert set(loaded) == ALSO_LOADED.get(logical_id, set())


# the models of requests that come at deployments (CloudFormation's settings check) or from an
# operator (on-demand rotation, token check), not with the schedule or Secrets Manager's steps
RARE_REQUEST_MODELS = ["dbguard.deployment", "dbguard.rotation.on_demand"]


def test_token_rotation_s_init_builds_no_model_of_a_rare_request():
    loaded = loaded_after_init(
        "TokenRotationFunction",
        [LAYER_SOURCE],
        f"[name for name in {RARE_REQUEST_MODELS!r} if name in sys.modules]",
    )
    assert loaded == []


# what an init builds before its first import would be walked by the garbage collector
HEAVY_IMPORTS = ["pydantic", "botocore", "aws_lambda_powertools"]


@pytest.mark.parametrize("logical_id", sorted(specs()))
def test_an_init_runs_without_the_garbage_collector_and_freezes_what_it_built(logical_id):
    """dbguard/init_phase.py: the collector is off from the handler's first import to its graph, on
    afterwards, and what the init built is frozen (no collection walks it again)."""
    reported = loaded_after_init(
        logical_id,
        [LAYER_SOURCE],
        "{'order': list(sys.modules), 'enabled': __import__('gc').isenabled(),"
        " 'frozen': __import__('gc').get_freeze_count()}",
    )
    order = reported["order"]
    turned_off = order.index("dbguard.init_phase")
    assert all(order.index(name) > turned_off for name in HEAVY_IMPORTS)
    assert reported["enabled"]
    assert reported["frozen"] > 10_000  # the init's objects: botocore's models, pydantic's validators
