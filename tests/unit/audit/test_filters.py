"""The query string of GET /audit/events, validated once by EventFilters, and its index plan."""

import pytest

from dbguard.audit.filters import DEFAULT_WINDOW_HOURS, EventFilters, plan
from dbguard.audit.keys import Dimension
from dbguard.errors import InvalidQuery


def filters(**query: str) -> EventFilters:
    return EventFilters.of_query_string({name: [value] for name, value in query.items()})


def test_names_are_the_apis_and_values_are_parsed():
    chosen = filters(
        **{"from": "2026-07-25T17:20:00Z", "to": "1785086400000", "userLogin": "etl", "limit": "7"}
    )
    assert (chosen.from_ms, chosen.to_ms, chosen.user_login, chosen.limit) == (
        1_785_000_000_000, 1_785_086_400_000, "etl", 7,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field", "fragment"),
    [
        ({"user": ["x"]}, "user", "not a filter"),
        ({"userLogin": ["a", "b"]}, None, "give each filter once: userLogin"),
        ({"direct": ["false"]}, "direct", "only direct=true"),
        ({"direct": ["True"]}, "direct", "only direct=true"),
        ({"from": ["yesterday"]}, "from", "ISO 8601"),
        ({"from": ["2"], "to": ["1"]}, "(root)", "'from' is after 'to'"),
        ({"limit": ["0"]}, "limit", "greater than or equal to 1"),
        ({"userLogin": [""]}, "userLogin", "at least 1 character"),
    ],
)
def test_a_bad_query_string_is_an_invalid_query_naming_the_parameter(query, field, fragment):
    with pytest.raises(InvalidQuery) as raised:
        EventFilters.of_query_string(query)
    assert fragment in str(raised.value) + repr(raised.value.problems)
    assert [problem.field for problem in raised.value.problems] == ([field] if field else [])


def test_the_cursor_is_bound_to_the_filters_but_not_to_the_page_size_or_itself():
    base = filters(userLogin="etl", direct="true")
    assert base.digest() == filters(userLogin="etl", direct="true", limit="5", cursor="c").digest()
    assert base.digest() != filters(userLogin="etl").digest()


def test_the_plan_uses_the_most_selective_index_and_the_default_window():
    query = plan(filters(name="DROP TABLE", userLogin="etl"), now_ms=10 * 3_600_000 * DEFAULT_WINDOW_HOURS)
    assert (query.dimension, query.key_value, query.filters) == (
        Dimension.USER_LOGIN, "etl", {Dimension.NAME: "DROP TABLE"},
    )  # fmt: skip
    assert query.to_ms - query.from_ms == DEFAULT_WINDOW_HOURS * 3_600_000
    assert plan(filters(userLogin="etl", direct="true")).dimension is Dimension.DIRECT


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"from": ["2"], "to": ["1"]}, "'from' is after 'to'"),
        ({"from": ["yesterday"]}, "from: must be milliseconds since the epoch or an ISO 8601 date-time"),
    ],
)
def test_a_refusal_speaks_dbguards_words_not_pydantics(query, said):
    with pytest.raises(InvalidQuery) as raised:
        EventFilters.of_query_string(query)
    assert str(raised.value) == said
    assert not [problem for problem in raised.value.problems if "Value error" in problem.message]
