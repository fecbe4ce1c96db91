"""CSV export: no cell reaches a spreadsheet as a formula (OWASP "CSV Injection")."""

import csv
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbguard.audit.csv_export import HEADER, to_csv
from dbguard_testkit.samples import connection_event, ddl_event

FORMULA_START = re.compile(r"[\s'\"]*[=+\-@\t\r]")


def exported(event) -> list[str]:
    header, row = csv.reader(io.StringIO(to_csv([("0" * 32, event)]), newline=""))
    assert header == list(HEADER)
    return row


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        " =1+1",
        "'=1+1",
        '"=1+1',
        "\u00a0 =1+1",
    ],
)
def test_a_cell_that_a_spreadsheet_would_evaluate_gets_a_single_quote_in_front(value):
    event = connection_event(name=value, userLogin=value, userNode=value)
    event["params"] = [{"Name": "table_name", "Value": value}, {"Name": "remote_port", "Value": value}]
    row = exported(event)
    cells = [row[HEADER.index(column)] for column in ("name", "user", "remote_host", "remote_port", "table")]
    assert cells == ["'" + value] * 5


@pytest.mark.parametrize("value", ["app_billing", "10.1.2.50", "a=b", "x-1", "", "2026-11-24", "'quoted'"])
def test_ordinary_cells_are_left_as_they_are(value):
    assert exported(ddl_event(userLogin=value))[HEADER.index("user")] == value


def test_every_cell_is_quoted_so_another_separator_cannot_start_a_new_cell():
    text = to_csv([("0" * 32, ddl_event(userLogin="a;=1+1"))])
    assert '"a;=1+1"' in text
    assert all(line.startswith('"') for line in text.splitlines())


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_a_cell_is_exported_as_is_or_with_one_quote_exactly_when_it_starts_a_formula(value):
    row = exported(ddl_event(name=value, userLogin=value))
    expected = "'" + value if FORMULA_START.match(value) else value
    assert row[HEADER.index("name")] == row[HEADER.index("user")] == expected


def test_a_lone_surrogate_in_a_stored_value_cannot_break_the_utf8_body():
    assert exported(ddl_event(userLogin="a\ud800b"))[HEADER.index("user")] == "a?b"


def test_after_qhb_audits_eleven_columns_come_the_id_the_service_and_the_time_in_ms():
    assert HEADER[:11] == (
        "name", "time", "user", "database", "remote_host", "remote_port", "success",
        "table", "new_table", "ddl_database", "new_database",
    )  # fmt: skip
    assert HEADER[11:] == ("id", "service_name", "time_ms")
    row = exported(ddl_event(Datetime=1_785_000_000_123))
    assert row[11:] == ["0" * 32, "qhb-billing-01", "1785000000123"]


def test_a_hundred_drops_in_the_same_second_are_a_hundred_distinguishable_rows():
    events = [(f"{i:032x}", ddl_event(Datetime=1_785_000_000_000 + i)) for i in range(100)]
    rows = list(csv.reader(io.StringIO(to_csv(events), newline="")))[1:]
    assert len({tuple(row) for row in rows}) == 100
    assert len({row[1] for row in rows}) == 1  # the same second in the RFC 3339 column


def test_the_ddl_database_column_is_filled_when_a_ddl_event_has_a_database():
    event = ddl_event(name="CREATE TABLE", params=[{"Name": "database", "Value": "billing"}])
    row = exported(event)
    assert (row[HEADER.index("database")], row[HEADER.index("ddl_database")]) == ("", "billing")
    connection = exported(connection_event())
    assert (connection[HEADER.index("database")], connection[HEADER.index("ddl_database")]) == ("billing", "")
