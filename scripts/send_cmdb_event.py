"""`make cmdb-event FILE=...`: put a CMDB change on the local stack's bus, as the CMDB would.

FILE holds a change (`{"action", "version", "changedAt", "instance"}`, e.g.
events/samples/cmdb-upsert.json) or a whole EventBridge event with it as `detail`. The event goes
to the bus, source and detail-type of template.yaml's defaults (CmdbEventBusName, ...), on the
embedded AWS at 127.0.0.1:$DBGUARD_AWS_PORT (4566).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT)]

from dbguard_local.cfn import Template, load_template  # noqa: E402
from dbguard_local.clients import local_client  # noqa: E402


def main(path: str) -> int:
    document = json.loads(Path(path).read_text())
    detail = document.get("detail", document)
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


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make cmdb-event FILE=events/samples/cmdb-upsert.json")
    sys.exit(main(sys.argv[1]))
