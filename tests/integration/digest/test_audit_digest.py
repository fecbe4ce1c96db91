"""The hourly digests on the embedded AWS (the template's key, locked bucket and table), and the
verifier's findings for every kind of tampering (docs/audit-digests.md)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from dbguard.adapters.audit_store import AuditStore
from dbguard.adapters.digest_bucket import S3DigestBucket
from dbguard.adapters.kms_signer import KmsSigner
from dbguard.adapters.stored_hours import StoredHourReader
from dbguard.digest.document import link_of, object_key
from dbguard.digest.hours import HOUR_MS, hour_of, label
from dbguard.services.audit_digest import DigestWriter
from dbguard_local.cfn import Template
from dbguard_verify.__main__ import main as verify_main

HOUR = hour_of(1_796_000_000_000)  # a fixed past hour: 2026-11-29T...
MARGIN = 300
AFTER_HOUR = (HOUR + 1) * HOUR_MS + MARGIN * 1000 + 1  # the first moment HOUR is closed
FAR_AHEAD = 10**9


def raw_event(number: int) -> str:
    return json.dumps({"Datetime": 1_796_000_000_000 + number, "name": "connection attempt", "n": number})


class World:
    def __init__(self, stack: Template) -> None:
        self.table = stack.physical_ids["AuditEventsTable"]
        self.bucket = stack.physical_ids["DigestBucket"]
        self.key_arn = stack.attributes[("DigestSigningKey", "Arn")]
        self.dynamodb = boto3.client("dynamodb")
        self.s3 = boto3.client("s3")

    def store(self, count: int, at_ms: int, first: int = 0) -> list[str]:
        """Events stored through the AuditStore (as ingest and the CSV import do) at a given time."""
        import hashlib

        store = AuditStore(self.table, self.dynamodb, 5, clock_ns=lambda: at_ms * 1_000_000)
        ids = []
        for number in range(first, first + count):
            raw = raw_event(number)
            event_id = hashlib.sha256(raw.encode()).hexdigest()[:32]
            assert store.put_if_absent({"id": event_id, "receivedAt": at_ms, "raw": raw, "expiresAt": 1})
            ids.append(event_id)
        return ids

    def writer(self, bucket: S3DigestBucket | None = None) -> DigestWriter:
        return DigestWriter(
            hours=StoredHourReader(self.table, self.dynamodb),
            bucket=bucket or S3DigestBucket(self.bucket, self.s3),
            signer=KmsSigner(self.key_arn, boto3.client("kms")),
            table=self.table,
            margin_seconds=MARGIN,
        )

    def verify(self, first: int = HOUR, last: int = HOUR, *extra: str) -> tuple[int, dict]:
        report = Path(f"/tmp/dbguard-verify-{id(self)}.json")
        status = verify_main(
            ["--from", label(first), "--to", label(last), "--bucket", self.bucket, "--table", self.table,
             "--key-id", self.key_arn, "--report", str(report), "--no-progress", *extra]
        )  # fmt: skip
        return status, json.loads(report.read_text())

    def findings(self, *args: str) -> list[tuple[str, str | None]]:
        return sorted((finding["kind"], finding["event_id"]) for finding in self.verify(*args)[1]["findings"])


@pytest.fixture
def world(stack: Template, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr("dbguard.adapters.digest_bucket.LOOKBACK_HOURS", 24)
    return World(stack)


@pytest.fixture
def digested(world: World) -> list[str]:
    """Three events stored in HOUR, its digest written once it closed."""
    ids = world.store(3, HOUR * HOUR_MS + 1000)
    run = world.writer().run(AFTER_HOUR, lambda: FAR_AHEAD)
    assert run.written == [label(HOUR)]
    return ids


def test_untouched_data_verifies_clean(world: World, digested: list[str]):
    status, report = world.verify()
    assert (status, report["findings"], report["hours"][0]["inDigest"]) == (0, [], 3)


def test_a_changed_attribute_is_reported_by_id(world: World, digested: list[str]):
    world.dynamodb.update_item(
        TableName=world.table, Key={"id": {"S": digested[1]}},
        UpdateExpression="SET receivedAt = :r", ExpressionAttributeValues={":r": {"N": "1"}},
    )  # fmt: skip
    assert world.findings() == [("changed", digested[1])]


def test_a_ttl_change_is_not_a_finding(world: World, digested: list[str]):
    world.dynamodb.update_item(
        TableName=world.table, Key={"id": {"S": digested[0]}},
        UpdateExpression="SET expiresAt = :e", ExpressionAttributeValues={":e": {"N": "99"}},
    )  # fmt: skip
    assert world.verify()[0] == 0


def test_a_deleted_event_is_reported_by_id(world: World, digested: list[str]):
    world.dynamodb.delete_item(TableName=world.table, Key={"id": {"S": digested[2]}})
    assert world.findings() == [("deleted", digested[2])]


def test_a_forged_event_is_reported_by_id(world: World, digested: list[str]):
    [forged] = world.store(1, HOUR * HOUR_MS + 5000, first=100)
    assert world.findings() == [("inserted", forged)]


def test_a_copy_under_another_id_is_reported_and_named_a_copy(world: World, digested: list[str]):
    item = world.dynamodb.get_item(TableName=world.table, Key={"id": {"S": digested[0]}})["Item"]
    world.dynamodb.put_item(TableName=world.table, Item={**item, "id": {"S": "f" * 32}})
    status, report = world.verify()
    [finding] = report["findings"]
    assert (status, finding["kind"], finding["event_id"]) == (1, "inserted", "f" * 32)
    assert "not its content" in finding["detail"]


def test_a_removed_digest_is_reported(world: World, digested: list[str]):
    """Object Lock refuses to delete the locked version (compliance mode: nobody may); a digest that
    is nevertheless absent (a bucket without it) is reported."""
    [version] = world.s3.list_object_versions(Bucket=world.bucket)["Versions"]
    with pytest.raises(ClientError, match=r"Forbidden|AccessDenied"):  # the bucket policy
        world.s3.delete_object(Bucket=world.bucket, Key=version["Key"], VersionId=version["VersionId"])
    world.s3.delete_bucket_policy(Bucket=world.bucket)  # as an administrator may
    with pytest.raises(ClientError, match="AccessDenied"):  # Object Lock still refuses
        world.s3.delete_object(Bucket=world.bucket, Key=version["Key"], VersionId=version["VersionId"])
    empty = boto3.client("s3")
    empty.create_bucket(
        Bucket="empty-digests", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    world.bucket = "empty-digests"
    status, report = world.verify()
    kinds = sorted((finding["kind"], finding["event_id"]) for finding in report["findings"])
    assert status == 1
    assert kinds == [("digest-missing", None), *sorted(("inserted", event_id) for event_id in digested)]


def test_an_altered_digest_and_a_second_version_are_reported(world: World, digested: list[str]):
    from dbguard.digest.document import pack, unpack

    key = object_key(HOUR)
    document = json.loads(unpack(world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read()))
    document["digest"]["events"] = document["digest"]["events"][1:]  # an event dropped from the proof
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=pack(json.dumps(document).encode()),
                        ChecksumAlgorithm="SHA256")  # fmt: skip
    assert ("digest-fork", None) in world.findings()
    # the first version stays locked and is the one checked; a document forged as the first is refused
    from dbguard.digest.verify import HourReport, check_digest

    report = HourReport(label(HOUR))
    assert check_digest(HOUR, [json.dumps(document).encode()], lambda *_: True, report) is None
    assert report.digest == "altered"


def test_a_signature_by_another_key_is_refused(world: World, digested: list[str]):
    other = boto3.client("kms").create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    status, report = world.verify(HOUR, HOUR, "--key-id", other)
    assert status == 1
    assert report["findings"][0]["kind"] == "digest-altered"


def test_the_chain_links_every_hour_and_empty_hours_are_digested(world: World, digested: list[str]):
    later = world.store(2, (HOUR + 2) * HOUR_MS + 10, first=50)
    run = world.writer().run(AFTER_HOUR + 2 * HOUR_MS, lambda: FAR_AHEAD)
    assert run.written == [label(HOUR + 1), label(HOUR + 2)]  # HOUR + 1 is empty and digested all the same
    status, report = world.verify(HOUR, HOUR + 2)
    assert status == 0
    assert [hour["inDigest"] for hour in report["hours"]] == [3, 0, 2]
    assert len(later) == 2


def test_an_event_stored_after_its_hour_was_digested_is_in_a_later_digest(world: World, digested: list[str]):
    """Its storage hour is the hour of its write, so it can never fall into a digest already written."""
    [late] = world.store(1, AFTER_HOUR + 10, first=200)
    world.writer().run(AFTER_HOUR + HOUR_MS, lambda: FAR_AHEAD)
    status, report = world.verify(HOUR, HOUR + 1)
    assert status == 0
    assert [hour["inDigest"] for hour in report["hours"]] == [3, 1]
    assert late not in json.dumps(report)  # no finding names it


class FailsOnce(S3DigestBucket):
    """The run dies after its first write of HOUR + 1 reaches S3 (the answer is lost)."""

    failed = False

    def create(self, hour: int, document: bytes) -> bool:
        created = super().create(hour, document)
        if hour == HOUR + 1 and not FailsOnce.failed:
            FailsOnce.failed = True
            raise ConnectionError("the run's answer was lost")
        return created


def test_a_run_failing_halfway_and_retried_leaves_one_digest_per_hour(world: World, digested: list[str]):
    world.store(2, (HOUR + 1) * HOUR_MS + 10, first=300)
    now = AFTER_HOUR + 2 * HOUR_MS
    with pytest.raises(ConnectionError):
        world.writer(FailsOnce(world.bucket, world.s3)).run(now, lambda: FAR_AHEAD)
    retried = world.writer().run(now, lambda: FAR_AHEAD)
    assert retried.written == [label(HOUR + 2)]  # HOUR + 1 was found written, not written twice
    # a retry that does not see the newest digest (an overlapping run) is refused by the bucket
    again = world.writer().write(HOUR + 1, None, retried)
    assert retried.found == [label(HOUR + 1)]
    assert again == link_of(HOUR + 1, S3DigestBucket(world.bucket, world.s3).read(HOUR + 1) or b"")
    versions = world.s3.list_object_versions(Bucket=world.bucket)["Versions"]
    assert sorted(version["Key"] for version in versions) == [
        object_key(h) for h in (HOUR, HOUR + 1, HOUR + 2)
    ]
    assert world.verify(HOUR, HOUR + 2)[0] == 0


def test_offline_verification_of_an_export_finds_the_same(world: World, digested: list[str], tmp_path: Path):
    world.dynamodb.delete_item(TableName=world.table, Key={"id": {"S": digested[0]}})
    args = ["--from", label(HOUR), "--to", label(HOUR), "--bucket", world.bucket, "--table", world.table,
            "--key-id", world.key_arn]  # fmt: skip
    assert verify_main(["export", *args, "--out", str(tmp_path)]) == 0
    report = tmp_path / "report.json"
    status = verify_main(["--from", label(HOUR), "--to", label(HOUR), "--export", str(tmp_path),
                          "--public-key", str(tmp_path / "digest-key.pem"), "--report", str(report),
                          "--no-progress"])  # fmt: skip
    findings = json.loads(report.read_text())["findings"]
    assert (status, [(f["kind"], f["event_id"]) for f in findings]) == (1, [("deleted", digested[0])])


def test_verify_refuses_to_run_without_a_trusted_key(world: World, digested: list[str], tmp_path: Path):
    assert verify_main(["--from", label(HOUR), "--to", label(HOUR), "--export", str(tmp_path)]) == 2
    assert verify_main(["--from", label(HOUR + 1), "--to", label(HOUR), "--bucket", "b", "--table", "t",
                        "--key-id", "k"]) == 2  # fmt: skip


def test_the_function_digests_the_last_closed_hour_on_its_schedule(world: World, load_function, capsys):
    """Its template environment, its composition root, the scheduled event of events/: the chain
    starts at the last closed hour, and a second run finds nothing more to do."""
    import time

    event = json.loads((Path(__file__).parents[3] / "events/audit_digest/scheduled.json").read_text())
    function = load_function("AuditDigestFunction")
    closed = {label(hour_of(time.time_ns() // 1_000_000 - MARGIN * 1000) - 1)}
    answer = function.invoke(event)
    closed.add(label(hour_of(time.time_ns() // 1_000_000 - MARGIN * 1000) - 1))  # the clock may have moved
    assert len(answer["written"]) == 1
    assert answer["written"][0] in closed
    assert function.invoke(event)["written"] == []
    assert '"DigestKeyUnusable":[0' in capsys.readouterr().out.replace(" ", "").replace("0.0", "0")


def test_a_key_scheduled_for_deletion_is_reported_unusable(world: World):
    assert world.writer().key_unusable() is False
    key_id = world.key_arn.rsplit("/", 1)[1]  # moto looks keys up by id here, not ARN
    boto3.client("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=30)
    assert world.writer().key_unusable() is True


def test_a_scan_reports_items_written_without_a_storage_hour(world: World, digested: list[str]):
    world.dynamodb.put_item(TableName=world.table, Item={"id": {"S": "e" * 32}, "raw": {"S": "{}"}})
    assert world.findings() == []  # in no hour's index: only a scan sees it
    assert world.findings(HOUR, HOUR, "--scan") == [("inserted", "e" * 32)]


def test_a_bucket_that_cannot_be_read_is_a_refusal_not_a_crash(world: World, digested: list[str]):
    status = verify_main(["--from", label(HOUR), "--to", label(HOUR), "--bucket", "no-such-bucket",
                          "--table", world.table, "--key-id", world.key_arn, "--no-progress"])  # fmt: skip
    assert status == 2
