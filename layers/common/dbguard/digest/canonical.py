"""The canonical form of a stored audit item, and the SHA-256 each digest holds for it.

The form is the item exactly as DynamoDB stores it, in its typed wire form (`{"S": ...}`,
`{"N": ...}`), so a changed type shows as much as a changed value:

- every attribute but those in EXCLUDED, names sorted;
- JSON without whitespace, keys sorted, non-ASCII as UTF-8 (not escaped);
- binary values (B, BS) as base64 text; set members (SS, NS, BS) sorted, since DynamoDB keeps no
  order in a set.

EXCLUDED (docs/audit-digests.md): `expiresAt`, the TTL. An operator who lengthens AuditRetentionDays
rewrites it on stored items; a change that shortens it can only make DynamoDB delete the item, and a
deleted item is reported as deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

FORM = "dbguard-item-v1"
EXCLUDED = frozenset({"expiresAt"})
_SETS = {"SS", "NS", "BS"}
_PLAIN = frozenset({"S", "N", "BOOL", "NULL"})
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_item(item: Mapping[str, Any]) -> bytes:
    """`item`: DynamoDB's wire form (a low-level client's answer), or this form read back from an export."""
    kept = {
        name: value if _PLAIN.issuperset(value) else _normal(value)  # most are S or N: as they are
        for name, value in item.items()
        if name not in EXCLUDED
    }
    return _ENCODER.encode(kept).encode()


def event_hash(item: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical_item(item)).digest()


def normal_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item with binary values as base64 and sets sorted: what an export writes (JSON Lines)."""
    return {name: _normal(value) for name, value in item.items()}


def _normal(attribute: Mapping[str, Any]) -> Any:
    """Most attributes (S, N, BOOL, NULL) are already canonical: returned as they are."""
    [(kind, value)] = attribute.items()
    if kind == "B":
        return {"B": _text(value)}
    if kind in _SETS:
        return {kind: sorted(_text(member) if kind == "BS" else member for member in value)}
    if kind == "M":
        return {"M": {name: _normal(member) for name, member in value.items()}}
    if kind == "L":
        return {"L": [_normal(member) for member in value]}
    return attribute


def _text(value: bytes | str) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value
