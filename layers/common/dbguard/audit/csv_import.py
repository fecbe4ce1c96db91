"""What an import of qhb_audit CSV files keeps per file, and what it needs from S3 and its table
(adapters in dbguard.adapters implement the ports).

One progress record per S3 key: how far the file is imported (byte offset and line), fingerprints
of the header and of the last imported row (to tell a grown file from a rewritten one), counts and
state. Refused rows go to a quarantine beside it, each with its line and reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Protocol
from urllib.parse import unquote_plus


class FileState(StrEnum):
    IMPORTING = "importing"  # more to read: the next invocation continues from the checkpoint
    IMPORTED = "imported"  # every complete row up to the object's end
    WAITING = "waiting"  # imported up to a line still being written (no line break yet)
    REFUSED = "refused"  # not a qhb_audit CSV file: nothing stored (`reason`)


@dataclass(frozen=True)
class CsvObject:
    """An object an S3 notification (or a continuation) names."""

    bucket: str
    key: str
    size: int
    version_id: str | None = None
    etag: str | None = None  # the content's identity where the bucket keeps no versions

    @property
    def revision(self) -> str | None:
        return self.version_id or self.etag


@dataclass(frozen=True)
class FileProgress:
    key: str
    source: str
    generation: int = 0  # one more each time the key is found rewritten from the start
    offset: int = 0  # bytes read: every complete record before it is imported or quarantined
    line: int = 1  # the line that starts at `offset`
    header_end: int = 0
    header_hash: str = ""  # fingerprint of bytes [0, header_end)
    tail_start: int = 0
    tail_hash: str = ""  # fingerprint of the last record read, [tail_start, offset) without its line break
    rows_imported: int = 0  # rows this key's current generation stored
    rows_duplicate: int = 0  # rows found stored already (a re-read after a retry or a timeout)
    rows_refused: int = 0  # rows quarantined
    state: FileState = FileState.IMPORTING
    reason: str | None = None  # why the file was refused
    version_id: str | None = None  # the object version (or ETag) last read
    updated_at_ms: int = 0

    def rewritten(self) -> FileProgress:
        """The key holds another file now: a new generation, read from the start."""
        return FileProgress(self.key, self.source, generation=self.generation + 1)

    def refused(self, reason: str, version_id: str | None) -> FileProgress:
        return replace(self, state=FileState.REFUSED, reason=reason, version_id=version_id)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


class CsvObjects(Protocol):
    def current(self, file: CsvObject) -> CsvObject | None:
        """The key's latest version (None: the key is gone). Notifications may arrive out of order:
        an import always reads the newest, which holds everything an older version of a growing
        file held."""
        ...

    def chunks(self, file: CsvObject, start: int, end: int | None = None) -> Iterator[bytes]:
        """The object's bytes [start, end) (to its end when `end` is None), streamed."""
        ...


class ImportLedger(Protocol):
    def progress(self, key: str) -> FileProgress | None: ...

    def save(self, progress: FileProgress) -> None: ...

    def quarantine(self, progress: FileProgress, line: int, reason: str, row: str, at_ms: int) -> bool:
        """Keep a refused row; True unless that line of that generation was quarantined before."""
        ...


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    body: str


class Continuations(Protocol):
    def send(self, file: CsvObject) -> None:
        """Queue the rest of an import that stopped for time (the next invocation continues it)."""
        ...


_CONTINUE = "dbguardCsvImportContinues"


def notified_objects(body: str) -> list[CsvObject]:
    """The objects an SQS message names: an S3 event notification's created objects, or an import
    dbguard queued to continue. S3's test event and other event types name none."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("the message is not a JSON object")
    if _CONTINUE in document:
        return [CsvObject(**document[_CONTINUE])]
    return [
        CsvObject(
            bucket=record["s3"]["bucket"]["name"],
            key=unquote_plus(record["s3"]["object"]["key"]),  # S3 sends the key URL-encoded
            size=int(record["s3"]["object"].get("size", 0)),
            version_id=record["s3"]["object"].get("versionId") or None,
        )
        for record in document.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated:")
    ]


def continuation_body(file: CsvObject) -> str:
    return json.dumps({_CONTINUE: asdict(file)})
