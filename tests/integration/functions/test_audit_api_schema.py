"""The generated OpenAPI document matches the code, and schemathesis, driving the API's functions
(ingest, query, rotation status, audit sources) in-process from that document, finds no 5xx and no answer
that contradicts it."""

import json
import time
from pathlib import Path

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dbguard_testkit.audit_seed import events, store
from dbguard_testkit.registry_seed import seed_registry
from tests.scripts import load_script
from tests.wsgi_lambda import LambdaWsgi

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def test_the_committed_document_is_what_the_code_generates(aws):
    generated = load_script("generate_openapi").openapi()
    assert generated == json.loads(OPENAPI.read_text()), "docs/openapi.json is stale: run `make openapi`"


@pytest.fixture
def api(stack, load_function):
    dynamodb = boto3.client("dynamodb")
    store(dynamodb, stack.physical_ids["AuditEventsTable"], events(300))
    seed_registry(dynamodb, stack.physical_ids["RegistryTable"], 60, int(time.time()))
    query, ingest = load_function("AuditQueryFunction"), load_function("AuditIngestFunction")
    status, sources = load_function("RotationStatusFunction"), load_function("AuditSourcesFunction")
    return LambdaWsgi(
        [
            ("GET", "/audit/events", query),
            ("GET", "/audit/events/{id}", query),
            ("POST", "/audit/events", ingest),
            ("GET", "/rotation/databases", status),
            ("GET", "/audit/sources", sources),
        ]
    )


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_no_answer_outside_the_schema(case, api):
    case.call_and_validate(app=api, checks=CHECKS)


def test_the_document_declares_the_stage_the_gateways_refusals_and_the_headers():
    document = json.loads(OPENAPI.read_text())
    assert [server["url"].rsplit("/", 1)[1] for server in document["servers"]] == ["{stage}", "v1"]
    assert document["servers"][0]["variables"]["stage"]["default"] == "v1"
    paths = document["paths"]
    post = paths["/audit/events"]["post"]["responses"]
    assert {"401", "403"} <= set(post)
    assert "filter" not in post["400"]["description"]  # the POST's 400 is about its body
    for path, operation in [
        ("/audit/events", "get"),
        ("/audit/events/{id}", "get"),
        ("/rotation/databases", "get"),
    ]:
        assert "403" in paths[path][operation]["responses"], path
    for path, methods in paths.items():
        for method, operation in methods.items():
            if "503" in operation["responses"]:
                assert "Retry-After" in operation["responses"]["503"]["headers"], (method, path)
    page = paths["/audit/events"]["get"]["responses"]["200"]
    assert set(page["headers"]) == {"X-Next-Cursor", "X-Incomplete-Events"}
