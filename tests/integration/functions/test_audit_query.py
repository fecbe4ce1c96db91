"""audit_query over a few thousand stored events (moto): filters, combinations, order, pagination,
CSV, bad filters; the template's IAM auth."""

import csv
import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from dbguard.adapters.dynamodb import to_item
from dbguard.audit.parsing import parse_body
from dbguard.audit.records import audit_record
from dbguard_local.apigateway import proxy_event
from dbguard_testkit.audit_seed import DAY_MS, NODES, START_MS, USERS, events, store
from dbguard_testkit.samples import body_of, connection_event
from tests.api import fail_dynamodb_calls

COUNT = 2500


@pytest.fixture
def seeded(stack):
    """2,500 events (seconds to store): only for tests that read them; a refusal or a storage failure
    is answered the same over an empty table."""
    table = stack.physical_ids["AuditEventsTable"]
    return store(boto3.client("dynamodb"), table, events(COUNT))


@pytest.fixture
def query(stack, load_function):
    return load_function("AuditQueryFunction")


def get(function, path="/audit/events", accept="application/json", **query):
    resource = "/audit/events/{id}" if path.count("/") == 3 else "/audit/events"
    params = {name: [str(value)] for name, value in query.items()}
    event = proxy_event("GET", path, resource=resource, query=params or None, headers={"Accept": accept})
    if resource.endswith("{id}"):
        event["pathParameters"] = {"id": path.rsplit("/", 1)[1]}
    response = function.invoke(event)
    body = response["body"]
    headers = dict(response.get("headers") or {})
    headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
    parsed = body if accept == "text/csv" else json.loads(body)
    return response["statusCode"], parsed, headers


def everything(function, **query):
    """Every page until the cursor runs out."""
    found, cursor = [], None
    while True:
        status, body, _ = get(function, **query, **({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        found += body["events"]
        cursor = body["nextCursor"]
        if cursor is None:
            return found


def expected(records, lo, hi, **filters):
    chosen = [
        r for r in records
        if lo <= r["Datetime"] <= hi and all(r.get(name) == value for name, value in filters.items())
    ]  # fmt: skip
    return [r["id"] for r in sorted(chosen, key=lambda r: r["ts"], reverse=True)]


FULL = {"from": START_MS, "to": START_MS + 5 * DAY_MS}


# One test over one seeded table (storing it takes seconds): a failure names its filters.
COMBINATIONS = [
    {},
    {"userLogin": "dba_ivanov"},
    {"name": "DROP TABLE"},
    {"database": "orders"},
    {"serviceName": "qhb-billing-01"},
    {"userNode": "jumpserver-proxy"},
    {"userLogin": "etl", "name": "CREATE TABLE", "database": "crm"},
    {"name": "connection attempt", "userNode": "10.1.2.50", "serviceName": "qhb-orders-01"},
    {"userLogin": USERS[-1]},  # a comma and quotes in the value
]


def test_every_filter_and_combination_pages_to_the_end_without_gap_or_repeat(seeded, query):
    lo, hi = START_MS + DAY_MS, START_MS + 3 * DAY_MS
    for filters in COMBINATIONS:
        found = everything(query, **{"from": lo, "to": hi, "limit": 57, **filters})
        assert [event["id"] for event in found] == expected(seeded, lo, hi, **filters), filters
        assert found, filters  # the seed covers every combination asked


def test_iso_dates_and_the_default_window(seeded, query):
    iso = everything(
        query, **{"from": "2026-07-25T17:20:00Z", "to": "2026-07-26T17:20:00+00:00", "limit": 1000}
    )
    assert [e["id"] for e in iso] == expected(seeded, 1_785_000_000_000, 1_785_086_400_000)
    status, body, _ = get(query)  # no range: the last 24 hours (the seed is in 2026-07)
    assert (status, body["events"], body["nextCursor"]) == (200, [], None)


def test_one_event_by_id(seeded, query):
    record = seeded[0]
    status, body, _ = get(query, f"/audit/events/{record['id']}")
    assert status == 200
    assert body["id"] == record["id"]
    assert body["event"] == json.loads(record["raw"])
    assert get(query, "/audit/events/" + "0" * 32)[0] == 404
    status, body, _ = get(query, "/audit/events/not-an-id")
    assert status == 400
    assert body["msg"]


def test_csv_in_qhb_audit_column_order(seeded, query):
    status, text, headers = get(query, accept="text/csv", limit=1000, userLogin=USERS[-1], **FULL)
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "time", "user", "database", "remote_host", "remote_port", "success",
                       "table", "new_table", "ddl_database", "new_database",
                       "id", "service_name", "time_ms"]  # fmt: skip
    assert len(rows) == 1 + len(expected(seeded, FULL["from"], FULL["to"], userLogin=USERS[-1]))
    assert {row[2] for row in rows[1:]} == {USERS[-1]}  # quoted and read back intact
    assert '"svc,quoted ""one"""' in text
    connection = next(row for row in rows[1:] if row[0] == "connection attempt")
    assert connection[1].endswith("Z")
    assert connection[3] in ("billing", "orders", "crm")
    assert connection[4] in NODES  # no remote-host parameter in the seed: the event's userNode
    assert len({row[11] for row in rows[1:]}) == len(rows) - 1  # each row names its event
    assert all(row[13].isdigit() for row in rows[1:])


@pytest.mark.parametrize(
    ("query_string", "fragment"),
    [
        ({"user": "x"}, "unknown query parameter"),
        ({"from": START_MS + DAY_MS, "to": START_MS}, "'from' is after 'to'"),
        ({"from": "yesterday"}, "ISO 8601"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"userLogin": "x" * 300}, "userLogin"),
    ],
)
def test_bad_filters_get_a_400_with_a_clear_message(query, query_string, fragment):
    status, body, _ = get(query, **query_string)
    assert status == 400
    assert fragment in json.dumps(body)
    assert set(body) == {"msg", "errors"}


def test_a_cursor_cannot_be_altered_or_reused_with_other_filters(seeded, query):
    status, body, _ = get(query, limit=10, userLogin="etl", **FULL)
    cursor = body["nextCursor"]
    payload, signature = cursor.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert get(query, limit=10, userLogin="etl", cursor=tampered, **FULL)[0] == 400
    status, body, _ = get(query, limit=10, userLogin="auditor", cursor=cursor, **FULL)
    assert status == 400
    assert "other filters" in body["msg"]
    assert get(query, limit=20, userLogin="etl", cursor=cursor, **FULL)[0] == 200  # a new page size is fine


@pytest.mark.parametrize(
    ("query_string", "fragment"),
    [
        ({"direct": "false"}, "only direct=true"),
        ({"direct": "1"}, "only direct=true"),
        ({"to": "1" * 41}, "40"),
    ],
)
def test_the_query_string_is_held_to_what_the_document_says(query, query_string, fragment):
    status, body, _ = get(query, **query_string)
    assert status == 400
    assert fragment in body["msg"]


def test_throttled_storage_answers_503_with_retry_after(query):
    fail_dynamodb_calls(
        query.module.search._reader.dynamodb, "Query", "ProvisionedThroughputExceededException"
    )
    status, body, headers = get(query, **FULL)
    assert (status, headers["Retry-After"]) == (503, "5")
    assert body["msg"] == "storage is busy or unavailable; retry in 5 seconds"


def test_unreachable_storage_answers_503_and_other_storage_errors_fail_the_invocation(query):
    dynamodb = query.module.search._reader.dynamodb

    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.local")

    dynamodb.meta.events.register("before-call.dynamodb.GetItem", unreachable)
    assert get(query, "/audit/events/" + "0" * 32)[0] == 503
    dynamodb.meta.events.unregister("before-call.dynamodb.GetItem", unreachable)
    fail_dynamodb_calls(dynamodb, "GetItem", "AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        get(query, "/audit/events/" + "0" * 32)


def test_repeated_parameters_are_refused(query):
    event = proxy_event("GET", "/audit/events", resource="/audit/events", query={"userLogin": ["a", "b"]})
    response = query.invoke(event)
    assert response["statusCode"] == 400


def test_reads_stay_close_to_what_is_returned(seeded, query, capsys):
    get(query, limit=100, userLogin="etl", **FULL)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    read = metrics[-1]["QueryIndexItemsRead"]
    read = read[0] if isinstance(read, list) else read
    assert 100 <= read <= 150  # 16 shards each read a little past their share (docs/audit-query.md)


def test_the_template_protects_both_routes_with_iam(stack):
    from dbguard_local.functions import function_specs

    events = function_specs(stack)["AuditQueryFunction"].events
    assert {(e["Properties"]["Method"], e["Properties"]["Path"], e["Properties"]["Auth"]["Authorizer"])
            for e in events.values()} == {("GET", "/audit/events", "AWS_IAM"),
                                          ("GET", "/audit/events/{id}", "AWS_IAM")}  # fmt: skip


def stored_directly(stack, raw, **overrides) -> str:
    """Put an item the way ingest writes it, but with `raw` as given (None: no raw at all), as a
    record written before today's ingest limits (or by hand) could be."""
    (parsed,) = parse_body(body_of(connection_event(**overrides)), 1 << 20).events
    record = {name: value for name, value in audit_record(parsed, START_MS, 0).items() if name != "raw"}
    if raw is not None:
        record["raw"] = raw
    boto3.client("dynamodb").put_item(TableName=stack.physical_ids["AuditEventsTable"], Item=to_item(record))
    return parsed.id


def raw_with(unknown_json: str) -> str:
    return json.dumps(connection_event(qhbExtension="SPLICE")).replace('"SPLICE"', unknown_json)


AROUND = {"from": 1_785_000_000_000 - 1000, "to": 1_785_000_000_000 + 1000}


@pytest.mark.parametrize(
    ("raw", "readable_fields"),
    [
        (raw_with('{"x":' * 600 + "0" + "}" * 600), set(connection_event())),
        (raw_with('{"big": 1e999}'), set(connection_event())),
        (raw_with('[1, NaN, {"r": -Infinity}]'), set(connection_event())),
        ("not json {", set()),
        ('["an", "array"]', set()),
        (None, set()),
    ],
    ids=["nested-600", "1e999", "nan", "not-json", "not-an-object", "no-raw"],
)
def test_a_stored_event_that_cannot_be_answered_as_it_stands_never_breaks_a_read(
    stack, query, raw, readable_fields
):
    good = stored_directly(stack, raw_with('"fine"'), Datetime=1_785_000_000_001)
    odd = stored_directly(stack, raw)
    status, body, _ = get(query, **AROUND)
    assert status == 200
    answered = {event["id"]: event for event in body["events"]}
    assert set(answered) == {good, odd}
    assert (answered[good]["notice"], answered[good]["raw"]) == (None, None)
    assert set(answered[odd]["event"]) == readable_fields
    assert answered[odd]["notice"]
    assert answered[odd]["raw"] == raw
    status, single, _ = get(query, f"/audit/events/{odd}")
    assert (status, single) == (200, answered[odd])
    status, text, headers = get(query, accept="text/csv", **AROUND)
    assert status == 200
    assert len(list(csv.reader(io.StringIO(text)))) == 3
    assert headers["X-Incomplete-Events"] == "1"


def test_csv_cells_that_would_start_a_formula_are_exported_as_text(stack, query):
    table = stack.physical_ids["AuditEventsTable"]
    store(boto3.client("dynamodb"), table, [connection_event(userLogin='=HYPERLINK("https://x.example")')])
    status, text, headers = get(query, accept="text/csv", **AROUND)
    assert status == 200
    (row,) = list(csv.reader(io.StringIO(text)))[1:]
    assert row[2] == '\'=HYPERLINK("https://x.example")'
    assert "X-Incomplete-Events" not in headers
