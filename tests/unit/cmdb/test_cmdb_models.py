"""The CMDB change contract: the model, the committed JSON Schema, and parsing an SQS body."""

import json
from pathlib import Path

import jsonschema
import pytest

from dbguard.cmdb.parsing import parse_change
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge
from dbguard_testkit.samples import cmdb_change, eventbridge_event
from tests.scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[3]
generate_schemas = load_script("generate_schemas")
SCHEMA = json.loads((REPO_ROOT / "docs" / "schemas" / "cmdb-change.schema.json").read_text())


def validate(detail):
    jsonschema.validate(detail, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def body(detail, **envelope):
    return json.dumps(eventbridge_event(detail, **envelope))


def test_the_committed_schema_is_what_the_model_generates():
    generated = json.loads(json.dumps(generate_schemas.schemas()["cmdb-change.schema.json"]))
    assert generated == SCHEMA, "docs/schemas is stale: run `make schemas`"


VALID = [cmdb_change(), cmdb_change("delete", 2), cmdb_change(labels={}, credentialsSecretArn=None)]
INVALID = [
    cmdb_change(port=70000),
    cmdb_change(port="5432x"),
    cmdb_change(name="bad name with spaces"),
    cmdb_change(name=None),  # an upsert must describe the whole instance
    cmdb_change(engine=None, host=None),
    cmdb_change(id="has:colon"),
    cmdb_change(labels={"dbguard": "mine"}),  # reserved: marks managed assets
    cmdb_change(labels={"a:b": "c"}),
    cmdb_change(credentialsSecretArn="not-an-arn"),
    {**cmdb_change(), "action": "rename"},
    {**cmdb_change(), "version": -1},
    {**cmdb_change(), "changedAt": "yesterday"},
    {key: value for key, value in cmdb_change().items() if key != "instance"},
    # F7: integers are JSON integers, as the schema says (no coercion from booleans or strings)
    cmdb_change(port=True),
    {**cmdb_change(), "version": "1_000"},
    {**cmdb_change(), "version": "17"},
    {**cmdb_change(), "version": 2**53},  # beyond what every JSON producer represents exactly (F6)
    # F5/F8: control characters never reach JumpServer; the reserved label as JumpServer v4 stores it
    cmdb_change(database="billing\x00"),
    cmdb_change(database="bill\x1fing"),
    cmdb_change(labels={"team": "billing\x00"}),
    cmdb_change(labels={"dbguard\x1f": "cmdb-other"}),
    cmdb_change(labels={"dbguard\x1c": "cmdb-other"}),
    cmdb_change(labels={"\x1edbguard": "cmdb-other"}),
    cmdb_change(labels={"te\x85am": "x"}),
    cmdb_change(labels={"k" * 65: "v"}),
]


@pytest.mark.parametrize("detail", VALID)
def test_valid_changes_pass_the_model_and_the_schema(detail):
    validate(detail)
    assert parse_change(body(detail), 65536).instance.id == detail["instance"]["id"]


@pytest.mark.parametrize("detail", INVALID)
def test_invalid_changes_fail_the_model_and_the_schema(detail):
    with pytest.raises(jsonschema.ValidationError):
        validate(detail)
    with pytest.raises(InvalidInput) as raised:
        parse_change(body(detail), 65536)
    assert "detail" in str(raised.value)


def test_a_delete_needs_only_the_id():
    change = parse_change(body(cmdb_change("delete", 9)), 65536)
    assert (change.action, change.version, change.instance.id, change.instance.name) == (
        "delete",
        9,
        "cmdb-4711",
        None,
    )


def test_unknown_fields_are_ignored_not_refused():
    detail = cmdb_change()
    detail["instance"]["owner"] = "team-billing"
    detail["comment"] = "migrated"
    assert parse_change(body(detail), 65536).instance.name == "billing-qhb-01"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", MalformedInput),
        ("   ", MalformedInput),
        ("DROP TABLE x", MalformedInput),
        ("[1, 2]", InvalidInput),
    ],
)
def test_unparseable_bodies_are_malformed(text, error):
    with pytest.raises(error):
        parse_change(text, 65536)


def test_an_oversized_body_is_refused_before_parsing():
    detail = cmdb_change(labels={f"k{i}": "v" * 60 for i in range(30)})
    with pytest.raises(PayloadTooLarge):
        parse_change(body(detail), 1024)


def test_error_messages_never_echo_the_input():
    secret = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:leak-me"
    with pytest.raises(InvalidInput) as raised:
        parse_change(body(cmdb_change(host="bad host " + secret)), 65536)
    assert "leak-me" not in str(raised.value)
