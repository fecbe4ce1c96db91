import json

import pytest

from dbguard.audit.limits import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_REQUEST,
    MAX_NESTING_DEPTH,
    MAX_UNKNOWN_FIELDS_BYTES,
)
from dbguard.audit.parsing import MAX_PROBLEMS_LISTED, parse_body
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge
from dbguard_testkit.samples import SECRET_IN_EVENT, body_of, connection_event, ddl_event

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


def nested(levels: int) -> dict:
    """`levels` objects, one inside the other."""
    value: dict = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


def with_unknown(raw_json: str, **overrides) -> bytes:
    """An event with `"extra": <raw_json>` spliced in as text (json.dumps cannot write NaN-free
    out-of-range numbers or repeated keys)."""
    return body_of(connection_event(extra="SPLICE", **overrides)).replace(b'"SPLICE"', raw_json.encode())


def refusal(body: bytes):
    with pytest.raises(InvalidInput) as raised:
        parse_body(body, LIMIT)
    return raised.value


def test_nesting_is_accepted_up_to_the_limit_and_refused_beyond_with_its_path():
    at_limit = connection_event(extra=nested(MAX_NESTING_DEPTH - 1))  # the event object is level 1
    assert parse_body(body_of(at_limit), LIMIT).events
    assert parse_body(body_of([at_limit]), LIMIT).events  # a batch's array does not count
    error = refusal(body_of(connection_event(extra=nested(600))))
    assert type(error) is InvalidInput  # 422: valid JSON over a limit
    assert [p.field for p in error.problems] == ["extra" + ".x" * (MAX_NESTING_DEPTH - 1)]
    assert str(MAX_NESTING_DEPTH) in error.problems[0].message
    in_batch = refusal(body_of([connection_event(), connection_event(extra=[nested(MAX_NESTING_DEPTH)])]))
    assert [p.field for p in in_batch.problems] == ["[1].extra[0]" + ".x" * (MAX_NESTING_DEPTH - 2)]


@pytest.mark.parametrize(
    ("raw_json", "field"),
    [
        ("1e999", "extra"),
        ("-1e999", "extra"),
        ("[1, 1e-131]", "extra[1]"),
        ('{"n": 1E126}', "extra.n"),
        ("1" * 39, "extra"),
        ("-1" + "0" * 126, "extra"),
        ('{"a": [0.' + "1" * 39 + "]}", "extra.a[0]"),
        ("1e99999999999999999999999", "extra"),
    ],
)
def test_numbers_dynamodb_cannot_hold_are_refused_naming_their_path(raw_json, field):
    error = refusal(with_unknown(raw_json))
    assert type(error) is InvalidInput
    assert [p.field for p in error.problems] == [field]
    assert "out of range" in error.problems[0].message


def test_numbers_at_dynamodb_limits_are_accepted():
    numbers = ["1" * 38, "-" + "9" * 38, "1E-130", "9.9999999999999999999999999999999999999E+125",
               "1" + "0" * 40, "0e-999", "-0.0", "12.50000000000000000000000000000000000000000"]  # fmt: skip
    (parsed,) = parse_body(with_unknown("[" + ",".join(numbers) + "]"), LIMIT).events
    assert json.loads(parsed.canonical)["extra"][0] == int("1" * 38)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_as_malformed_naming_their_path(constant):
    error = refusal(with_unknown(f'{{"ratio": {constant}}}'))
    assert isinstance(error, MalformedInput)  # 400: not JSON
    assert [p.field for p in error.problems] == ["extra.ratio"]
    nan_datetime = body_of(connection_event(Datetime="SPLICE")).replace(b'"SPLICE"', constant.encode())
    assert [p.field for p in refusal(nan_datetime).problems] == ["Datetime"]


def test_repeated_keys_are_refused_naming_the_key():
    top = body_of(connection_event()).replace(
        b'"userLogin": "app_billing"', b'"userLogin": "a", "userLogin": "b"'
    )
    assert [p.field for p in refusal(top).problems] == ["userLogin"]
    in_param = body_of(connection_event()).replace(b'"Value": "billing"', b'"Value": "billing", "Value": "x"')
    assert [p.field for p in refusal(in_param).problems] == ["params[0].Value"]
    batch = body_of([connection_event(), connection_event()])
    error = refusal(batch.removesuffix(b"}]") + b', "k": 1, "k": 2}]')
    assert type(error) is InvalidInput
    assert [p.field for p in error.problems] == ["[1].k"]
    assert "duplicate key" in error.problems[0].message


def test_unknown_fields_are_bounded_together_and_the_largest_is_named():
    filler = MAX_UNKNOWN_FIELDS_BYTES - len('"big":""') - len('"small":"ssssssssss"') - len('"note":""')
    fits = connection_event(big="b" * filler, small="s" * 10)
    fits["params"][1]["note"] = ""  # params' unknown fields count too
    assert parse_body(body_of(fits), LIMIT).events
    over = connection_event(big="b" * filler, small="s" * 10)
    over["params"][1]["note"] = "n"
    error = refusal(body_of([connection_event(), over]))
    assert isinstance(error, PayloadTooLarge)  # 413, like the event size limit
    assert [p.field for p in error.problems] == ["[1].big"]
    assert str(MAX_UNKNOWN_FIELDS_BYTES) in error.summary


def test_a_refusal_lists_a_bounded_number_of_problems_and_cuts_long_keys():
    many = with_unknown("{" + ", ".join(f'"k{i}": 1e999' for i in range(500)) + "}")
    error = refusal(many)
    assert len(error.problems) == MAX_PROBLEMS_LISTED
    assert error.summary.startswith("more than")
    long_key = refusal(with_unknown('{"' + "k" * 10_000 + '": 1, "' + "k" * 10_000 + '": 2}'))
    assert len(long_key.problems[0].field) < 100


@pytest.mark.parametrize(
    ("body", "offset"),
    [
        (b'{"name": "caf\xe9"}', 13),  # Latin-1
        ('{"name": "x"}'.encode("utf-16"), 0),  # json.loads alone would read UTF-16
        ('{"name": "\udcff"}'.encode("utf-8", "surrogatepass"), 10),  # a lone surrogate
    ],
)
def test_a_body_that_is_not_utf8_is_a_400_that_says_so(body, offset):
    with pytest.raises(MalformedInput) as raised:
        parse_body(body, LIMIT)
    assert str(raised.value) == (
        f"request body is not UTF-8 text (invalid byte at offset {offset}): qhb_audit sends UTF-8 JSON; "
        "check the client's encoding"
    )


def test_a_utf8_byte_order_mark_is_allowed():
    assert parse_body(b"\xef\xbb\xbf" + body_of(connection_event()), LIMIT).events[0].event.name
