"""`make token-status DATABASE=billing-qhb-01 TOKEN_ID=<id>`: where a connection token stands on the
running local stack — which labels of the database's secret still hold it, whether JumpServer still
accepts it (docs/operations.md, "A token must be revoked now"). Exits 1 unless it is revoked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.cli import run
from dbguard_local.clients import local_client


def main(database: str, token_id: str) -> int:
    lambda_client = local_client("lambda", endpoint="lambda")
    answer = lambda_client.invoke(
        FunctionName="dbguard-local-token-rotation",
        Payload=json.dumps({"checkToken": token_id, "database": database}),
    )
    status = json.loads(answer["Payload"].read())
    print(json.dumps(status, indent=2))
    return 0 if status.get("status") == "revoked" else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make token-status DATABASE=billing-qhb-01 TOKEN_ID=<connection token id>")
    run(lambda: main(sys.argv[1], sys.argv[2]))
