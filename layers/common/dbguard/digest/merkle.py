"""The root over one hour's events: a binary hash tree (RFC 6962's leaf and node prefixes) over the
events in id order, so one event's presence can be proven with log2(n) hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf(event_id: str, digest: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_id.encode() + digest).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """Pairs hashed level by level; an odd last node moves up unchanged. No leaf: SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
