"""Which connection attempts bypassed the JumpServer proxy, and what their announcement says."""

import json
from pathlib import Path

import jsonschema
import pytest

from dbguard.audit.direct import DirectConnection, DirectConnectionRules
from dbguard.audit.models import AuditEvent
from dbguard.audit.parsing import parse_body
from dbguard.composition.audit_ingest import AuditIngestSettings
from dbguard.errors import ConfigurationError
from dbguard_testkit.samples import (
    DIRECT_CONNECTION_DETAIL,
    body_of,
    connection_event,
    ddl_event,
    direct_connection_event,
)
from tests.scripts import load_script

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "direct-connection.schema.json"

ENVIRONMENT = {
    "JUMPSERVER_PROXY_CIDRS": "10.1.2.50/32, 2001:db8:1:2::/64",
    "DIRECT_CONNECTION_EXEMPT_LOGINS": "replicator,backup_agent",
    "CONNECTION_EVENT_NAMES": "connection attempt,login",
}
REQUIRED = {
    "AUDIT_TABLE_NAME": "events",
    "DIRECT_CONNECTION_DEAD_LETTER_QUEUE_URL": "https://sqs.example/dlq",
}


def rules_from(environment: dict[str, str]) -> DirectConnectionRules:
    settings = AuditIngestSettings.load({**REQUIRED, **environment})
    return DirectConnectionRules.of(
        settings.jumpserver_proxy_cidrs,
        settings.direct_connection_exempt_logins,
        settings.connection_event_names,
    )


RULES = rules_from(ENVIRONMENT)


def event(document: dict) -> AuditEvent:
    return AuditEvent.model_validate(document)


@pytest.mark.parametrize(
    "node",
    ["10.1.2.50", "2001:db8:1:2::17", "2001:db8:1:2:ffff:ffff:ffff:ffff", "::ffff:10.1.2.50"],
    ids=["proxy-v4", "proxy-v6", "proxy-v6-last", "proxy-v4-as-mapped-v6"],
)
def test_an_attempt_from_a_proxy_address_is_not_direct(node):
    assert RULES.is_direct(event(connection_event(userNode=node))) is False


@pytest.mark.parametrize(
    "node",
    ["10.7.31.12", "10.1.2.51", "2001:db8:1:3::17", "::1", None, "", "app01.corp.example", "10.1.2.50:5432",
     " 10.1.2.50", "not an address", "999.1.2.3"],
    ids=["other-v4", "proxy-neighbour", "other-v6", "loopback-v6", "missing", "empty", "hostname",
         "with-port", "with-space", "garbage", "out-of-range"],
)  # fmt: skip
def test_an_attempt_from_anywhere_else_or_from_no_provable_address_is_direct(node):
    assert RULES.is_direct(event(connection_event(userNode=node))) is True


def test_a_connection_event_without_user_node_is_direct():
    document = connection_event()
    del document["userNode"]
    assert RULES.is_direct(event(document)) is True


def test_exempt_logins_are_never_flagged_and_compared_exactly():
    assert RULES.is_direct(event(direct_connection_event(userLogin="replicator"))) is False
    assert RULES.is_direct(event(direct_connection_event(userLogin="backup_agent", userNode=None))) is False
    assert RULES.is_direct(event(direct_connection_event(userLogin="Replicator"))) is True


@pytest.mark.parametrize("name", ["DROP TABLE", "CREATE DATABASE", "disconnection", "connection attempts"])
def test_other_events_from_anywhere_are_not_connections(name):
    assert RULES.is_direct(event(ddl_event(name=name, userNode="10.7.31.12"))) is False
    assert RULES.is_direct(event(ddl_event(name=name))) is False  # no address at all


@pytest.mark.parametrize("name", ["connection attempt", "CONNECTION ATTEMPT", "Login"])
def test_connection_event_names_are_compared_case_insensitively(name):
    assert RULES.is_direct(event(direct_connection_event(name=name))) is True


def test_without_proxy_cidrs_detection_is_off():
    rules = rules_from({**ENVIRONMENT, "JUMPSERVER_PROXY_CIDRS": ""})
    assert rules.is_direct(event(direct_connection_event(userNode=None))) is False


def test_cidrs_accept_bare_addresses_and_host_bits_and_refuse_garbage():
    rules = rules_from({**ENVIRONMENT, "JUMPSERVER_PROXY_CIDRS": "10.1.2.50/24,2001:db8::1"})
    assert [str(network) for network in rules.proxy_networks] == ["10.1.2.0/24", "2001:db8::1/128"]
    assert rules.is_direct(event(connection_event(userNode="10.1.2.200"))) is False
    with pytest.raises(ConfigurationError, match=r"JUMPSERVER_PROXY_CIDRS.*CIDR"):
        rules_from({**ENVIRONMENT, "JUMPSERVER_PROXY_CIDRS": "10.1.2.0/24,jumpserver.corp"})


def parsed(document: dict):
    return parse_body(body_of(document), 1 << 20).events[0]


def test_the_announcement_carries_what_the_security_team_needs():
    detail = DirectConnection.of(parsed(direct_connection_event())).model_dump(by_alias=True)
    assert detail == {
        "id": parsed(direct_connection_event()).id,
        **DIRECT_CONNECTION_DETAIL,
    }


@pytest.mark.parametrize(
    ("value", "succeeded"),
    [("true", True), ("t", True), ("OK", True), ("false", False), ("f", False), ("0", False),
     ("denied", False), ("maybe", None), ("", None), (None, None)],
)  # fmt: skip
def test_failed_and_successful_attempts_are_told_apart(value, succeeded):
    params = [{"Name": "database", "Value": "billing"}]
    if value is not None:
        params.append({"Name": "Success", "Value": value})
    connection = DirectConnection.of(parsed(direct_connection_event(params=params)))
    assert connection.succeeded is succeeded


def test_an_attempt_without_database_or_address_is_announced_with_nulls():
    connection = DirectConnection.of(parsed(direct_connection_event(params=[], userNode=None)))
    assert (connection.database, connection.user_node, connection.succeeded) == (None, None, None)


def test_the_committed_schema_is_what_the_model_generates_and_announcements_match_it():
    schema = json.loads(SCHEMA_PATH.read_text())
    generated = load_script("generate_schemas").schemas()["direct-connection.schema.json"]
    assert json.loads(json.dumps(generated)) == schema, "docs/schemas is stale: run `make schemas`"
    for document in (direct_connection_event(), direct_connection_event(params=[], userNode=None)):
        detail = json.loads(DirectConnection.of(parsed(document)).model_dump_json(by_alias=True))
        jsonschema.validate(detail, schema)
