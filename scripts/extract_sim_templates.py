"""Writes jumpserver_sim/templates.json from the JumpServer recordings (run by hand when they change).

The simulator answers with objects shaped exactly like the real servers' (every key, every value
type), so it starts from the recorded response of each kind of object and fills in its own values.
The recordings are tests/contract/recordings (its README says how they were made); the extract is
committed so the simulator does not read them at run time. `python scripts/extract_sim_templates.py
[FOLDER]` reads FOLDER instead, e.g. new recordings laid out the same way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = REPO_ROOT / "tests" / "contract" / "recordings"
VERSIONS = {"v3": "v3.10.23", "v4": "v4.10.16"}
OBJECTS = {
    "asset": "08-database-create",
    "node": "07a-node-create-by-full-value",
    "account": "15b-accounts-by-asset-and-username",
    "token": "20-connection-token-detail",
    "permission": "16b-asset-permission-create",
    "user": "16a-users-profile",
}
PLATFORMS = ("04a-platforms-filter-postgresql", "04b-platforms-filter-mysql")  # list items
PLATFORM_DETAIL = "05-platform-detail-by-name"  # the detail view has more fields (404 on v3)
STATIC = (
    "01-health", "28-connect-methods", "29-settings-public", "30a-settings-public-open",
    "30b-settings-client-versions", "30c-assets-zones", "30d-assets-domains", "30g-settings-server-info",
    "30h-swagger-json",
)  # fmt: skip


def extract(folder: Path) -> dict:
    def load(name: str) -> dict:
        return json.loads((folder / f"{name}.json").read_text())

    objects = {}
    for kind, name in OBJECTS.items():
        body = load(name)["response"]["json"]
        objects[kind] = body[0] if isinstance(body, list) else body
    platforms = {}
    for name in PLATFORMS:
        body = load(name)["response"]
        for platform in body["json"] if isinstance(body["json"], list) else [body["json"]]:
            if body["status"] == 200:
                platforms[platform["name"]] = platform
    detail = load(PLATFORM_DETAIL)["response"]
    platform_detail = detail["json"] if detail["status"] == 200 else None
    static = {}
    for name in STATIC:
        exchange = load(name)
        path = exchange["request"]["path"].split("?")[0]
        static[path] = {"status": exchange["response"]["status"], "json": exchange["response"].get("json")}
    options = load("30f-connection-token-options")["response"]["json"]
    return {
        "objects": objects,
        "platforms": platforms,
        "platform_detail": platform_detail,
        "static": static,
        "token_options": options,
    }


def main(recordings: Path) -> None:
    templates = {short: extract(recordings / folder) for short, folder in VERSIONS.items()}
    target = REPO_ROOT / "jumpserver_sim" / "templates.json"
    target.write_text(json.dumps(templates, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RECORDINGS)
