"""audit_csv_import: rows per second, the cost of a CSV row as a ratio to a REST event's (the batch
path: 100 events per POST), and memory for a big file.

Both functions run as shipped, their AWS clients answered in memory after each request is
serialised and signed (bench.harness.stub_http); the CSV file is served from memory in place of
S3. Memory: a file streamed through the import (storage answered by a no-op) in a child process, at
two sizes; flat means the larger file's peak is no larger than the smaller's. BENCH_CSV_MB sets the
larger size (default 32 MB; 1024 for the 1 GB file of issue 23, about 10 million rows, which takes
several minutes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench.harness import (
    FAKE_AWS,
    REPO_ROOT,
    cold_start,
    per_call_seconds,
    report,
    stub_http,
    template_function,
)
from dbguard_local.apigateway import proxy_event
from dbguard_local.functions import LambdaContext
from dbguard_testkit.csv_files import file_bytes, generated
from dbguard_testkit.samples import body_of, connection_event

ROWS, ROUNDS = 1_000, 5
SMALL_MB, LARGE_MB = 4, int(os.environ.get("BENCH_CSV_MB", "32"))
KEY = "qhb-audit/qhb-bench-01/qhb_audit.csv"


def run() -> dict[str, float]:
    csv_import, context = _loaded("AuditCsvImportFunction")
    data = file_bytes(ROWS)
    csv_import.parts.queue._import._objects = MemoryObjects(data)
    ingest, ingest_context = _loaded("AuditIngestFunction")
    batches = [
        body_of([connection_event(Datetime=1_785_000_000_000 + batch * 100 + i) for i in range(100)])
        for batch in range(ROWS // 100)
    ]

    def import_file() -> None:
        answer = _quietly(csv_import.lambda_handler, _notification(len(data)), context)
        assert answer == {"batchItemFailures": []}, answer

    def post_batches() -> None:
        for body in batches:
            response = _quietly(ingest.lambda_handler, _post(body), ingest_context)
            assert response["statusCode"] in (200, 201), response

    per_file, per_rest = per_call_seconds(import_file, 1, ROUNDS, post_batches)
    small, large = _peak_mb(SMALL_MB), _peak_mb(LARGE_MB)
    results = {
        "csv_rows_per_second": ROWS / per_file,
        "csv_row_cost_ratio": per_file / per_rest,
        "csv_memory_mb": large,
        "csv_memory_growth_ratio": large / small,
    }
    report(
        "audit_csv_import (baseline: the REST batch path, 100 events per POST, per event)",
        [
            ("rows per second, one function", f"{ROWS / per_file:7.0f}"),
            ("per row vs per REST event", _versus(per_file / ROWS, per_rest / ROWS)),
            (f"peak memory, {SMALL_MB} MB vs {LARGE_MB} MB file", f"{small:7.0f} MB vs {large:.0f} MB"),
        ],
    )  # fmt: skip
    return results


def _versus(row: float, event: float) -> str:
    return f"{row * 1e6:7.0f} µs vs {event * 1e6:6.0f} µs   ratio {row / event:.2f}"


def _loaded(logical_id: str) -> tuple[Any, LambdaContext]:
    spec = template_function(logical_id)
    os.environ.update({**spec.environment, **FAKE_AWS, "POWERTOOLS_LOG_LEVEL": "WARNING"})
    module = cold_start(spec)
    for client in _clients(module):
        stub_http(client)
    return module, LambdaContext(spec, "eu-central-1", "123456789012")


def _clients(module: Any) -> list[Any]:
    """Every AWS client the function's graph holds (the lazily made ones made now)."""
    ingest = module.parts.queue._import._ingest if hasattr(module, "parts") else module.audit.ingest
    clients = [ingest.writer._dynamodb, ingest.sources._dynamodb._made]
    if hasattr(module, "parts"):
        importer = module.parts.queue._import
        clients += [importer._ledger._dynamodb._made, importer._objects._s3._made]
        clients.append(module.parts.queue._continuations._sqs._made)
    return clients


class MemoryObjects:
    """The file in place of S3 (dbguard.audit.csv_import.CsvObjects)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def current(self, file: Any) -> Any:
        return file

    def chunks(self, file: Any, start: int, end: int | None = None) -> Iterator[bytes]:
        stop = len(self._data) if end is None else end
        for at in range(start, stop, 1024 * 1024):
            yield self._data[at : min(at + 1024 * 1024, stop)]


class GeneratedObjects:
    """A file of `total` bytes made as it is read: a big file without holding it anywhere."""

    def __init__(self, total: int) -> None:
        self._total = total
        self.size = sum(len(chunk) for chunk in generated(total))

    def current(self, file: Any) -> Any:
        return file

    def chunks(self, file: Any, start: int, end: int | None = None) -> Iterator[bytes]:
        stop, at = self.size if end is None else end, 0
        for chunk in generated(self._total):
            if at + len(chunk) > start and at < stop:
                yield chunk[max(0, start - at) : stop - at]
            at += len(chunk)
            if at >= stop:
                return


class NoWrites:
    def put_all_if_absent(self, records: list[dict[str, Any]]) -> list[bool | Exception]:
        return [True] * len(records)


def _peak_mb(megabytes: int) -> float:
    """The peak resident memory of a child process importing a generated file of `megabytes`."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(REPO_ROOT / 'layers' / 'common')!r}); "
        "from bench.audit_csv_import import import_generated; "
        f"print(json.dumps(import_generated({megabytes})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=3600
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"])


def import_generated(megabytes: int) -> dict[str, float]:
    module, _ = _loaded("AuditCsvImportFunction")
    importer = module.parts.queue._import
    objects = GeneratedObjects(megabytes * 1024 * 1024)
    importer._objects = objects
    importer._ingest = dataclasses.replace(importer._ingest, writer=NoWrites())
    started = time.perf_counter()
    answer = _quietly(module.lambda_handler, _notification(objects.size), _NeverLate())
    assert answer == {"batchItemFailures": []}, answer
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes
    return {"peak_mb": peak_kb / 1024, "seconds": time.perf_counter() - started}


class _NeverLate:
    function_name = "audit_csv_import"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _notification(size: int) -> dict[str, Any]:
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "bench"}, "object": {"key": KEY, "size": size}},
    }
    return {"Records": [{"messageId": "bench", "body": json.dumps({"Records": [record]})}]}


def _post(body: bytes) -> dict:
    return proxy_event("POST", "/audit/events", resource="/audit/events", body=body, query={"token": ["t"]})


def _quietly(handler: Any, event: Any, context: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # metrics are printed (EMF) on every call
        return handler(event, context)
