"""Audit events as CSV in qhb_audit's own column order (its `csv_file` output, per the manual), so
an export lines up with what QHB writes locally.

qhb_audit's columns are positional: event name; time (RFC 3339); user; database (connection
attempts); remote host; remote port; success (connection attempts); table; new table name (renames);
database (DDL on a database); new database name (renames). Event parameters are recognised by
the name sets in dbguard.audit.params, compared the same forgiving way.

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

from dbguard.audit.params import DATABASE_PARAM_NAMES, SUCCESS_PARAM_NAMES, normalized_param_name

HEADER = (
    "name", "time", "user", "database", "remote_host", "remote_port", "success",
    "table", "new_table", "ddl_database", "new_database",
)  # fmt: skip
_PARAMS = {
    "remote_host": frozenset({"remotehost", "host", "clienthost", "clientaddr", "clientip", "remoteaddr"}),
    "remote_port": frozenset({"remoteport", "port", "clientport"}),
    "success": SUCCESS_PARAM_NAMES,
    "table": frozenset({"table", "tablename", "relname", "relation"}),
    "new_table": frozenset({"newtable", "newtablename", "newrelname"}),
    "new_database": frozenset({"newdatabase", "newdatabasename", "newdbname", "newdatname"}),
}


# Spreadsheets read a cell starting this way as a formula; leading blanks and quotes do not stop them.
_FORMULA_START = re.compile(r"[\s'\"]*[=+\-@\t\r]")


def to_csv(events: Iterable[dict[str, Any]]) -> str:
    """`events`: qhb_audit events as received. Quoting follows RFC 4180 (commas, quotes, newlines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for event in events:
        writer.writerow([neutralised(cell) for cell in _row(event)])
    # A lone surrogate (only a record written by hand can hold one) becomes "?": the body stays UTF-8.
    return buffer.getvalue().encode("utf-8", "replace").decode("utf-8")


def neutralised(cell: str) -> str:
    """The cell as text a spreadsheet will not evaluate (OWASP's single-quote prefix)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def _row(event: dict[str, Any]) -> list[str]:
    params = _params(event.get("params"))
    name = str(event.get("name", ""))
    database = _first(params, DATABASE_PARAM_NAMES)
    is_connection = "connect" in name.lower()
    is_database_ddl = name.upper().endswith("DATABASE")
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
        database if is_database_ddl else "",
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
