"""Writes the JSON Schemas of the contracts other teams produce to or consume (`make schemas`).

Generated from the pydantic models the functions validate with, so the documentation cannot drift
from the code; tests/unit/cmdb/test_cmdb_models.py and tests/unit/audit/test_direct.py fail when a
committed file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "layers" / "common")]

from dbguard.audit.direct import DirectConnection  # noqa: E402
from dbguard.cmdb.models import CmdbChange  # noqa: E402

SCHEMAS = REPO_ROOT / "docs" / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    change = CmdbChange.model_json_schema(by_alias=True)
    change["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    change["$id"] = "https://dbguard.example/schemas/cmdb-change.schema.json"
    change["description"] = "The `detail` of a CMDB change event (docs/cmdb-events.md)."
    direct = DirectConnection.model_json_schema(by_alias=True)
    direct["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    direct["$id"] = "https://dbguard.example/schemas/direct-connection.schema.json"
    direct["description"] = (
        "The `detail` of a `Direct Database Connection Detected` event from source `dbguard.audit` "
        "on the default EventBridge bus (docs/audit-ingest.md)."
    )
    return {"cmdb-change.schema.json": change, "direct-connection.schema.json": direct}


def main() -> None:
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (SCHEMAS / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
