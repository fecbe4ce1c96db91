"""A digest document: what it holds, its canonical bytes, its signature, its place in the chain.

    {"digest": {"version": 1, "table": ..., "hour": "2026-12-07T01", "canonicalForm": "dbguard-item-v1",
                "count": n, "events": [[id, sha256 hex], ...] (id order), "root": hex,
                "previous": {"hour": ..., "sha256": hex} | null},
     "signature": {"keyId": ..., "algorithm": "RSASSA_PKCS1_V1_5_SHA_256", "value": base64}}

Canonical bytes are JSON with keys sorted and no whitespace. The signed message is the SHA-256 of
the canonical `digest` member (32 bytes, MessageType RAW); `previous.sha256` is the SHA-256 of the
whole previous document's canonical bytes (signature included), so rewriting any earlier digest
breaks every later link.
Stored gzip-compressed (mtime 0): the same document always makes the same object. PKCS#1 v1.5
signatures are deterministic too, so a retried run writes exactly what the first attempt wrote.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dbguard.digest.canonical import FORM
from dbguard.digest.hours import label, parse_label
from dbguard.digest.merkle import leaf, root

VERSION = 1
SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"  # CloudTrail's SHA256withRSA; deterministic
PREFIX = "digests/"


@dataclass(frozen=True)
class Link:
    """What the next digest names: an hour and the SHA-256 of its document's canonical bytes."""

    hour: int
    sha256: str


def object_key(hour: int) -> str:
    text = label(hour)
    return f"{PREFIX}{text[:4]}/{text[5:7]}/{text[8:10]}/{text}.json.gz"


def hour_of_key(key: str) -> int | None:
    """The hour an object key names, or None for anything else in the bucket."""
    name = key.rsplit("/", 1)[-1]
    if not (key.startswith(PREFIX) and name.endswith(".json.gz")):
        return None
    try:
        hour = parse_label(name.removesuffix(".json.gz"))
    except ValueError:
        return None
    return hour if object_key(hour) == key else None


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_body(
    table: str, hour: int, hashes: Sequence[tuple[str, bytes]], previous: Link | None
) -> dict[str, Any]:
    """`hashes`: (event id, SHA-256 of its canonical form) in id order."""
    return {
        "version": VERSION,
        "table": table,
        "hour": label(hour),
        "canonicalForm": FORM,
        "count": len(hashes),
        "events": [[event_id, digest.hex()] for event_id, digest in hashes],
        "root": root([leaf(event_id, digest) for event_id, digest in hashes]).hex(),
        "previous": None if previous is None else {"hour": label(previous.hour), "sha256": previous.sha256},
    }


def message_digest(body: dict[str, Any]) -> bytes:
    """What is signed: these 32 bytes, as a RAW message (so the signature is over their SHA-256)."""
    return hashlib.sha256(canonical_json(body)).digest()


def signed_document(body: dict[str, Any], key_id: str, signature: bytes) -> bytes:
    signed = {"keyId": key_id, "algorithm": SIGNING_ALGORITHM, "value": base64.b64encode(signature).decode()}
    return canonical_json({"digest": body, "signature": signed})


def pack(document: bytes) -> bytes:
    return gzip.compress(document, compresslevel=6, mtime=0)


def unpack(blob: bytes) -> bytes:
    return gzip.decompress(blob)


def link_of(hour: int, document: bytes) -> Link:
    return Link(hour, hashlib.sha256(document).hexdigest())


@dataclass(frozen=True)
class Digest:
    """A stored digest, read back (the verifier's view)."""

    hour: int
    body: dict[str, Any]
    key_id: str
    algorithm: str
    signature: bytes
    sha256: str  # of the whole document's canonical bytes: what the next digest's `previous` names

    @property
    def events(self) -> dict[str, str]:
        return dict(self.body["events"])

    @property
    def previous(self) -> Link | None:
        previous = self.body.get("previous")
        return None if previous is None else Link(parse_label(previous["hour"]), previous["sha256"])


def read_digest(document: bytes) -> Digest:
    """Raises ValueError when the bytes are not a digest document of this version."""
    try:
        parsed = json.loads(document)
        body, signature = parsed["digest"], parsed["signature"]
        if body["version"] != VERSION or body["canonicalForm"] != FORM:
            raise ValueError(f"unknown digest version {body['version']!r} / form {body['canonicalForm']!r}")
        return Digest(
            hour=parse_label(body["hour"]),
            body=body,
            key_id=signature["keyId"],
            algorithm=signature["algorithm"],
            signature=base64.b64decode(signature["value"], validate=True),
            sha256=hashlib.sha256(document).hexdigest(),
        )
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, binascii.Error) as error:
        raise ValueError(f"not a digest document: {type(error).__name__}: {error}") from None
