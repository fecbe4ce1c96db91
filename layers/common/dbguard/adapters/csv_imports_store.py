"""The CSV import's progress records and quarantine in DynamoDB (dbguard.audit.csv_import.ImportLedger).

One partition per S3 key (`file`): the item `progress`, and one item per refused row,
`q#<generation>#<line>` (zero-padded, so a Query lists them in file order)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code, from_item, to_item
from dbguard.audit.csv_import import FileProgress, FileState

PROGRESS_ENTRY = "progress"
_FIELDS = {field.name for field in fields(FileProgress)}


def quarantine_entry(generation: int, line: int) -> str:
    return f"q#{generation:06d}#{line:012d}"


class CsvImportsStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb

    @classmethod
    def create(cls, table_name: str) -> CsvImportsStore:
        return cls(table_name, aws.client_on_first_use("dynamodb"))

    def progress(self, key: str) -> FileProgress | None:
        item = self._dynamodb.get_item(
            TableName=self._table_name,
            Key=to_item({"file": key, "entry": PROGRESS_ENTRY}),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        values = {name: value for name, value in from_item(item).items() if name in _FIELDS}
        values["state"] = FileState(values.get("state", FileState.IMPORTING))
        return FileProgress(**values)

    def save(self, progress: FileProgress) -> None:
        values = {name: value for name, value in asdict(progress).items() if value is not None}
        values["state"] = progress.state.value
        self._dynamodb.put_item(
            TableName=self._table_name,
            Item=to_item({"file": progress.key, "entry": PROGRESS_ENTRY, **values}),
        )

    def quarantine(self, progress: FileProgress, line: int, reason: str, row: str, at_ms: int) -> bool:
        item = {
            "file": progress.key,
            "entry": quarantine_entry(progress.generation, line),
            "source": progress.source,
            "generation": progress.generation,
            "line": line,
            "reason": reason,
            "row": row,
            "quarantinedAt": at_ms,
        }
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(entry)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True
