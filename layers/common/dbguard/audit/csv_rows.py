"""A qhb_audit CSV record into the audit event it stands for (dbguard.audit.csv_columns), or the reason
it is refused; and the check that a file's first record is a qhb_audit header.

A row's id is not its content's hash (two identical rows at different lines are two events) but
its place: the file's key, the file's generation (a key rewritten from the start is a new
generation) and the line. The same row read again - a re-uploaded file, a retry, an overlap after
a timeout - has the same id, so the audit table's conditional write stores it once
(docs/audit-ingest.md, "CSV files").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dbguard.audit.csv_columns import (
    COLUMN_COUNT,
    COLUMNS,
    CSV_FORMAT_TAG,
    CSV_SERVICE_VERSION,
    ORIGIN_FIELD,
)
from dbguard.audit.csv_records import UTF8_BOM, RawRecord
from dbguard.audit.limits import LATEST_DATETIME_MS, MAX_EVENT_BYTES
from dbguard.audit.models import AuditEvent
from dbguard.audit.parsing import ParsedEvent, canonical_json, event_id
from dbguard.validation import problems_from

# C0 controls and DEL, but tab and line breaks (a quoted field may hold those)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
GZIP_MAGIC = b"\x1f\x8b"
MAX_QUARANTINED_ROW_CHARS = 2048  # what the quarantine keeps of a refused row


class RowRefused(ValueError):
    """A row that breaks the format; its message is the reason the quarantine records."""


class FileRefused(ValueError):
    """A file that is not a qhb_audit CSV file; its message says why."""


@dataclass(frozen=True)
class FileIdentity:
    key: str  # the object's key: <AuditCsvPrefix><source>/<name>
    source: str  # becomes serviceName
    generation: int  # 0, then one more each time the key is found rewritten from the start


def check_start(first_bytes: bytes, key: str) -> None:
    """Refuse a compressed file before looking for its first line (it may have no line break)."""
    if key.endswith(".gz"):
        if not first_bytes.startswith(GZIP_MAGIC):
            raise FileRefused("the file's name ends in .gz but it is not gzip-compressed")
        return
    if first_bytes.startswith(GZIP_MAGIC):
        raise FileRefused("the file is gzip-compressed but its name does not end in .gz")


def check_header(first: RawRecord) -> None:
    """Refuse a first record that is not qhb_audit's header (FileRefused says why)."""
    data = first.data.removeprefix(UTF8_BOM) if first.start == 0 else first.data
    if first.too_long or b"\x00" in data:
        raise FileRefused("the file is binary, not a qhb_audit CSV file")
    try:
        fields = _fields(data)
    except RowRefused as error:
        raise FileRefused(f"the first line is not a qhb_audit CSV header: {error}") from None
    if len(fields) != COLUMN_COUNT:
        raise FileRefused(
            f"the first line has {len(fields)} columns; a qhb_audit CSV header has {COLUMN_COUNT}"
        )
    try:
        _datetime_ms(fields[1])
    except RowRefused:
        return
    raise FileRefused("the first line is an event, not a header: qhb_audit starts every file with one")


def row_event(record: RawRecord, file: FileIdentity) -> ParsedEvent | None:
    """The stored event of a data row; None for an empty line. RowRefused says what is wrong."""
    if record.too_long:
        raise RowRefused("the row is longer than the limit (an unbalanced quote?)")
    if not record.data.strip():
        return None
    fields = _fields(record.data)
    if len(fields) != COLUMN_COUNT:
        raise RowRefused(f"the row has {len(fields)} columns; qhb_audit writes {COLUMN_COUNT}")
    document = _document(fields, record.line, file)
    try:
        event = AuditEvent.model_validate(document)
    except ValidationError as error:
        raise RowRefused("; ".join(f"{p.field}: {p.message}" for p in problems_from(error))) from None
    canonical = canonical_json(document)
    if len(canonical.encode("utf-8")) > MAX_EVENT_BYTES:
        raise RowRefused(f"the row makes an event of more than {MAX_EVENT_BYTES} bytes")
    return ParsedEvent(event=event, canonical=canonical, id=row_id(file, record.line))


def row_id(file: FileIdentity, line: int) -> str:
    return event_id(canonical_json([ORIGIN_FIELD, file.key, file.generation, line]))


def quarantined_text(record: RawRecord) -> str:
    """What the quarantine keeps of a refused row: its start, as text, undecodable bytes escaped."""
    return record.data[: MAX_QUARANTINED_ROW_CHARS * 4].decode("utf-8", "backslashreplace")[
        :MAX_QUARANTINED_ROW_CHARS
    ]


def _fields(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RowRefused(f"not UTF-8 text (byte {error.start + 1} of the row)") from None
    control = _CONTROL.search(text)
    if control:
        raise RowRefused(f"control character U+{ord(control.group()):04X} at character {control.start() + 1}")
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as error:
        raise RowRefused(f"bad CSV quoting: {error}") from None


def _document(fields: list[str], line: int, file: FileIdentity) -> dict[str, Any]:
    document: dict[str, Any] = {
        "tags": [CSV_FORMAT_TAG],
        "serviceName": file.source,
        "serviceVersion": CSV_SERVICE_VERSION,
        "params": [],
        ORIGIN_FIELD: {"key": file.key, "line": line, "time": fields[1]},
    }
    for column, value in zip(COLUMNS, fields, strict=True):
        if column.target == "Datetime":
            document["Datetime"] = _datetime_ms(value)
        elif column.target == "param":
            if value:
                document["params"].append({"Name": column.header, "Value": value})
        elif value or column.target != "userNode":  # no client host: no userNode, as in REST
            document[column.target] = value
    return document


def _datetime_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RowRefused(f"time {text[:40]!r} is not RFC 3339 (e.g. 2018-02-14T00:28:07Z)") from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise RowRefused(f"time {text[:40]!r} is not RFC 3339: it needs a date, a time and an offset")
    milliseconds = round(moment.timestamp() * 1000)
    if not 0 <= milliseconds <= LATEST_DATETIME_MS:
        raise RowRefused(f"time {text[:40]!r} is out of range")
    return milliseconds
