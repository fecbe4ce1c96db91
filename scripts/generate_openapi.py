"""Writes docs/openapi.json: the audit API (ingest and query) as the functions' own Powertools
resolvers describe it (`make openapi`); tests fail when the committed file is stale.

Each function has its own resolver, so the two documents are merged here; the ingest body is read
raw (its size and shape errors are answered by dbguard itself), so its request body is added from
the qhb_audit event model.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "layers" / "common")]

from dbguard_local.cfn import Template, load_template  # noqa: E402
from dbguard_local.functions import function_specs, load_handler_module  # noqa: E402
from dbguard_local.resources import name_resources  # noqa: E402

TARGET = REPO_ROOT / "docs" / "openapi.json"
SECURITY_SCHEMES = {
    "sigv4": {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "description": "AWS Signature Version 4 for service execute-api (IAM)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    "ingestToken": {
        "type": "apiKey", "name": "token", "in": "query", "description": "a token of IngestTokenSecretArn",
    },
}  # fmt: skip


def openapi() -> dict[str, Any]:
    template = Template(load_template())
    name_resources(template)
    specs = function_specs(template)
    os.environ.update({"AWS_DEFAULT_REGION": template.region, "AWS_REGION": template.region})
    documents = {}
    for logical_id in ("AuditQueryFunction", "AuditIngestFunction"):
        os.environ.update(specs[logical_id].environment)
        app = load_handler_module(specs[logical_id]).app
        documents[logical_id] = json.loads(
            app.get_openapi_json_schema(
                title="dbguard audit API",
                version="1",
                description="qhb_audit ingest (token) and the auditors' query (IAM). docs/audit-query.md",
            )
        )
    merged = documents["AuditQueryFunction"]
    ingest = documents["AuditIngestFunction"]
    merged["paths"]["/audit/events"]["post"] = ingest["paths"]["/audit/events"]["post"]
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ingest.get("components", {}).get("schemas", {}))
    _describe_ingest_body(merged)
    merged["components"]["securitySchemes"] = SECURITY_SCHEMES
    merged["paths"]["/audit/events"]["post"]["security"] = [{"ingestToken": []}]
    for operation in ("/audit/events", "/audit/events/{id}"):
        merged["paths"][operation]["get"]["security"] = [{"sigv4": []}]
        # the query maps request validation errors to 400 (ErrorBody); Powertools' default 422 never occurs
        merged["paths"][operation]["get"]["responses"].pop("422", None)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    return merged


def _describe_ingest_body(document: dict[str, Any]) -> None:
    from dbguard.audit.models import MAX_EVENTS_PER_REQUEST, AuditEvent

    event = AuditEvent.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    document["components"]["schemas"].update(event.pop("$defs", {}))
    document["components"]["schemas"]["AuditEvent"] = event
    reference = {"$ref": "#/components/schemas/AuditEvent"}
    array = {"type": "array", "items": reference, "minItems": 1, "maxItems": MAX_EVENTS_PER_REQUEST}
    document["paths"]["/audit/events"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [reference, array]}}},
    }


def main() -> None:
    TARGET.write_text(
        json.dumps(openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
