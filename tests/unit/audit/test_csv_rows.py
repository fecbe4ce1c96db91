"""A qhb_audit CSV row into the event it stands for (the column mapping), or a refusal with a reason;
a file's first line checked as qhb_audit's header; the row identity."""

import json

import pytest

from dbguard.audit.csv_columns import COLUMNS, HEADER
from dbguard.audit.csv_records import RawRecord
from dbguard.audit.csv_rows import FileIdentity, FileRefused, RowRefused, check_header, row_event, row_id

FILE = FileIdentity("qhb-audit/qhb-01/a.csv", "qhb-01", 0)
CONNECT = "connection attempt,2026-12-06T08:02:07Z,app_billing,billing,10.1.2.50,40259,true,,,,"


def record(text: str, line: int = 2, start: int = 100) -> RawRecord:
    data = text.encode()
    return RawRecord(line, start, start + len(data) + 1, line + 1, data)


def test_every_column_lands_in_its_rest_field_or_its_named_param():
    parsed = row_event(record(CONNECT), FILE)
    event = json.loads(parsed.canonical)
    assert (event["name"], event["Datetime"], event["userLogin"], event["userNode"]) == (
        "connection attempt", 1_796_544_127_000, "app_billing", "10.1.2.50"
    )  # fmt: skip
    assert event["params"] == [
        {"Name": "database", "Value": "billing"},
        {"Name": "remote_port", "Value": "40259"},
        {"Name": "success", "Value": "true"},
    ]
    assert (event["serviceName"], event["csvFile"]) == (
        "qhb-01", {"key": FILE.key, "line": 2, "time": "2026-12-06T08:02:07Z"}
    )  # fmt: skip
    assert len(COLUMNS) == len(HEADER) == 11


def test_the_id_is_the_rows_place_not_its_content():
    same_text_other_line = row_event(record(CONNECT, line=3), FILE)
    assert row_event(record(CONNECT), FILE).id != same_text_other_line.id
    assert row_event(record(CONNECT), FILE).id == row_id(FILE, 2)
    assert row_id(FileIdentity(FILE.key, FILE.source, 1), 2) != row_id(FILE, 2)  # a rewritten file


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a,b,c", "3 columns"),
        (CONNECT.replace("2026-12-06T08:02:07Z", "2026-12-06 08:02:07"), "RFC 3339"),
        (CONNECT.replace("2026-12-06T08:02:07Z", "2026-12-06T08:02:07"), "offset"),
        (CONNECT.replace("app_billing", "app\x00billing"), r"U\+0000"),
        (CONNECT.replace("app_billing", "x" * 300), "userLogin"),
        ('a,"b"c,d', "quoting"),
    ],
)
def test_a_broken_row_is_refused_with_its_reason(text, reason):
    with pytest.raises(RowRefused, match=reason):
        row_event(record(text), FILE)


def test_undecodable_bytes_are_refused():
    with pytest.raises(RowRefused, match="not UTF-8"):
        row_event(RawRecord(2, 0, 5, 3, b"\xff\xfe,a"), FILE)


def test_an_empty_line_is_skipped():
    assert row_event(record(""), FILE) is None


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (b"a,b", "2 columns"),
        (CONNECT.encode(), "an event, not a header"),
        (b"\x00\x01", "binary"),
    ],
)
def test_a_first_line_that_is_not_a_header_refuses_the_file(first, reason):
    with pytest.raises(FileRefused, match=reason):
        check_header(RawRecord(1, 0, len(first) + 1, 2, first))


def test_a_header_with_a_bom_is_a_header():
    check_header(RawRecord(1, 0, 10, 2, b"\xef\xbb\xbf" + ",".join(HEADER).encode()))
