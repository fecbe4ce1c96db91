"""audit_csv_import on moto: S3 (versioned) -> SQS -> the function, the audit table, the imports
table; the same file three times, a growing file, a rewritten one, bad rows, files that are not
qhb_audit CSV, two identical rows, a big file stopped at its timeout twice, and the round trip
through the audit query's CSV export."""

from __future__ import annotations

import csv
import gzip
import io
import json

import boto3
import pytest

from dbguard.adapters.dynamodb import from_item
from dbguard_local.apigateway import proxy_event
from dbguard_local.functions import LambdaContext
from dbguard_testkit.csv_files import HEADER, SAMPLE, drain, file_bytes, rows_text, sqs_record

PREFIX = "qhb-audit/"
SOURCE = "qhb-billing-01"
KEY = f"{PREFIX}{SOURCE}/qhb_audit.csv"


class Csv:
    """The bucket, the queue and the tables of one deployed stack, and the function behind them."""

    def __init__(self, stack, function) -> None:
        self.stack = stack
        self.function = function
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        self.dynamodb = boto3.client("dynamodb")
        self.bucket = stack.physical_ids["AuditCsvBucket"]
        self.queue_url = stack.physical_ids["AuditCsvQueue"]
        self.queue_arn = stack.attributes[("AuditCsvQueue", "Arn")]

    def upload(self, body: bytes, key: str = KEY, invoke=None) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        drain(self.sqs, self.queue_url, self.queue_arn, invoke or self.function.invoke)

    def events(self) -> list[dict]:
        items = self._scan("AuditEventsTable")
        return [json.loads(item["raw"]) | {"_id": item["id"]} for item in items]

    def progress(self, key: str = KEY) -> dict:
        return next(
            i for i in self._scan("AuditCsvImportsTable") if i["file"] == key and i["entry"] == "progress"
        )

    def quarantine(self) -> list[dict]:
        return [item for item in self._scan("AuditCsvImportsTable") if item["entry"].startswith("q#")]

    def _scan(self, logical_id: str) -> list[dict]:
        name = self.stack.physical_ids[logical_id]
        items, request = [], {"TableName": name}
        while True:
            page = self.dynamodb.scan(**request)
            items += [from_item(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def files(stack, load_function) -> Csv:
    files = Csv(stack, load_function("AuditCsvImportFunction"))
    drain(files.sqs, files.queue_url, files.queue_arn, files.function.invoke)  # S3's test event
    return files


def data_rows(text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))[1:]


def test_the_sample_day_becomes_audit_events_of_its_source(files):
    files.upload(SAMPLE.read_bytes())
    events = files.events()
    assert len(events) == len(data_rows(SAMPLE.read_bytes()))
    assert {event["serviceName"] for event in events} == {SOURCE}
    progress = files.progress()
    assert (progress["state"], progress["rows_imported"], progress["rows_refused"]) == ("imported", 33, 0)
    drop = [event for event in events if event["name"] == "DROP TABLE"]
    assert len(drop) == 2  # two identical rows: two events
    assert drop[0]["_id"] != drop[1]["_id"]
    (renamed,) = [
        event for event in events if event["name"] == "ALTER TABLE" and event["userLogin"] == "petrova"
    ]
    assert {"Name": "new_table", "Value": "customers\nold"} in renamed["params"]  # a quoted line break


def test_the_same_file_uploaded_three_times_is_stored_once(files):
    body = file_bytes(250)
    for _ in range(3):
        files.upload(body)
    assert len(files.events()) == 250
    progress = files.progress()
    assert (progress["rows_imported"], progress["rows_duplicate"]) == (250, 0)  # nothing was read again


def test_a_file_growing_over_five_uploads_is_read_from_where_it_stopped(files):
    text = HEADER
    for upload in range(5):
        text += rows_text(upload * 120, 120)
        files.upload(text.encode())
        assert len(files.events()) == (upload + 1) * 120
    progress = files.progress()
    assert (progress["rows_imported"], progress["rows_duplicate"], progress["generation"]) == (600, 0, 0)


def test_notifications_out_of_order_read_the_newest_version_and_store_nothing_twice(files):
    files.s3.put_object(Bucket=files.bucket, Key=KEY, Body=file_bytes(100))
    files.s3.put_object(Bucket=files.bucket, Key=KEY, Body=file_bytes(150))
    messages = []
    while len(messages) < 2:
        messages += files.sqs.receive_message(QueueUrl=files.queue_url, MaxNumberOfMessages=10)["Messages"]
    for message in reversed(messages):  # the newer version's notification first
        answer = files.function.invoke({"Records": [sqs_record(message, files.queue_arn)]})
        assert answer == {"batchItemFailures": []}
    assert len(files.events()) == 150
    progress = files.progress()
    assert (progress["rows_imported"], progress["rows_duplicate"], progress["generation"]) == (150, 0, 0)


def test_a_line_still_being_written_waits_for_its_end(files):
    body = file_bytes(10)
    files.upload(body + b"connection attempt,2026-12-06T23:00:00Z,app_x,bil")
    assert len(files.events()) == 10
    assert files.progress()["state"] == "waiting"
    files.upload(body + b"connection attempt,2026-12-06T23:00:00Z,app_x,billing,,,,,,,\n")
    assert len(files.events()) == 11
    assert files.progress()["state"] == "imported"


def test_a_file_rewritten_from_the_start_is_a_new_file(files):
    files.upload(file_bytes(50))
    files.upload(file_bytes(20, first=1000))  # QHB started a new file under the same name
    assert len(files.events()) == 70
    assert files.progress()["generation"] == 1


def test_a_bad_row_in_the_middle_is_quarantined_and_the_rest_loads(files):
    lines = file_bytes(20).decode().splitlines(keepends=True)
    lines[8] = "connection attempt,yesterday,app_1,billing,10.1.2.50,1,true,,,,\n"
    lines[12] = "CREATE TABLE,2026-12-06T00:00:00Z,etl\x07loader,,,,,t,,,\n"
    lines[15] = "too,few,columns\n"
    files.upload("".join(lines).encode())
    assert len(files.events()) == 17
    refused = {item["line"]: item["reason"] for item in files.quarantine()}
    assert sorted(refused) == [9, 13, 16]
    assert "RFC 3339" in refused[9]
    assert "control character U+0007" in refused[13]
    assert "3 columns" in refused[16]
    assert files.progress()["rows_refused"] == 3
    files.upload("".join(lines).encode())  # again: nothing quarantined twice
    assert len(files.quarantine()) == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00\x01\x02binary\n", "binary"),
        (gzip.compress(file_bytes(5)), "gzip"),
        (b"name,time,user\nconnect,2026-12-06T00:00:00Z,x\n", "3 columns"),
        (file_bytes(3)[len(HEADER) :], "an event, not a header"),
    ],
)
def test_a_file_that_is_not_qhb_audit_csv_is_refused_whole(files, body, reason):
    files.upload(body)
    assert files.events() == []
    progress = files.progress()
    assert progress["state"] == "refused"
    assert reason in progress["reason"]


def test_bom_crlf_quotes_and_cyrillic_are_read(files):
    body = "\ufeff" + HEADER.replace("\n", "\r\n")
    body += 'CREATE TABLE,2026-12-06T09:22:00Z,иванов_ип,,,,,"отчёт, ""декабрь""",,,\r\n'
    files.upload(body.encode("utf-8"))
    (event,) = files.events()
    assert event["userLogin"] == "иванов_ип"
    assert event["params"] == [{"Name": "table", "Value": 'отчёт, "декабрь"'}]


GZ_KEY = f"{PREFIX}{SOURCE}/day.csv.gz"


def test_a_gzip_file_is_read_and_a_grown_one_stores_only_its_new_rows(files):
    files.upload(gzip.compress(file_bytes(300)), key=GZ_KEY)
    assert len(files.events()) == 300
    grown = gzip.compress(file_bytes(200)) + gzip.compress(rows_text(200, 150).encode())  # two members
    files.upload(grown, key=GZ_KEY)
    assert len(files.events()) == 350
    progress = files.progress(GZ_KEY)
    assert (progress["state"], progress["rows_imported"], progress["rows_duplicate"]) == ("imported", 350, 0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(file_bytes(3), "not gzip-compressed"), (gzip.compress(file_bytes(50))[:-30] + b"x" * 30, "corrupt")],
)
def test_a_gz_file_that_is_not_gzip_or_is_corrupt_is_refused(files, body, reason):
    files.upload(body, key=GZ_KEY)
    assert reason in files.progress(GZ_KEY)["reason"]
    files.upload(gzip.compress(file_bytes(50)), key=GZ_KEY)  # shipped again, whole: each row once
    assert len(files.events()) == 50
    assert len({event["_id"] for event in files.events()}) == 50


def test_a_key_outside_the_source_layout_is_refused(files):
    files.upload(file_bytes(3), key=f"{PREFIX}loose.csv")
    assert files.events() == []
    assert "<source>/<file name>" in files.progress(f"{PREFIX}loose.csv")["reason"]


class Deadline(LambdaContext):
    """A Lambda context whose time runs out after `batches` checks of the remaining time."""

    def __init__(self, spec, batches: int) -> None:
        super().__init__(spec, "eu-central-1", "123456789012")
        self.left = batches

    def get_remaining_time_in_millis(self) -> int:
        self.left -= 1
        return 900_000 if self.left >= 0 else 1_000


def test_a_big_file_stopped_at_its_timeout_twice_is_imported_once_and_whole(files):
    body = file_bytes(2_000)
    invocations = []

    def invoke(event):
        invocations.append(len(event["Records"]))
        # the first two invocations run out of time after a few batches; the third has enough
        context = Deadline(files.function.spec, 6 if len(invocations) <= 2 else 10_000)
        return files.function.module.lambda_handler(event, context)

    files.upload(body, invoke=invoke)
    assert len(invocations) == 3
    events = files.events()
    assert len(events) == 2_000 == len({event["_id"] for event in events})
    progress = files.progress()
    assert (progress["rows_imported"], progress["rows_duplicate"], progress["state"]) == (
        2_000,
        0,
        "imported",
    )


def test_an_invocation_killed_mid_file_loses_nothing_and_stores_nothing_twice(files):
    body = file_bytes(1_000)
    table = files.function.module.parts.queue._import._ingest.writer._dynamodb  # the function's own
    calls = []

    def killed_after_some_writes(**_):
        calls.append(1)
        if len(calls) == 350:
            raise TimeoutError("the function was stopped at its timeout")

    table.meta.events.register("before-call.dynamodb.PutItem", killed_after_some_writes)
    files.upload(body)
    assert len(calls) > 1_000  # it was stopped, and read part of the file again
    events = files.events()
    assert len(events) == 1_000 == len({event["_id"] for event in events})
    assert files.progress()["rows_duplicate"] > 0


def test_a_file_imported_and_exported_again_gives_back_each_rows_fields(files, load_function):
    files.upload(SAMPLE.read_bytes())
    query = load_function("AuditQueryFunction")
    response = query.invoke(
        proxy_event(
            "GET",
            "/audit/events",
            resource="/audit/events",
            query={"from": ["2026-12-06T00:00:00Z"], "to": ["2026-12-07T00:00:00Z"], "limit": ["1000"]},
            headers={"Accept": "text/csv"},
        )
    )
    assert response["statusCode"] == 200, response["body"]
    exported = list(csv.reader(io.StringIO(response["body"], newline="")))
    assert exported[0][11:] == ["id", "service_name", "time_ms"]
    rows = sorted(row[:11] for row in exported[1:])
    assert rows == sorted(data_rows(SAMPLE.read_bytes()))
    assert {row[12] for row in exported[1:]} == {SOURCE}
