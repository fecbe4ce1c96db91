"""What the digest service needs (adapters in dbguard.adapters implement these)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class StoredHours(Protocol):
    def items(self, hour: int) -> Iterator[dict[str, Any]]:
        """Every item stored in that hour (byStoredHour), in DynamoDB's wire form, in no set order."""
        ...


class DigestBucket(Protocol):
    def latest(self) -> tuple[int, bytes] | None:
        """The newest digest's hour and document (unpacked), or None when none was written yet."""
        ...

    def read(self, hour: int) -> bytes | None:
        """That hour's digest document (unpacked), or None."""
        ...

    def create(self, hour: int, document: bytes) -> bool:
        """Write the hour's digest unless one exists (conditional create); False when one does."""
        ...


class Signer(Protocol):
    key_id: str

    def sign(self, message_digest: bytes) -> bytes:
        """RSASSA_PKCS1_V1_5_SHA_256 of the 32-byte message; the private key stays in KMS."""
        ...

    def key_state(self) -> str:
        """KMS's KeyState: `Enabled`, or why signing will fail (`PendingDeletion`, `Disabled`, ...)."""
        ...
