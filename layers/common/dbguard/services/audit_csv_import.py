"""Importing one qhb_audit CSV object into the audit table, from where the key's last import stopped.

- Exactly once: each row's id is its place (key, generation, line; dbguard.audit.csv_rows), written
  through the same Ingest as a REST request, whose conditional write stores an id once. Reading a
  row twice (a re-upload, a retry, the overlap after a timeout) stores nothing the second time.
- Cost grows with new data: a key imported before is read from its checkpoint on, after checking
  that its header and the last row read are still where they were (two small ranged reads); a file
  that fails the check, or got shorter, was rewritten from the start and is read as a new generation.
- Big files are streamed, in batches; the checkpoint is saved after each batch, and when the
  invocation's time runs short the import stops and says so (the handler queues its continuation).
- A row that breaks the format goes to the quarantine (line and reason) and the rest still loads;
  a file whose first line is not qhb_audit's header is refused whole and nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from dbguard.audit.csv_import import (
    Continuations,
    CsvObject,
    CsvObjects,
    FileProgress,
    FileState,
    ImportLedger,
    QueuedMessage,
    fingerprint,
    notified_objects,
)
from dbguard.audit.csv_records import CorruptCompression, RawRecord, gunzipped, limited, records, skipped
from dbguard.audit.csv_rows import (
    GZIP_MAGIC,
    FileIdentity,
    FileRefused,
    RowRefused,
    check_header,
    check_start,
    quarantined_text,
    row_event,
)
from dbguard.audit.parsing import ParsedEvent
from dbguard.metric_catalogue import (
    CSV_FILES_REFUSED,
    CSV_ROWS_DUPLICATE,
    CSV_ROWS_IMPORTED,
    CSV_ROWS_REFUSED,
)
from dbguard.observability import emit, logger
from dbguard.services.audit_ingest import Ingest

BATCH_ROWS = 100  # rows written together (the REST API's largest batch) between two checkpoints
# A batch takes well under a second; stopping this far from the timeout leaves time to checkpoint.
DEADLINE_MARGIN_MS = 10_000


@dataclass(frozen=True)
class ImportOutcome:
    progress: FileProgress
    finished: bool  # False: stopped for time; the import must be continued


class CsvImport:
    def __init__(
        self,
        ingest: Ingest,
        objects: CsvObjects,
        ledger: ImportLedger,
        prefix: str,
        clock_ms: Callable[[], int],
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._ingest = ingest
        self._objects = objects
        self._ledger = ledger
        self._prefix = prefix
        self._clock_ms = clock_ms
        self._batch_rows = batch_rows

    def run(self, notified: CsvObject, remaining_ms: Callable[[], int]) -> ImportOutcome | None:
        """Import what is new in the key's latest version; None when the key no longer exists."""
        file = self._objects.current(notified)
        if file is None:
            logger.info("CSV file gone before its import", extra={"key": notified.key})
            return None
        source = source_of(file.key, self._prefix)
        progress = self._ledger.progress(file.key) or FileProgress(file.key, source or "")
        if source is None:
            return self._refuse(progress, file, f"the key is not {self._prefix}<source>/<file name>")
        if progress.state == FileState.REFUSED:
            if progress.version_id == file.revision:
                return ImportOutcome(progress, finished=True)  # that version's answer stands
            # refused at its first line: read anew; refused later (a corrupt .gz): resume, as the
            # rows stored before the refusal keep their ids
            progress = progress.rewritten() if progress.offset == 0 else replace(progress, reason=None)
        if progress.offset and not self._unchanged(file, progress):
            logger.info("CSV file rewritten from the start: a new generation", extra={"key": file.key})
            progress = progress.rewritten()
        if progress.offset == file.size and not _compressed(file):
            return ImportOutcome(self._settled(progress, file, file.size), finished=True)  # nothing new
        try:
            return self._read(file, progress, remaining_ms)
        except (FileRefused, CorruptCompression) as error:
            return self._refuse(progress, file, str(error))

    def _unchanged(self, file: CsvObject, progress: FileProgress) -> bool:
        if file.size < progress.offset and not _compressed(file):
            return False
        try:
            header = b"".join(self._stream(file, 0, progress.header_end))
            if fingerprint(_without_line_break(header)) != progress.header_hash:
                return False
            tail = b"".join(self._stream(file, progress.tail_start, progress.offset))
        except CorruptCompression:
            return False
        return fingerprint(_without_line_break(tail)) == progress.tail_hash

    def _stream(self, file: CsvObject, start: int, end: int | None = None) -> Iterator[bytes]:
        """The file's bytes [start, end): for a .gz file, of its decompressed text (decompressed from
        its first byte: a compressed file cannot be entered in the middle)."""
        if not _compressed(file):
            return self._objects.chunks(file, start, end)
        text = skipped(gunzipped(self._objects.chunks(file, 0)), start)
        return text if end is None else limited(text, end - start)

    def _read(
        self, file: CsvObject, progress: FileProgress, remaining_ms: Callable[[], int]
    ) -> ImportOutcome:
        if progress.offset == 0:
            check_start(b"".join(self._objects.chunks(file, 0, len(GZIP_MAGIC))), file.key)
        text = _Counted(self._stream(file, progress.offset), progress.offset)
        found = records(text, progress.offset, progress.line)
        if progress.offset == 0:
            header = next(found, None)
            if header is None:  # not even a whole first line yet
                return ImportOutcome(self._settled(progress, file, text.end), finished=True)
            check_header(header)
            progress = replace(progress, header_end=header.end, header_hash=fingerprint(header.data))
            progress = _past(progress, header)
        identity = FileIdentity(file.key, progress.source, progress.generation)
        for batch in _batches(found, self._batch_rows):
            progress = self._store(batch, identity, replace(progress, version_id=file.revision))
            self._ledger.save(progress)
            more = _compressed(file) or progress.offset < file.size  # a .gz file's text size is unknown
            if remaining_ms() < DEADLINE_MARGIN_MS and more:
                logger.info("CSV import paused for time", extra={"key": file.key, "offset": progress.offset})
                return ImportOutcome(progress, finished=False)
        return ImportOutcome(self._settled(progress, file, text.end), finished=True)

    def _store(self, batch: list[RawRecord], identity: FileIdentity, progress: FileProgress) -> FileProgress:
        events: list[ParsedEvent] = []
        now = self._clock_ms()
        refused = 0
        for record in batch:
            try:
                event = row_event(record, identity)
            except RowRefused as error:
                refused += self._ledger.quarantine(
                    progress, record.line, str(error), quarantined_text(record), now
                )
                continue
            if event is not None:
                events.append(event)
        results = self._ingest.store(events, now) if events else []
        created = sum(not result.duplicate for result in results)
        emit(CSV_ROWS_IMPORTED, created)
        emit(CSV_ROWS_DUPLICATE, len(results) - created)
        emit(CSV_ROWS_REFUSED, refused)
        progress = replace(
            progress,
            rows_imported=progress.rows_imported + created,
            rows_duplicate=progress.rows_duplicate + len(results) - created,
            rows_refused=progress.rows_refused + refused,
            updated_at_ms=now,
        )
        return _past(progress, batch[-1])

    def _settled(self, progress: FileProgress, file: CsvObject, end: int) -> FileProgress:
        """Read to the end (`end`, in bytes of text): imported, or waiting for the rest of a line
        still being written."""
        state = FileState.IMPORTED if progress.offset == end else FileState.WAITING
        settled = replace(progress, state=state, version_id=file.revision, updated_at_ms=self._clock_ms())
        self._ledger.save(settled)
        return settled

    def _refuse(self, progress: FileProgress, file: CsvObject, reason: str) -> ImportOutcome:
        emit(CSV_FILES_REFUSED, 1)
        logger.warning("CSV file refused", extra={"key": file.key, "reason": reason})
        refused = replace(progress.refused(reason, file.revision), updated_at_ms=self._clock_ms())
        self._ledger.save(refused)
        return ImportOutcome(refused, finished=True)


def source_of(key: str, prefix: str) -> str | None:
    """<prefix><source>/<name>: the source, or None for a key laid out otherwise."""
    if not key.startswith(prefix):
        return None
    source, slash, name = key[len(prefix) :].partition("/")
    return source if slash and source and name and len(source) <= 256 else None


def _past(progress: FileProgress, record: RawRecord) -> FileProgress:
    """Read up to the end of `record`, which becomes the fingerprinted last row."""
    return replace(
        progress,
        offset=record.end,
        line=record.next_line,
        tail_start=record.start,
        tail_hash=fingerprint(record.data),
        state=FileState.IMPORTING,
    )


def _compressed(file: CsvObject) -> bool:
    return file.key.endswith(".gz")


class _Counted:
    """Chunks passed on, counting where they end (the text's size, once read to the end)."""

    def __init__(self, chunks: Iterator[bytes], start: int) -> None:
        self._chunks = chunks
        self.end = start

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.end += len(chunk)
            yield chunk


def _without_line_break(data: bytes) -> bytes:
    return data.removesuffix(b"\n").removesuffix(b"\r")


def _batches(found: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in found:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class CsvImportQueue:
    """A batch of S3 notifications (or continuations): each named object imported, an import that
    stops for time continued by a message of its own; a message that fails comes back from SQS."""

    def __init__(self, importer: CsvImport, continuations: Continuations) -> None:
        self._import = importer
        self._continuations = continuations

    def consume(self, messages: list[QueuedMessage], remaining_ms: Callable[[], int]) -> list[str]:
        """The message ids SQS must deliver again."""
        retry = []
        for message in messages:
            try:
                files = notified_objects(message.body)
            except (ValueError, KeyError, TypeError) as error:  # not S3's, not ours: retrying cannot help
                logger.error(
                    "CSV import message ignored", extra={"id": message.message_id, "error": str(error)}
                )
                continue
            try:
                for file in files:
                    self._one(file, remaining_ms)
            except Exception:
                logger.exception("CSV import failed; SQS will retry it", extra={"id": message.message_id})
                retry.append(message.message_id)
        return retry

    def _one(self, file: CsvObject, remaining_ms: Callable[[], int]) -> None:
        if remaining_ms() < DEADLINE_MARGIN_MS:
            self._continuations.send(file)
            return
        outcome = self._import.run(file, remaining_ms)
        if outcome is None:
            return
        if not outcome.finished:
            self._continuations.send(file)
        logger.info(
            "CSV import",
            extra={
                "key": file.key,
                "state": outcome.progress.state.value,
                "offset": outcome.progress.offset,
                "rows_imported": outcome.progress.rows_imported,
                "rows_refused": outcome.progress.rows_refused,
            },
        )
