"""qhb_audit CSV objects read from S3 in ranges, streamed (dbguard.audit.csv_import.CsvObjects)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code
from dbguard.audit.csv_import import CsvObject

CHUNK_BYTES = 1024 * 1024  # what is held of the object at a time


class S3CsvObjects:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    @classmethod
    def create(cls) -> S3CsvObjects:
        return cls(aws.client_on_first_use("s3"))  # the audit table's client is the init's one

    def current(self, file: CsvObject) -> CsvObject | None:
        try:
            head = self._s3.head_object(Bucket=file.bucket, Key=file.key)
        except ClientError as error:
            if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        version = head.get("VersionId")
        return replace(
            file,
            size=int(head["ContentLength"]),
            version_id=None if version in (None, "null") else version,
            etag=head.get("ETag"),
        )

    def chunks(self, file: CsvObject, start: int, end: int | None = None) -> Iterator[bytes]:
        stop = file.size if end is None else min(end, file.size)
        if start >= stop:
            return
        request: dict[str, Any] = {
            "Bucket": file.bucket,
            "Key": file.key,
            "Range": f"bytes={start}-{stop - 1}",
        }
        if file.version_id:  # the version current() found, even if a newer one arrives meanwhile
            request["VersionId"] = file.version_id
        body = self._s3.get_object(**request)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()
