"""`make rotate DATABASES='billing-qhb-01 orders-qhb-01'` (or `all`): on-demand rotation on the
running local stack, through its Lambda Invoke API (where `make run` listens: .dbguard-local/).
With FORCE=1, also databases rotated within ConsumerCacheSeconds (breaks cached consumers).

Prints the function's answer; exits 1 when any database was not rotated (too_soon, not_found,
failed, busy) or the run stopped, and says on stderr which and what to do."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.cli import run
from dbguard_local.clients import local_client

# what an operator does about each outcome that is not a rotation (docs/rotation.md)
NOT_ROTATED = {
    "too_soon": "rotated within ConsumerCacheSeconds; FORCE=1 rotates it anyway (cached tokens break)",
    "not_found": "no active database of that name (make status lists them)",
    "failed": "see its error; make status shows the last error of each database",
    "busy": "a CMDB change or another rotation holds it; try again in a moment",
}


def main(names: list[str]) -> int:
    lambda_client = local_client("lambda", endpoint="lambda")
    payload = {"rotate": "all" if names == ["all"] else names, "force": os.environ.get("FORCE") == "1"}
    answer = lambda_client.invoke(FunctionName="dbguard-local-token-rotation", Payload=json.dumps(payload))
    text = answer["Payload"].read().decode()
    print(text)
    if answer.get("FunctionError"):
        return 1
    problems = not_rotated(json.loads(text))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def not_rotated(summary: dict[str, Any]) -> list[str]:
    """One line per database the run did not rotate (or complete), and why the run stopped."""
    lines = [
        f"{result['name']}: {result['status']} - {NOT_ROTATED[result['status']]}"
        for result in summary.get("results", [])
        if result["status"] in NOT_ROTATED
    ]
    lines += [
        f"{name}: deferred - not started this run; run it again" for name in summary.get("deferred", [])
    ]
    if summary.get("stopped"):
        lines.append(summary["stopped"])
    return lines


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: make rotate DATABASES='billing-qhb-01' (or DATABASES=all)")
    run(lambda: main(sys.argv[1:]))
