"""`make sources`: every audit source (QHB server), its last-seen time, its events in the last 24 h
and whether it is silent, from a SigV4-signed GET /audit/sources (docs/operations.md, Audit Source
Silent). A table by default, the API's JSON with `--json`. Against the local stack unless
SOURCES_URL - the stack output SourcesUrl - names a deployment (signed with your AWS credentials).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.cli import run
from dbguard_local.clients import signed_get


def main(arguments: list[str]) -> int:
    response = signed_get("/audit/sources", os.environ.get("SOURCES_URL"))
    if not response.ok or "--json" in arguments:
        print(response.text)
        return 0 if response.ok else 1
    answer = response.json()
    rows = [("source", "last seen", "events 24 h", "state")]
    for source in answer["sources"]:
        seen = source["lastSeen"]
        when = datetime.fromtimestamp(seen / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seen else "never"
        state = "SILENT" if source["silent"] else "ok" if source["watched"] else "not watched"
        rows.append(
            (source["source"], when, str(source["eventsLast24h"]), state + " (expected)" * source["expected"])
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(
        f"\nsilent after {answer['silenceMinutes']} min; "
        f"watched for {answer['activeDays']} days after the last event"
    )
    return 0


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
