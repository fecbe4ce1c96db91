"""`make rotate DATABASES='billing-qhb-01 orders-qhb-01'` (or `all`): on-demand rotation on the
running local stack, through its Lambda Invoke API (127.0.0.1:$DBGUARD_LAMBDA_PORT, 3001).
With FORCE=1, also databases rotated within ConsumerCacheSeconds (breaks cached consumers)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.clients import local_client


def main(names: list[str]) -> int:
    lambda_client = local_client("lambda", endpoint="lambda")
    payload = {"rotate": "all" if names == ["all"] else names, "force": os.environ.get("FORCE") == "1"}
    answer = lambda_client.invoke(FunctionName="dbguard-local-token-rotation", Payload=json.dumps(payload))
    print(answer["Payload"].read().decode())
    return 1 if answer.get("FunctionError") else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: make rotate DATABASES='billing-qhb-01' (or DATABASES=all)")
    sys.exit(main(sys.argv[1:]))
