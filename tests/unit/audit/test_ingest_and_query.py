"""The audit services against in-memory fakes of their ports: exactly-once storage with the
announcement of each newly stored direct connection, and reading a page back with its cursor."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from dbguard.audit.cursor import CursorCodec
from dbguard.audit.direct import DirectConnectionRules
from dbguard.audit.filters import EventFilters, QueryPlan
from dbguard.audit.parsing import parse_body
from dbguard.audit.ports import IndexPage
from dbguard.errors import InvalidQuery, StorageUnavailable
from dbguard.services.audit_ingest import Ingest, IngestOutcome
from dbguard.services.audit_query import AuditSearch
from dbguard_testkit.samples import body_of, connection_event, ddl_event, direct_connection_event

RULES = DirectConnectionRules.of([ip_network("10.1.2.50/32")], [], ["connection attempt"])


class MemoryTable:
    """EventWriter and EventReader over a dict; `failing` ids raise StorageUnavailable on write."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.records: dict[str, dict] = {}
        self.failing = failing

    def put_all_if_absent(self, records):
        outcomes: list[bool | Exception] = []
        for record in records:
            if record["id"] in self.failing:
                outcomes.append(StorageUnavailable("injected", 5))
            else:
                outcomes.append(self.records.setdefault(record["id"], record) is record)
        return outcomes

    def get(self, event_id):
        return self.records.get(event_id)

    def page(self, query: QueryPlan, limit, after_ts):
        chosen = sorted(
            (r for r in self.records.values() if after_ts is None or r["ts"] < after_ts),
            key=lambda r: r["ts"], reverse=True,
        )  # fmt: skip
        more = len(chosen) > limit
        return IndexPage(chosen[:limit], chosen[limit - 1]["ts"] if more else None, len(chosen[: limit + 1]))


class Bus:
    def __init__(self) -> None:
        self.announced: list[str] = []

    def announce(self, connections):
        self.announced += [connection.id for connection in connections]


def store(table: MemoryTable, bus: Bus, *documents: dict):
    parsed = parse_body(body_of(list(documents)), 1 << 20)
    return parsed, Ingest(table, bus, RULES, retention_days=0).store(parsed.events, 1_785_000_000_000)


def test_each_event_is_stored_once_and_a_new_direct_connection_announced_once():
    table, bus = MemoryTable(), Bus()
    parsed, first = store(
        table, bus, direct_connection_event(), connection_event(), direct_connection_event()
    )
    assert [(r.duplicate, r.direct) for r in first] == [(False, True), (False, False), (True, True)]
    _, again = store(table, bus, direct_connection_event())
    assert again[0].duplicate
    assert bus.announced == [parsed.events[0].id]  # the retry announced nothing
    first_id, second_id = parsed.events[0].id, parsed.events[1].id
    assert IngestOutcome(first, is_batch=True).answer() == {
        "results": [
            {"id": first_id, "duplicate": False},
            {"id": second_id, "duplicate": False},
            {"id": first_id, "duplicate": True},
        ],
        "stored": 2,
        "duplicates": 1,
    }
    assert IngestOutcome(again, is_batch=False).answer() == {"id": first_id, "duplicate": True}


def test_a_failed_write_is_raised_after_the_stored_direct_connections_are_announced():
    direct = parse_body(body_of(direct_connection_event()), 1 << 20).events[0]
    failing = parse_body(body_of(ddl_event()), 1 << 20).events[0]
    table, bus = MemoryTable(failing=frozenset({failing.id})), Bus()
    with pytest.raises(StorageUnavailable):
        store(table, bus, direct_connection_event(), ddl_event())
    assert (list(table.records), bus.announced) == ([direct.id], [direct.id])


def test_a_search_pages_newest_first_with_a_signed_cursor():
    table = MemoryTable()
    store(table, Bus(), *(connection_event(Datetime=1_785_000_000_000 + i) for i in range(5)))
    search = AuditSearch(table, lambda: CursorCodec(b"k" * 32))
    query = {"from": ["1785000000000"], "to": ["1785000000010"], "limit": ["3"]}
    first = search.search(EventFilters.of_query_string(query)).page
    assert [e.event["Datetime"] for e in first.events] == [
        1_785_000_000_004,
        1_785_000_000_003,
        1_785_000_000_002,
    ]
    assert first.next_cursor
    rest = search.search(EventFilters.of_query_string({**query, "cursor": [first.next_cursor]})).page
    assert ([e.event["Datetime"] for e in rest.events], rest.next_cursor) == (
        [1_785_000_000_001, 1_785_000_000_000], None,
    )  # fmt: skip


def test_an_event_is_read_by_its_id_and_an_id_that_cannot_be_one_is_refused():
    table = MemoryTable()
    _, (result,) = store(table, Bus(), ddl_event())
    search = AuditSearch(table, lambda: CursorCodec(b"k" * 32))
    assert search.get(result.id).event == ddl_event()
    assert search.get("0" * 32) is None
    with pytest.raises(InvalidQuery, match="32 lowercase hex digits"):
        search.get("not-an-id")
