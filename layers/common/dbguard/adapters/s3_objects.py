"""qhb_audit CSV objects read from S3 in ranges, streamed (dbguard.audit.csv_import.CsvObjects)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbguard.adapters import aws
from dbguard.audit.csv_import import CsvObject

CHUNK_BYTES = 1024 * 1024  # what is held of the object at a time


class S3CsvObjects:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    @classmethod
    def create(cls) -> S3CsvObjects:
        return cls(aws.client("s3"))

    def chunks(self, file: CsvObject, start: int, end: int | None = None) -> Iterator[bytes]:
        stop = file.size if end is None else min(end, file.size)
        if start >= stop:
            return
        request: dict[str, Any] = {
            "Bucket": file.bucket,
            "Key": file.key,
            "Range": f"bytes={start}-{stop - 1}",
        }
        if file.version_id:  # the version the notification named, even when a newer one exists
            request["VersionId"] = file.version_id
        body = self._s3.get_object(**request)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()
