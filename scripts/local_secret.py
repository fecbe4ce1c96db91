"""`make secret` / `make secret DATABASE=billing-qhb-01 [STAGE=AWSPREVIOUS]`: a secret of the running
local stack, read from its embedded AWS - no AWS CLI needed.

Without DATABASE: the ingest token secret (`{"tokens": [...]}`, the token of the banner's ingest
URL). With it: the database's connection secret `dbguard/db/<DATABASE>` (docs/rotation.md), the
version labelled STAGE (AWSCURRENT by default; AWSPREVIOUS: the token from one rotation back, still
valid). Local test credentials only: never point this at an account.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local import endpoints
from dbguard_local.cfn import Template, load_template
from dbguard_local.cli import Refused, run
from dbguard_local.clients import local_client


def main(database: str, stage: str) -> int:
    secret_id = _database_secret(database) if database else endpoints.read().ingest_token_secret
    secrets = local_client("secretsmanager")
    try:
        value = secrets.get_secret_value(SecretId=secret_id, VersionStage=stage)
    except secrets.exceptions.ResourceNotFoundException:
        raise Refused(
            f"no secret {secret_id} with the label {stage} (yet): `make cmdb-event` registers a database "
            "and writes its first secret a moment later; `make status` lists the databases"
        ) from None
    print(json.dumps({"secretId": secret_id, "versionStages": value["VersionStages"],
                      "secret": json.loads(value["SecretString"])}, indent=2))  # fmt: skip
    return 0


def _database_secret(database: str) -> str:
    return f"{Template(load_template()).parameters['SecretsPrefix']}/{database}"


if __name__ == "__main__":
    run(lambda: main(os.environ.get("DATABASE", ""), os.environ.get("STAGE") or "AWSCURRENT"))
