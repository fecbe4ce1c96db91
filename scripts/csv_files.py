"""`make csv-upload FILE=... SOURCE=...` and `make csv-status`: qhb_audit CSV files on the running
local stack, as a shipper puts them and as an operator checks them (docs/audit-ingest.md, CSV files).

upload: puts FILE in the stack's CSV bucket at <AuditCsvPrefix><SOURCE>/<file name> (NAME overrides
the file name: upload a growing file again under the same key); the bucket's notification queues it
for audit_csv_import. status: every file's progress (state, rows imported, read again, refused) and
each quarantined row with its line and reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "layers" / "common")]

from dbguard.adapters.dynamodb import from_item  # noqa: E402
from dbguard_local.cfn import Template, load_template  # noqa: E402
from dbguard_local.cli import Refused, run  # noqa: E402
from dbguard_local.clients import local_client  # noqa: E402
from dbguard_local.resources import physical_name  # noqa: E402

USAGE = "usage: make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-billing-01 [NAME=...]"


def upload(path: str, source: str, name: str | None) -> int:
    file = Path(path)
    if not file.is_file():
        raise Refused(f"no such file: {path}")
    template = Template(load_template())
    bucket = template.resolve(template.resources["AuditCsvBucket"]["Properties"]["BucketName"])
    key = f"{template.parameters['AuditCsvPrefix']}{source}/{name or file.name}"
    answer = local_client("s3").put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
    print(f"s3://{bucket}/{key} (version {answer.get('VersionId')}); then: make csv-status")
    return 0


def status() -> int:
    table = physical_name(Template(load_template()), "AuditCsvImportsTable")
    items = _scan(local_client("dynamodb"), table)
    for item in sorted(items, key=lambda item: (item["file"], item["entry"])):
        if item["entry"] == "progress":
            print(
                f"{item['file']}: {item['state']} - {item.get('rows_imported', 0)} rows imported, "
                f"{item.get('rows_duplicate', 0)} read again, {item.get('rows_refused', 0)} refused, "
                f"{item.get('offset', 0)} bytes read (generation {item.get('generation', 0)})"
                + (f"; refused: {item['reason']}" if item.get("reason") else "")
            )
        else:
            print(f"  quarantined line {item['line']}: {item['reason']}\n    {item['row'][:200]!r}")
    if not items:
        print("no CSV file imported yet: make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-01")
    return 0


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items, request = [], {"TableName": table}
    while True:
        page = dynamodb.scan(**request)
        items += [from_item(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["status"]:
        return status()
    if len(arguments) < 3 or not arguments[1] or not arguments[2]:
        raise Refused(USAGE)
    return upload(arguments[1], arguments[2], arguments[3] if len(arguments) > 3 and arguments[3] else None)


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
