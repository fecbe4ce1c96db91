"""audit_digest and the verifier: a million events in one hour's digest, and verification speed.

1. **Digest of 1,000,000 events in one invocation** (a child process, so its peak memory is its
   own): the function's own path - StoredHourReader's 16 parallel queries through a real botocore
   client, whose requests are serialised, signed and answered in memory with 1 MB pages of realistic
   items (1,000 pages), the canonical form and SHA-256 of each item, the hash tree, the document,
   gzip, an RSA-4096 PKCS#1 v1.5 signature (locally: KMS signs 32 bytes either way), the put.
   Baseline, same run, same pages: reading the items alone (botocore's parsing, which is most of
   the work DynamoDB leaves to the caller). Figures: seconds, peak RSS, and the ratio.
2. **Verification against the embedded AWS** (moto in process, template resources): 20,000 events
   stored in one hour, digested with the template's KMS key into the locked bucket, then
   `dbguard_verify` run over the hour: events/s. Baseline: reading the hour's items from moto alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from typing import Any

from bench.harness import FAKE_AWS, REPO_ROOT, deployed_in_moto, report

EVENTS = 1_000_000
PAGE_ITEMS = 1_000  # about 1 MB of items: DynamoDB's page
VERIFY_EVENTS = 5_000
OWN_WORK_ROUNDS = 8  # the verifier's own work, on the same events held in memory
_PAGE_MARK = "ffffffff"  # the ids' first 8 hex digits: each page served gets its own (distinct ids)
HOUR = 499_000  # an hour in 2026


def _items(count: int, hour: int) -> list[dict[str, Any]]:
    """Items as audit_ingest stores them (index attributes, raw payload, storage hour), wire form."""
    from dbguard.adapters.dynamodb import to_item
    from dbguard.audit.parsing import parse_body
    from dbguard.audit.records import audit_record
    from dbguard.digest.hours import HOUR_MS, storage_attributes
    from dbguard_testkit.samples import body_of, connection_event

    events = body_of([connection_event(Datetime=1_785_000_000_000 + number) for number in range(100)])
    records = [audit_record(parsed, hour * HOUR_MS, 365) for parsed in parse_body(events, 10**7).events]
    items = []
    for number in range(count):
        record = dict(records[number % len(records)])
        record["id"] = _PAGE_MARK + hashlib.sha256(str(number).encode()).hexdigest()[8:32]
        items.append(to_item({**record, **storage_attributes(record["id"], hour * HOUR_MS + number)}))
    return items


def child() -> None:
    """Run in its own process: prints {"digest_seconds", "read_seconds", "peak_mb", "events"}."""
    os.environ.update(FAKE_AWS)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from dbguard.adapters.stored_hours import StoredHourReader
    from dbguard.services.audit_digest import DigestRun, DigestWriter

    more = {"LastEvaluatedKey": {"id": {"S": _PAGE_MARK}}}  # the next page's
    items = _items(PAGE_ITEMS, HOUR)
    page = json.dumps({"Items": items, "Count": PAGE_ITEMS, "ScannedCount": PAGE_ITEMS, **more}).encode()
    last = json.dumps({"Items": [], "Count": 0, "ScannedCount": 0}).encode()
    reader = StoredHourReader.create_for("audit")
    pages = _serve_pages(reader._dynamodb, page, last)
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)

    class Signer:
        key_id = "local-rsa-4096"

        def sign(self, message: bytes) -> bytes:
            return key.sign(message, padding.PKCS1v15(), hashes.SHA256())

        def key_state(self) -> str:
            return "Enabled"

    class Bucket:
        size = 0

        def create(self, hour: int, document: bytes) -> bool:
            from dbguard.digest.document import pack

            Bucket.size = len(pack(document))
            return True

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    writer = DigestWriter(reader, Bucket(), Signer(), "audit", 300)  # type: ignore[arg-type]
    reads, run = [], DigestRun()
    for step in ("read", "digest", "read"):  # the baseline on both sides: the machine is shared
        pages.reset(EVENTS // PAGE_ITEMS)
        started = time.perf_counter()
        if step == "read":
            read = sum(1 for _ in reader.items(HOUR))
            reads.append(time.perf_counter() - started)
        else:
            writer.write(HOUR, None, run)
            digest_seconds = time.perf_counter() - started
    read_seconds = sum(reads) / len(reads)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"digest_seconds": digest_seconds, "read_seconds": read_seconds, "events": run.events,
                      "read": read, "peak_mb": peak / 1024, "before_mb": before / 1024,
                      "object_mb": Bucket.size / 2**20}))  # fmt: skip


class _Pages:
    """Answers each Query with the next 1 MB page until `remaining` pages were served (any shard)."""

    def __init__(self, page: bytes, last: bytes) -> None:
        self.page, self.last, self.remaining = page, last, 0
        self._lock = threading.Lock()

    def reset(self, pages: int) -> None:
        self.remaining = pages

    def body(self) -> bytes:
        with self._lock:  # the 16 shards' threads
            self.remaining -= 1
            number = self.remaining
        if number < 0:
            return self.last
        return self.page.replace(_PAGE_MARK.encode(), f"{number:08x}".encode())


def _serve_pages(client: Any, page: bytes, last: bytes) -> _Pages:
    from botocore.awsrequest import AWSResponse

    pages = _Pages(page, last)

    class Raw:
        def __init__(self, payload: bytes) -> None:
            self.payload = payload

        def stream(self, **_: Any) -> Any:
            yield self.payload

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"x-amzn-requestid": "bench"}, Raw(pages.body()))

    client.meta.events.register("before-send", answer)
    return pages


def _digest_million() -> dict[str, float]:
    code = "import sys; sys.path.insert(0, 'layers/common'); from bench.audit_digest import child; child()"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=1800
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _verify_speed() -> dict[str, float]:
    import boto3

    from dbguard.adapters.digest_bucket import S3DigestBucket
    from dbguard.adapters.kms_signer import KmsSigner
    from dbguard.adapters.stored_hours import StoredHourReader
    from dbguard.digest.hours import HOUR_MS, label
    from dbguard.services.audit_digest import DigestWriter
    from dbguard_verify import keys
    from dbguard_verify.run import verify
    from dbguard_verify.sources import Deployment

    with deployed_in_moto() as template:
        table, bucket = template.physical_ids["AuditEventsTable"], template.physical_ids["DigestBucket"]
        key = template.attributes[("DigestSigningKey", "Arn")]
        dynamodb, s3, kms = boto3.client("dynamodb"), boto3.client("s3"), boto3.client("kms")
        items = _items(VERIFY_EVENTS, HOUR)
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            dynamodb.batch_write_item(RequestItems={table: requests})
        writer = DigestWriter(StoredHourReader(table, dynamodb), S3DigestBucket(bucket, s3),
                              KmsSigner(key, kms), table, 300)  # fmt: skip
        writer.run((HOUR + 1) * HOUR_MS + 301_000, lambda: 10**9)
        source = Deployment(s3, bucket, dynamodb, table)
        trusted = keys.verifier(keys.from_kms(kms, key))
        started = time.perf_counter()
        stored = list(source.items(HOUR))
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = verify(source, range(HOUR, HOUR + 1), trusted, lambda *_: None)
        verify_seconds = time.perf_counter() - started
        held = _Held(source.versions(HOUR - 1), source.versions(HOUR), stored)
        started = time.perf_counter()
        for _ in range(OWN_WORK_ROUNDS):
            assert not verify(held, range(HOUR, HOUR + 1), trusted, lambda *_: None).findings
        own_seconds = (time.perf_counter() - started) / OWN_WORK_ROUNDS
    assert not result.findings, label(HOUR)
    assert len(stored) == VERIFY_EVENTS, len(stored)
    return {"verify_seconds": verify_seconds, "read_seconds": read_seconds, "own_seconds": own_seconds}


class _Held:
    """The hour's digest and items already read: what verification does besides reading them."""

    def __init__(self, before: list[bytes], versions: list[bytes], items: list[dict[str, Any]]) -> None:
        self._versions = {HOUR - 1: before, HOUR: versions}
        self._items = items

    def versions(self, hour: int) -> list[bytes]:
        return self._versions.get(hour, [])

    def items(self, hour: int) -> Any:
        return iter(self._items)


def run() -> dict[str, float]:
    million = _digest_million()
    speed = _verify_speed()
    per_second = VERIFY_EVENTS / speed["verify_seconds"]
    own_per_second = VERIFY_EVENTS / speed["own_seconds"]
    read_per_second = VERIFY_EVENTS / speed["read_seconds"]
    rows = [
        ("digest of 1,000,000 events, one invocation", f"{million['digest_seconds']:.1f} s"),
        ("  reading them alone (baseline)", f"{million['read_seconds']:.1f} s"),
        ("  ratio", f"{million['digest_seconds'] / million['read_seconds']:.2f} x reading"),
        ("  peak memory (process)", f"{million['peak_mb']:.0f} MB (Lambda: 3,008 MB)"),
        ("  digest object (gzip)", f"{million['object_mb']:.1f} MB"),
        (f"verify {VERIFY_EVENTS:,} events against the embedded AWS", f"{speed['verify_seconds']:.2f} s"),
        ("  events per second", f"{per_second:,.0f}"),
        (
            "  reading them alone (baseline)",
            f"{speed['read_seconds']:.2f} s ({read_per_second:,.0f} events/s)",
        ),
        ("  verification's own work (items held)", f"{own_per_second:,.0f} events/s"),
    ]
    rows.append(("load average (1 min) at the end, 2 cores shared", f"{os.getloadavg()[0]:.1f}"))
    report("audit_digest and dbguard_verify", rows)
    return {
        "digest_million_seconds": round(million["digest_seconds"], 1),
        "digest_million_ratio": round(million["digest_seconds"] / million["read_seconds"], 2),
        "digest_million_peak_mb": round(million["peak_mb"]),
        "verify_events_per_second": round(per_second),
        "verify_read_events_per_second": round(read_per_second),
        "verify_ratio": round(speed["verify_seconds"] / speed["read_seconds"], 2),
        "verify_own_events_per_second": round(own_per_second),
        "verify_own_seconds_per_20000": round(20_000 / own_per_second, 3),
    }
