"""The CSV import against in-memory fakes of S3, its table and the audit table: the same file three
times, a growing file read only from where it stopped (bytes actually read are counted), a pause for
time and its continuation, a direct connection in a CSV row announced once, the source seen."""

from __future__ import annotations

from dataclasses import replace

from dbguard.audit.csv_import import CsvObject, FileProgress
from dbguard.services.audit_csv_import import CsvImport
from dbguard.services.audit_ingest import Ingest
from dbguard_testkit.csv_files import HEADER, file_bytes, rows_text
from dbguard_testkit.fakes.sources import InMemorySources
from tests.unit.audit.test_ingest_and_query import RULES, Bus, MemoryTable

KEY = "qhb-audit/qhb-01/qhb_audit.csv"


class Objects:
    def __init__(self) -> None:
        self.data = b""
        self.bytes_read = 0

    def current(self, file):
        return replace(file, size=len(self.data))

    def chunks(self, file, start, end=None):
        part = self.data[start : len(self.data) if end is None else end]
        self.bytes_read += len(part)
        yield part


class Ledger:
    def __init__(self) -> None:
        self.saved: dict[str, FileProgress] = {}
        self.quarantined: dict[tuple[str, int, int], str] = {}

    def progress(self, key):
        return self.saved.get(key)

    def save(self, progress):
        self.saved[progress.key] = progress

    def quarantine(self, progress, line, reason, row, at_ms):
        return self.quarantined.setdefault((progress.key, progress.generation, line), reason) == reason


def world(batch_rows: int = 100):
    objects, ledger, table, bus, sources = Objects(), Ledger(), MemoryTable(), Bus(), InMemorySources()
    ingest = Ingest(table, bus, RULES, retention_days=0, sources=sources)
    importer = CsvImport(ingest, objects, ledger, "qhb-audit/", lambda: 1_796_600_000_000, batch_rows)
    return objects, ledger, table, bus, sources, importer


def put(objects: Objects, data: bytes) -> CsvObject:
    objects.data = data
    return CsvObject("bucket", KEY, len(data))


def plenty() -> int:
    return 900_000


def test_three_uploads_of_one_file_store_it_once_and_read_it_once():
    objects, ledger, table, _, sources, importer = world()
    for _ in range(3):
        importer.run(put(objects, file_bytes(120)), plenty)
    assert len(table.records) == 120
    assert ledger.saved[KEY].rows_imported == 120
    assert objects.bytes_read < len(objects.data) + 2 * 300  # the later uploads: two small checks
    assert sources.by_source["qhb-01"].last_seen_ms == 1_796_600_000_000


def test_a_growing_file_costs_its_new_rows_not_its_size():
    objects, _, table, _, _, importer = world()
    text = HEADER + rows_text(0, 1_000)
    importer.run(put(objects, text.encode()), plenty)
    read_before = objects.bytes_read
    importer.run(put(objects, (text + rows_text(1_000, 10)).encode()), plenty)
    assert len(table.records) == 1_010
    assert objects.bytes_read - read_before < len(rows_text(1_000, 10)) + 300


def test_an_import_short_of_time_pauses_at_a_checkpoint_and_continues_from_it():
    objects, ledger, table, _, _, importer = world(batch_rows=50)
    file = put(objects, file_bytes(500))
    checks = iter([900_000, 900_000, 1_000])
    first = importer.run(file, lambda: next(checks))
    assert not first.finished
    assert len(table.records) == ledger.saved[KEY].rows_imported == 150
    second = importer.run(file, plenty)
    assert second.finished
    assert len(table.records) == 500
    assert replace(ledger.saved[KEY]).rows_duplicate == 0


def test_a_direct_connection_in_a_row_is_announced_once():
    objects, _, table, bus, _, importer = world()
    row = "connection attempt,2026-12-06T22:04:17Z,petrova,billing,192.168.7.23,60412,true,,,,\n"
    file = put(objects, (HEADER + row).encode())
    importer.run(file, plenty)
    importer.run(replace(file, version_id="2"), plenty)
    (stored,) = table.records.values()
    assert stored["direct"] is True
    assert bus.announced == [stored["id"]]
