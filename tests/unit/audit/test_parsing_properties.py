"""Whatever a client sends, parsing either yields events or refuses them with an InvalidInput:
never another exception (which would become a 5xx)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbguard.audit.parsing import parse_body
from dbguard.errors import InvalidInput
from tests.samples import connection_event

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
FIELDS = list(connection_event())


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
@given(st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=4))
def test_unknown_fields_never_break_an_otherwise_valid_event(extra):
    extra = {key: value for key, value in extra.items() if key not in FIELDS}
    event = {**connection_event(), **extra}
    (parsed,) = parse_body(json.dumps(event).encode(), 1_048_576).events
    assert json.loads(parsed.canonical) == event
