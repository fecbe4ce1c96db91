"""Every file in events/ is current and does what its name says when replayed."""

import json
from pathlib import Path

import boto3
import pytest

from dbguard_local.apigateway import policy_allows
from tests.scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS = REPO_ROOT / "events"
generate_events = load_script("generate_events")

INGEST = {
    "post-single-event.json": 201,
    "post-event-array.json": 201,
    "post-direct-connection.json": 201,  # announced once JumpServerProxyCidrs is set: test_direct_connections
    "post-array-with-duplicate.json": 201,
    "post-base64-body.json": 201,
    "post-empty-body.json": 400,
    "post-not-json.json": 400,
    "post-wrong-types.json": 422,
    "post-missing-fields.json": 422,
    "post-too-many-events.json": 413,
}
AUTHORIZER = {
    "request-valid-token.json": "Allow",
    "request-wrong-token.json": "Deny",
    "request-missing-token.json": "Unauthorized",
}

AUDIT_QUERY = {
    "list-by-user.json": 200,
    "list-drop-table-csv.json": 200,
    "get-one.json": 404,  # no event with that id in an empty table
    "bad-inverted-range.json": 400,
    "bad-unknown-filter.json": 400,
    "list-direct-csv.json": 200,
}
ROTATION_STATUS = {
    "list.json": 200,
    "list-most-urgent-10.json": 200,
    "bad-unknown-parameter.json": 400,
}
AUDIT_SOURCES = {"list.json": 200, "scheduled-check.json": "checks"}
AUDIT_CSV_IMPORT = {"object-created.json": "imports the sample day"}
# cmdb_sync: message ids reported as failed (retried by SQS); the replay is in test_cmdb_sync.py
CMDB_SYNC = {
    "upsert.json": 0,
    "update-address.json": 0,
    "delete.json": 0,
    "replayed-and-stale.json": 0,
    "invalid-in-batch.json": 0,  # the invalid message goes to the DLQ, it is not retried
}
# token_rotation: what each sample does; replayed in test_token_rotation.py
TOKEN_ROTATION = {
    "scheduled.json": "rotates what is due",
    "on-demand-named.json": "rotates billing-qhb-01",
    "on-demand-all.json": "rotates every active database",
    "on-demand-forced.json": "rotates billing-qhb-01 within ConsumerCacheSeconds of the last rotation",
    "settings-check.json": "answers CloudFormation",
    "secretsmanager-createSecret.json": "Secrets Manager step",
    "secretsmanager-setSecret.json": "Secrets Manager step",
    "secretsmanager-testSecret.json": "Secrets Manager step",
    "secretsmanager-finishSecret.json": "Secrets Manager step",
}
AUDIT_DIGEST = {"scheduled.json": "digests every closed storage hour not yet digested"}


CSV_SAMPLE = EVENTS / "samples" / "qhb-audit-day.csv"


def load(relative):
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def test_the_files_are_what_the_generator_writes():
    expected = generator_output()
    on_disk = {str(path.relative_to(EVENTS)): json.loads(path.read_text()) for path in EVENTS.rglob("*.json")}
    assert on_disk == expected, "events/ is stale: run `make events`"


def generator_output():
    return json.loads(json.dumps(generate_events.samples()))


def test_every_replayable_sample_has_an_expected_outcome():
    expected = {
        f"{function}/{name}"
        for function, names in {
            "audit_ingest": INGEST,
            "audit_authorizer": AUTHORIZER,
            "audit_query": AUDIT_QUERY,
            "rotation_status": ROTATION_STATUS,
            "audit_sources": AUDIT_SOURCES,
            "audit_csv_import": AUDIT_CSV_IMPORT,
            "cmdb_sync": CMDB_SYNC,
            "token_rotation": TOKEN_ROTATION,
            "audit_digest": AUDIT_DIGEST,
        }.items()
        for name in names
    }
    replayable = {relative for relative in generator_output() if not relative.startswith("samples/")}
    assert replayable == expected


@pytest.mark.parametrize(("name", "status"), INGEST.items())
def test_ingest_samples(load_function, name, status):
    response = load_function("AuditIngestFunction").invoke(load(f"audit_ingest/{name}"))
    assert response["statusCode"] == status


@pytest.mark.parametrize(("name", "outcome"), AUTHORIZER.items())
def test_authorizer_samples(stack, load_function, name, outcome):
    boto3.client("secretsmanager").put_secret_value(
        SecretId=stack.physical_ids["IngestTokenSecret"],
        SecretString=json.dumps({"tokens": [generate_events.SAMPLE_TOKEN]}),
    )
    event = load(f"audit_authorizer/{name}")
    authorizer = load_function("AuditAuthorizerFunction")
    if outcome == "Unauthorized":
        with pytest.raises(Exception, match="Unauthorized"):
            authorizer.invoke(event)
        return
    allowed = policy_allows(authorizer.invoke(event)["policyDocument"], event["methodArn"])
    assert allowed == (outcome == "Allow")


@pytest.mark.parametrize(("name", "status"), ROTATION_STATUS.items())
def test_rotation_status_samples(load_function, name, status):
    answer = load_function("RotationStatusFunction").invoke(load(f"rotation_status/{name}"))
    assert answer["statusCode"] == status


def test_audit_sources_samples(load_function):
    sources = load_function("AuditSourcesFunction")
    assert sources.invoke(load("audit_sources/list.json"))["statusCode"] == 200
    assert sources.invoke(load("audit_sources/scheduled-check.json")) == {"sources": 0, "silent": 0}


def test_the_csv_import_sample_imports_the_sample_day(stack, load_function):
    bucket = stack.physical_ids["AuditCsvBucket"]
    sample = load("audit_csv_import/object-created.json")
    key = json.loads(sample["Records"][0]["body"])["Records"][0]["s3"]["object"]["key"]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=CSV_SAMPLE.read_bytes())
    assert load_function("AuditCsvImportFunction").invoke(sample) == {"batchItemFailures": []}
    table = stack.physical_ids["AuditEventsTable"]
    assert boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"] == 33


@pytest.mark.parametrize("name", AUDIT_DIGEST)
def test_audit_digest_samples(load_function, name):
    answer = load_function("AuditDigestFunction").invoke(load(f"audit_digest/{name}"))
    assert len(answer["written"]) == 1  # the first run starts the chain at the last closed hour


@pytest.mark.parametrize(("name", "status"), AUDIT_QUERY.items())
def test_query_samples(load_function, name, status):
    assert load_function("AuditQueryFunction").invoke(load(f"audit_query/{name}"))["statusCode"] == status
