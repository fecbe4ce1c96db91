import json

import pytest

from dbguard.audit.models import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST
from dbguard.audit.parsing import parse_body
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge
from tests.samples import SECRET_IN_EVENT, body_of, connection_event, ddl_event

LIMIT = 1_048_576


def test_a_single_event_is_parsed_with_its_fields():
    parsed = parse_body(body_of(connection_event()), LIMIT)
    assert not parsed.is_batch
    (only,) = parsed.events
    assert only.event.user_login == "app_billing"
    assert only.event.datetime_ms == 1_785_000_000_000
    assert only.event.params[0].name == "database"
    assert len(only.id) == 32


def test_an_array_keeps_request_order():
    parsed = parse_body(body_of([ddl_event(), connection_event()]), LIMIT)
    assert parsed.is_batch
    assert [p.event.name for p in parsed.events] == ["DROP TABLE", "connection attempt"]


def test_the_id_ignores_key_order_and_whitespace_but_not_content():
    event = connection_event()
    reordered = json.dumps(dict(reversed(list(event.items()))), indent=4).encode()
    first = parse_body(body_of(event), LIMIT).events[0].id
    assert parse_body(reordered, LIMIT).events[0].id == first
    assert parse_body(body_of(connection_event(Datetime=1_785_000_000_001)), LIMIT).events[0].id != first


def test_unknown_fields_are_kept_in_the_canonical_payload():
    event = connection_event(clientApplication="psql", extra={"nested": [1, 2.5, None]})
    event["params"][0]["Unit"] = "name"
    canonical = json.loads(parse_body(body_of(event), LIMIT).events[0].canonical)
    assert canonical == event


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", MalformedInput),
        (b"   \n", MalformedInput),
        (b"{not json", MalformedInput),
        (b'{"Datetime": NaN}', MalformedInput),
        (b"\xff\xfe\x00garbage", MalformedInput),
        (b"[" * 100_000 + b"]" * 100_000, MalformedInput),
        (b"42", InvalidInput),
        (b'"a string"', InvalidInput),
        (b"null", InvalidInput),
        (b"[]", InvalidInput),
    ],
    ids=[
        "empty",
        "blank",
        "broken",
        "nan",
        "not-utf8",
        "too-deep",
        "number",
        "string",
        "null",
        "empty-array",
    ],
)
def test_unusable_bodies_are_refused(body, error):
    with pytest.raises(error):
        parse_body(body, LIMIT)


def test_a_lone_surrogate_is_refused_in_known_and_unknown_fields():
    in_known = body_of(connection_event()).replace(b'"app_billing"', b'"app\\ud800billing"')
    with pytest.raises(InvalidInput):
        parse_body(in_known, LIMIT)
    in_unknown = body_of(connection_event(note="x")).replace(b'"x"', b'"\\udc00"')
    with pytest.raises(MalformedInput):
        parse_body(in_unknown, LIMIT)


def test_every_problem_is_listed_with_its_field():
    event = connection_event(Datetime="yesterday", params=[{"Name": "x", "Value": 5}])
    del event["userLogin"]
    with pytest.raises(InvalidInput) as raised:
        parse_body(body_of(event), LIMIT)
    fields = {problem.field for problem in raised.value.problems}
    assert fields == {"Datetime", "params[0].Value", "userLogin"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"Datetime": True},
        {"Datetime": 1.785e12},
        {"Datetime": -1},
        {"Datetime": 10**13},
        {"tags": "qhb"},
        {"tags": [1]},
        {"params": {"Name": "a", "Value": "b"}},
        {"params": [{"Name": "a"}]},
        {"userLogin": None},
        {"sessionID": 7},
        {"name": "x" * 257},
    ],
    ids=lambda overrides: next(iter(overrides)),
)
def test_wrong_types_and_bounds_are_refused(overrides):
    with pytest.raises(InvalidInput) as raised:
        parse_body(body_of(connection_event(**overrides)), LIMIT)
    assert not isinstance(raised.value, (MalformedInput, PayloadTooLarge))
    assert raised.value.problems


def test_problems_in_an_array_name_the_event_index():
    with pytest.raises(InvalidInput) as raised:
        parse_body(body_of([connection_event(), connection_event(Datetime="x")]), LIMIT)
    assert [problem.field for problem in raised.value.problems] == ["[1].Datetime"]


def test_error_messages_never_echo_the_input():
    event = connection_event(params=[{"Name": "password", "Value": 12345}], userName=SECRET_IN_EVENT * 20)
    with pytest.raises(InvalidInput) as raised:
        parse_body(body_of(event), LIMIT)
    text = str(raised.value) + repr(raised.value.problems)
    assert SECRET_IN_EVENT not in text
    assert "12345" not in text


def test_size_limits():
    with pytest.raises(PayloadTooLarge):
        parse_body(body_of(connection_event()), 100)
    with pytest.raises(PayloadTooLarge):
        parse_body(body_of([connection_event()] * (MAX_EVENTS_PER_REQUEST + 1)), LIMIT)
    huge_params = [{"Name": f"p{i}", "Value": "v" * 60_000} for i in range(3)]
    with pytest.raises(PayloadTooLarge) as raised:
        parse_body(body_of(connection_event(params=huge_params)), LIMIT)
    assert str(MAX_EVENT_BYTES) in raised.value.summary


def test_exactly_the_maximum_number_of_events_is_accepted():
    events = [connection_event(Datetime=1_785_000_000_000 + i) for i in range(MAX_EVENTS_PER_REQUEST)]
    assert len(parse_body(body_of(events), LIMIT).events) == MAX_EVENTS_PER_REQUEST
