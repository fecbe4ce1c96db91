"""`make status`: every active database's token expiry, next rotation, last error and permission, most
urgent first, from a SigV4-signed GET /rotation/databases (docs/rotation.md, "Rotation status").

A table by default, the API's JSON with `--json` (`make status JSON=1`). Against the local stack
(signed with the local credentials) unless STATUS_URL - the stack output RotationStatusUrl - names a
deployment (signed with your own AWS credentials). LIMIT=<n>: only the n most urgent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.cli import run
from dbguard_local.clients import signed_get

COLUMNS = (
    ("database", "name"),
    ("state", "state"),
    ("token expires", "tokenExpiresAt"),
    ("left", "secondsLeft"),
    ("next due", "nextDueAt"),
    ("last rotated", "lastRotatedAt"),
    ("permission", "permission"),
    ("last error", "lastRotationError"),
)
ERROR_WIDTH = 60


def main(arguments: list[str]) -> int:
    limit = os.environ.get("LIMIT")
    suffix = f"?limit={limit}" if limit else ""
    url = os.environ.get("STATUS_URL")
    response = signed_get(f"/rotation/databases{suffix}", f"{url}{suffix}" if url else None)
    if not response.ok or "--json" in arguments:
        print(response.text)
        return 0 if response.ok else 1
    print(table(response.json()))
    return 0


def table(answer: dict[str, Any]) -> str:
    rows = [[_cell(key, database.get(key)) for _, key in COLUMNS] for database in answer["databases"]]
    widths = [max([len(title), *(len(row[i]) for row in rows)]) for i, (title, _) in enumerate(COLUMNS)]
    lines = ["  ".join(title.ljust(width) for (title, _), width in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    counts = ", ".join(f"{state} {count}" for state, count in answer["counts"].items() if count)
    shown = len(answer["databases"])
    more = f" (the {shown} most urgent shown)" if shown < answer["total"] else ""
    lines.append(
        f"\n{answer['total']} active databases{more}: {counts or 'none'}; at {answer['generatedAt']}"
    )
    return "\n".join(line.rstrip() for line in lines)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "secondsLeft":
        return _duration(int(value))
    text = str(value).replace("\n", " ")
    return text if len(text) <= ERROR_WIDTH else text[: ERROR_WIDTH - 1] + "…"


def _duration(seconds: int) -> str:
    """2d 4h, 3h 10m, 45m; negative: expired that long ago."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{sign}{days}d {hours}h"
    return f"{sign}{hours}h {minutes}m" if hours else f"{sign}{minutes}m"


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
