"""qhb_audit's CSV columns and the REST fields they become: the one definition of the mapping, read
by the import (dbguard.audit.csv_rows) and the export (dbguard.audit.csv_export); docs/audit-ingest.md
shows it as a table.

qhb_audit's `csv_file` output has 11 positional columns (its manual): event name; time (RFC 3339);
user; database (connection attempts); client host; client port; success (connection attempts);
table (DDL on a table); new table name (renames); database (DDL on a database); new database name
(renames). A row becomes a REST-shaped event: the name, time and user are the event's own fields,
the client host its `userNode` (so the direct-connection rule reads CSV rows as it reads REST
events), the source (the S3 key's folder) its `serviceName`; every other non-empty cell a param
named after its column. `csvFile` (an extra field, kept like any other) says where the row came from
and keeps the time exactly as written, so an export gives each row's 11 fields back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["name", "Datetime", "userLogin", "userNode", "param"]


@dataclass(frozen=True)
class Column:
    header: str  # dbguard's export header for the column
    target: Target  # the REST field it fills, or "param": a param named `header`


COLUMNS = (
    Column("name", "name"),
    Column("time", "Datetime"),
    Column("user", "userLogin"),
    Column("database", "param"),
    Column("remote_host", "userNode"),
    Column("remote_port", "param"),
    Column("success", "param"),
    Column("table", "param"),
    Column("new_table", "param"),
    Column("ddl_database", "param"),
    Column("new_database", "param"),
)
HEADER = tuple(column.header for column in COLUMNS)
COLUMN_COUNT = len(COLUMNS)
PARAM_COLUMNS = tuple(column.header for column in COLUMNS if column.target == "param")
ORIGIN_FIELD = "csvFile"  # {"source", "key", "line", "time"}: the row's file, line and time as written
CSV_FORMAT_TAG = "qhb_audit.csv_file"  # every imported row carries it in `tags`
CSV_SERVICE_VERSION = "csv"  # the CSV file does not say QHB's version; the REST field is required
