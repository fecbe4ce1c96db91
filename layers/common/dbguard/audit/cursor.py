"""Opaque, tamper-evident page cursors: the position (the last `ts` returned), the resolved start of
the range, and a digest of the filters, signed with HMAC-SHA256 under a per-deployment key. A
cursor altered, forged, or reused with other filters is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from dbguard.errors import InvalidQuery

_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class Position:
    after_ts: str  # the last sort key returned: the next page starts strictly below it
    from_ms: int
    filters_digest: str


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the cursor key must be at least 16 bytes")
        self._key = key

    def encode(self, position: Position) -> str:
        payload = json.dumps(
            {"t": position.after_ts, "f": position.from_ms, "q": position.filters_digest},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cursor: str, filters_digest: str) -> Position:
        try:
            payload_text, signature_text = cursor.split(".")
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except ValueError:
            raise InvalidQuery("cursor is not one this API issued") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidQuery("cursor is not one this API issued (altered or from another deployment)")
        fields = json.loads(payload)
        if fields["q"] != filters_digest:
            raise InvalidQuery(
                "cursor belongs to a query with other filters; repeat the filters of the first page"
            )
        return Position(after_ts=fields["t"], from_ms=fields["f"], filters_digest=fields["q"])

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError("not base64") from None
