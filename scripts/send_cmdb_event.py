"""`make cmdb-event FILE=...`: put a CMDB change on the local stack's bus, as the CMDB would.

FILE holds a change (`{"action", "version", "changedAt", "instance"}`, e.g.
events/samples/cmdb-upsert.json) or a whole EventBridge event with it as `detail`. The change is
checked against its JSON Schema (docs/schemas/cmdb-change.schema.json, the contract the CMDB team
is given) before it is sent: a change the schema refuses is not sent, and the reason is printed.
The event goes to the bus, source and detail-type of template.yaml's defaults (CmdbEventBusName,
...), on the running local stack's embedded AWS (where `make run` listens: .dbguard-local/).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT)]

from jsonschema import Draft202012Validator  # noqa: E402
from jsonschema.exceptions import best_match  # noqa: E402

from dbguard_local.cfn import Template, load_template  # noqa: E402
from dbguard_local.cli import Refused, run  # noqa: E402
from dbguard_local.clients import local_client  # noqa: E402

SCHEMA = REPO_ROOT / "docs" / "schemas" / "cmdb-change.schema.json"


def main(path: str) -> int:
    detail = checked_change(path)
    parameters = Template(load_template()).parameters
    events = local_client("events")
    entry = {
        "EventBusName": parameters["CmdbEventBusName"],
        "Source": parameters["CmdbEventSource"],
        "DetailType": parameters["CmdbEventDetailType"],
        "Detail": json.dumps(detail),
    }
    result = events.put_events(Entries=[entry])
    print(json.dumps({"FailedEntryCount": result["FailedEntryCount"], "Entries": result["Entries"]}))
    return 1 if result["FailedEntryCount"] else 0


def checked_change(path: str) -> dict[str, Any]:
    """The change FILE holds, once its schema accepts it; Refused (one line: why) otherwise."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refused(f"{path}: no such file (the samples are in events/samples/)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise Refused(f"{path}: not a JSON file ({error})") from None
    detail = document.get("detail", document) if isinstance(document, dict) else document
    error = best_match(Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(detail))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(the change)"
        raise Refused(
            f"{path}: not sent, {SCHEMA.relative_to(REPO_ROOT)} refuses it at {where}: {error.message}"
        )
    return detail


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make cmdb-event FILE=events/samples/cmdb-upsert.json")
    run(lambda: main(sys.argv[1]))
