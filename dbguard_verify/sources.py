"""Where the verifier reads digests and stored items: the deployment itself (S3, DynamoDB; read-only
calls) or an export of both as JSON Lines (`make export-audit`), for auditors without AWS access."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from dbguard.adapters.stored_hours import StoredHourReader
from dbguard.digest.document import PREFIX, hour_of_key, object_key, unpack
from dbguard.digest.hours import label, parse_label

DIGESTS_FILE = "digests.jsonl"
EVENTS_FILE = "events.jsonl"


class Source(Protocol):
    def versions(self, hour: int) -> list[bytes]:
        """Every stored version of the hour's digest document (unpacked), oldest first."""
        ...

    def items(self, hour: int) -> Iterator[dict[str, Any]]:
        """The items stored in the hour, in DynamoDB's wire form."""
        ...


class Deployment:
    """S3 ListObjectVersions/GetObject (every version: a second one is a fork) and DynamoDB Query."""

    def __init__(self, s3: Any, bucket: str, dynamodb: Any, table: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._hours = StoredHourReader(table, dynamodb)
        self._dynamodb = dynamodb
        self._table = table
        self._listed: dict[str, dict[int, list[tuple[Any, str]]]] = {}

    def versions(self, hour: int) -> list[bytes]:
        day = object_key(hour).rsplit("/", 1)[0] + "/"
        if day not in self._listed:
            self._listed[day] = self._list(day)
        found = sorted(self._listed[day].get(hour, []), key=lambda version: version[0])
        return [self._read(hour, version_id) for _, version_id in found]

    def _list(self, prefix: str) -> dict[int, list[tuple[Any, str]]]:
        listed: dict[int, list[tuple[Any, str]]] = defaultdict(list)
        for page in self._s3.get_paginator("list_object_versions").paginate(
            Bucket=self._bucket, Prefix=prefix
        ):
            for version in page.get("Versions", []):
                hour = hour_of_key(version["Key"])
                if hour is not None:
                    listed[hour].append((version["LastModified"], version["VersionId"]))
        return listed

    def _read(self, hour: int, version_id: str) -> bytes:
        response = self._s3.get_object(Bucket=self._bucket, Key=object_key(hour), VersionId=version_id)
        return unpack(response["Body"].read())

    def items(self, hour: int) -> Iterator[dict[str, Any]]:
        return self._hours.items(hour)

    def unindexed(self) -> Iterator[dict[str, Any]]:
        """Every item of the table without a storage hour (a full Scan): written around dbguard's
        writer, or before the digests began. No digest covers them."""
        for page in self._dynamodb.get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_not_exists(gsiStoredHour)"
        ):
            yield from page["Items"]


class Export:
    """A directory written by `make export-audit`: digests.jsonl ({"hour", "key", "versionId",
    "document": base64 of the stored object}) and events.jsonl ({"hour", "item": normal wire form})."""

    def __init__(self, directory: Path) -> None:
        self._digests: dict[int, list[bytes]] = defaultdict(list)
        self._items: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for line in _lines(directory / DIGESTS_FILE):
            self._digests[parse_label(line["hour"])].append(unpack(base64.b64decode(line["document"])))
        for line in _lines(directory / EVENTS_FILE):
            self._items[parse_label(line["hour"])].append(line["item"])

    def versions(self, hour: int) -> list[bytes]:
        return self._digests.get(hour, [])

    def items(self, hour: int) -> Iterator[dict[str, Any]]:
        return iter(self._items.get(hour, []))


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None


def export(source: Deployment, s3: Any, bucket: str, hours: range, directory: Path) -> dict[str, int]:
    """Write the hours' digests (every version, as stored) and items as JSON Lines."""
    from dbguard.digest.canonical import normal_item

    directory.mkdir(parents=True, exist_ok=True)
    counts = {"digests": 0, "events": 0}
    with (directory / DIGESTS_FILE).open("w") as digests, (directory / EVENTS_FILE).open("w") as events:
        for hour in hours:
            prefix = object_key(hour)
            versions = [
                version
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
                for version in page.get("Versions", [])
                if version["Key"] == prefix
            ]
            for version in sorted(versions, key=lambda version: version["LastModified"]):  # oldest first
                stored = s3.get_object(Bucket=bucket, Key=prefix, VersionId=version["VersionId"])
                line = {"hour": label(hour), "key": prefix, "versionId": version["VersionId"],
                        "document": base64.b64encode(stored["Body"].read()).decode()}  # fmt: skip
                digests.write(json.dumps(line) + "\n")
                counts["digests"] += 1
            for item in source.items(hour):
                events.write(
                    json.dumps({"hour": label(hour), "item": normal_item(item)}, ensure_ascii=False) + "\n"
                )
                counts["events"] += 1
    return counts


__all__ = ["PREFIX", "Deployment", "Export", "Source", "export"]
