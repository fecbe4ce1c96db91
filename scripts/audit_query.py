"""`make audit-query Q='userLogin=etl&from=...'`: a SigV4-signed GET /audit/events, as an auditor
would send it (no awscurl needed).

Against the local stack by default (http://127.0.0.1:$DBGUARD_GATEWAY_PORT/v1, signed with the
local credentials); set QUERY_URL (the stack output) to query a deployment with your own AWS
credentials. ACCEPT=text/csv for CSV.
"""

from __future__ import annotations

import os
import sys

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main(query: str) -> int:
    url = os.environ.get("QUERY_URL")
    if url:
        credentials = boto3.Session().get_credentials()
    else:
        url = f"http://127.0.0.1:{os.environ.get('DBGUARD_GATEWAY_PORT', '3000')}/v1/audit/events"
        credentials = Credentials("testing", "testing")
    if query:
        url = f"{url}?{query}"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"
    request = AWSRequest(
        method="GET", url=url, headers={"Accept": os.environ.get("ACCEPT", "application/json")}
    )
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    response = requests.get(url, headers=dict(request.headers), timeout=60)
    print(response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
