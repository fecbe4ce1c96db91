"""Audit events as CSV in qhb_audit's own column order (its `csv_file` output, per the manual), so
an export lines up with what QHB writes locally; then dbguard's event id, the event's serviceName
and its time in milliseconds, so that rows of the same second stay distinguishable.

qhb_audit's 11 columns are dbguard.audit.csv_columns'. A row imported from a CSV file gives back its
11 fields as written (its params carry the columns' names, `csvFile` its time as written); a REST
event's parameters are recognised by the name sets in dbguard.audit.params, compared the same
forgiving way: its database goes to `database` for a connection attempt, to `ddl_database` for
any other event.

Every cell is quoted and neutralised against formula injection (OWASP "CSV Injection"): a cell
whose first character, or first character after leading whitespace and quotes, is one of
= + - @ TAB CR gets a single quote (') in front, so spreadsheet programs show it as text instead
of running it. Quoting every cell keeps a `;` or a quote in a value from starting a new cell in
programs that split on another separator.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dbguard.audit.csv_columns import HEADER as QHB_HEADER
from dbguard.audit.csv_columns import ORIGIN_FIELD, PARAM_COLUMNS
from dbguard.audit.params import DATABASE_PARAM_NAMES, SUCCESS_PARAM_NAMES, normalized_param_name

HEADER = (*QHB_HEADER, "id", "service_name", "time_ms")
_PARAMS = {
    "remote_host": frozenset({"remotehost", "host", "clienthost", "clientaddr", "clientip", "remoteaddr"}),
    "remote_port": frozenset({"remoteport", "port", "clientport"}),
    "success": SUCCESS_PARAM_NAMES,
    "table": frozenset({"table", "tablename", "relname", "relation"}),
    "new_table": frozenset({"newtable", "newtablename", "newrelname"}),
    "new_database": frozenset({"newdatabase", "newdatabasename", "newdbname", "newdatname"}),
    "ddl_database": frozenset({"ddldatabase", "ddldatabasename"}),
}


# Spreadsheets read a cell starting this way as a formula; leading blanks and quotes do not stop them.
_FORMULA_START = re.compile(r"[\s'\"]*[=+\-@\t\r]")


def to_csv(events: Iterable[tuple[str, dict[str, Any]]]) -> str:
    """`events`: (dbguard's id, the qhb_audit event as received). Quoting follows RFC 4180 (commas,
    quotes, newlines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for event_id, event in events:
        qhb_columns = _imported_row(event) if isinstance(event.get(ORIGIN_FIELD), dict) else _row(event)
        datetime_ms = event.get("Datetime")
        ours = [
            event_id,
            str(event.get("serviceName", "")),
            str(datetime_ms) if type(datetime_ms) is int else "",
        ]
        writer.writerow([neutralised(cell) for cell in (*qhb_columns, *ours)])
    # A lone surrogate (only a record written by hand can hold one) becomes "?": the body stays UTF-8.
    return buffer.getvalue().encode("utf-8", "replace").decode("utf-8")


def neutralised(cell: str) -> str:
    """The cell as text a spreadsheet will not evaluate (OWASP's single-quote prefix)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def _imported_row(event: dict[str, Any]) -> list[str]:
    """A row imported from a CSV file: its 11 fields as the file had them."""
    by_name: dict[str, str] = {}
    for item in event.get("params") or []:
        if isinstance(item, dict):
            by_name.setdefault(str(item.get("Name", "")), str(item.get("Value", "")))
    time_as_written = event[ORIGIN_FIELD].get("time")
    cells = {
        "name": str(event.get("name", "")),
        "time": time_as_written if isinstance(time_as_written, str) else _rfc3339(event.get("Datetime")),
        "user": str(event.get("userLogin", "")),
        "remote_host": str(event.get("userNode") or ""),
        **{column: by_name.get(column, "") for column in PARAM_COLUMNS},
    }
    return [cells[column] for column in QHB_HEADER]


def _row(event: dict[str, Any]) -> list[str]:
    params = _params(event.get("params"))
    name = str(event.get("name", ""))
    database = _first(params, DATABASE_PARAM_NAMES)
    is_connection = "connect" in name.lower()
    return [
        name,
        _rfc3339(event.get("Datetime")),
        str(event.get("userLogin", "")),
        database if is_connection else "",
        _first(params, _PARAMS["remote_host"]) or str(event.get("userNode") or ""),
        _first(params, _PARAMS["remote_port"]),
        _first(params, _PARAMS["success"]),
        _first(params, _PARAMS["table"]),
        _first(params, _PARAMS["new_table"]),
        _first(params, _PARAMS["ddl_database"]) or ("" if is_connection else database),
        _first(params, _PARAMS["new_database"]),
    ]


def _params(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    pairs = []
    for item in value:
        if isinstance(item, dict):
            pairs.append((normalized_param_name(str(item.get("Name", ""))), str(item.get("Value", ""))))
    return pairs


def _first(params: list[tuple[str, str]], names: frozenset[str]) -> str:
    return next((value for name, value in params if name in names and value), "")


def _rfc3339(datetime_ms: Any) -> str:
    if not isinstance(datetime_ms, int):
        return ""
    try:
        return datetime.fromtimestamp(datetime_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # a record written around ingest's bounds
        return ""
