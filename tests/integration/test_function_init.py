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
