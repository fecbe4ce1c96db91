"""The digest bucket (S3, Object Lock in compliance mode): digests are created once and never replaced.

Every write is a conditional create (If-None-Match: *): a second object for an hour - a retried run,
two runs at once - is refused, and the bucket policy refuses any PutObject without the condition, so
not even the signing role can add a second version of an hour's digest (docs/security.md)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code
from dbguard.digest.document import PREFIX, hour_of_key, object_key, pack, unpack
from dbguard.digest.hours import hour_of

# The newest digest is looked for among the last LOOKBACK_HOURS' keys first (two list pages), and
# in the whole bucket only when none is there (first run, or the function stopped for longer).
LOOKBACK_HOURS = 24 * 40
_REFUSED_AS_EXISTING = {"PreconditionFailed", "ConditionalRequestConflict"}


class S3DigestBucket:
    """Implements dbguard.digest.ports.DigestBucket."""

    def __init__(self, bucket: str, s3: Any) -> None:
        self._bucket = bucket
        self._s3 = s3

    @classmethod
    def create_for(cls, bucket: str) -> S3DigestBucket:
        return cls(bucket, aws.client_on_first_use("s3"))  # one client at init, as the baseline

    def latest(self) -> tuple[int, bytes] | None:
        recent = object_key(hour_of(time.time_ns() // 1_000_000) - LOOKBACK_HOURS)
        hour = self._newest(start_after=recent) or self._newest(start_after="")
        if hour is None:
            return None
        document = self.read(hour)
        return None if document is None else (hour, document)

    def _newest(self, start_after: str) -> int | None:
        newest = None
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=PREFIX, StartAfter=start_after
        ):
            for entry in page.get("Contents", []):
                newest = hour_of_key(entry["Key"]) or newest
        return newest

    def read(self, hour: int) -> bytes | None:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=object_key(hour))
        except ClientError as error:
            if error_code(error) in {"NoSuchKey", "404"}:
                return None
            raise
        return unpack(response["Body"].read())

    def create(self, hour: int, document: bytes) -> bool:
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=object_key(hour),
                Body=pack(document),
                ContentType="application/json",
                ContentEncoding="gzip",  # ignored by the verifier, which unpacks itself
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",  # Object Lock requires an integrity checksum on every PUT
            )
        except ClientError as error:
            if error_code(error) in _REFUSED_AS_EXISTING:
                return False
            raise
        return True
