"""`make audit-query Q='userLogin=etl&from=...'`: a SigV4-signed GET /audit/events, as an auditor
would send it (no awscurl needed).

Against the local stack by default (http://127.0.0.1:$DBGUARD_GATEWAY_PORT/v1, signed with the
local credentials); set QUERY_URL (the stack output) to query a deployment with your own AWS
credentials. ACCEPT=text/csv for CSV.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local.clients import signed_get


def main(query: str) -> int:
    suffix = f"?{query}" if query else ""
    url = os.environ.get("QUERY_URL")
    response = signed_get(
        f"/audit/events{suffix}",
        f"{url}{suffix}" if url else None,
        os.environ.get("ACCEPT", "application/json"),
    )
    print(response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
