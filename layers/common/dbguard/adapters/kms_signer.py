"""Signing with the stack's KMS asymmetric key (RSA_4096, SIGN_VERIFY): the private key never leaves KMS."""

from __future__ import annotations

from typing import Any

from dbguard.adapters import aws
from dbguard.digest.document import SIGNING_ALGORITHM


class KmsSigner:
    """Implements dbguard.digest.ports.Signer."""

    def __init__(self, key_id: str, kms: Any) -> None:
        self.key_id = key_id
        self._kms = kms

    @classmethod
    def create_for(cls, key_id: str) -> KmsSigner:
        return cls(key_id, aws.client_on_first_use("kms"))

    def sign(self, message_digest: bytes) -> bytes:
        """The 32 bytes are signed as a RAW message (KMS hashes them once more): `aws kms verify
        --message-type RAW` and any RSA library check it alike, and the embedded AWS signs the same way
        (moto does not implement MessageType DIGEST)."""
        response = self._kms.sign(
            KeyId=self.key_id,
            Message=message_digest,
            MessageType="RAW",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
        signature: bytes = response["Signature"]
        return signature

    def key_state(self) -> str:
        state: str = self._kms.describe_key(KeyId=self.key_id)["KeyMetadata"]["KeyState"]
        return state
