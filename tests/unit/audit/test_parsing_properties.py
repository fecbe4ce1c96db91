"""Whatever a client sends, parsing either yields events or refuses them with an InvalidInput:
never another exception (which would become a 5xx)."""

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dbguard.audit.limits import MAX_NESTING_DEPTH
from dbguard.audit.parsing import parse_body
from dbguard.errors import InvalidInput
from dbguard_testkit.samples import body_of, connection_event

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
FIELDS = list(connection_event())
# Numbers DynamoDB can hold (38 significant digits, magnitude 1E-130 to 9.99…E+125): dbguard stores those.
storable_numbers = (
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
    | st.floats(min_value=1e-130, max_value=1e125)
    | st.floats(min_value=-1e125, max_value=-1e-130)
    | st.just(0.0)
)
storable_values = st.recursive(
    st.none() | st.booleans() | storable_numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
json_numbers = st.from_regex(r"\A-?(0|[1-9][0-9]{0,60})(\.[0-9]{1,60})?([eE][+-]?[0-9]{1,4})?\Z")


def nesting(value) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max(map(nesting, children), default=0)
    return 0


def parses_or_refuses(body: bytes) -> None:
    try:
        parsed = parse_body(body, 1_048_576)
    except InvalidInput:
        return
    assert parsed.events
    for event in parsed.events:
        assert len(event.id) == 32


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(body):
    parses_or_refuses(body)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json(document):
    parses_or_refuses(json.dumps(document).encode())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), json_values, st.booleans())
def test_one_field_replaced_by_anything(field, value, as_array):
    event = connection_event(**{field: value})
    parses_or_refuses(json.dumps([event] if as_array else event).encode())


@settings(max_examples=200)
@given(st.dictionaries(st.text(min_size=1, max_size=12), storable_values, max_size=4))
def test_unknown_fields_within_the_limits_never_break_an_otherwise_valid_event(extra):
    extra = {key: value for key, value in extra.items() if key not in FIELDS}
    assume(nesting(extra) < MAX_NESTING_DEPTH)
    event = {**connection_event(), **extra}
    (parsed,) = parse_body(json.dumps(event).encode(), 1_048_576).events
    assert json.loads(parsed.canonical) == event


@settings(max_examples=300)
@given(json_numbers)
def test_a_number_is_stored_only_when_dynamodb_can_hold_it(text):
    body = body_of(connection_event(extra="N")).replace(b'"N"', text.encode())
    number = Decimal(text)
    digits = "".join(map(str, number.as_tuple().digits)).rstrip("0")
    storable = number.is_zero() or (len(digits) <= 38 and -130 <= number.adjusted() <= 125)
    if storable:
        assert parse_body(body, 1_048_576).events
        return
    with pytest.raises(InvalidInput) as raised:
        parse_body(body, 1_048_576)
    assert [problem.field for problem in raised.value.problems] == ["extra"]


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[]", "{}"]))
def test_any_nesting_is_parsed_or_refused(levels, brackets):
    opening, closing = brackets
    inner = (opening + ('"k":' if opening == "{" else "")) * levels + "0" + closing * levels
    parses_or_refuses(body_of(connection_event(extra="N")).replace(b'"N"', inner.encode()))
