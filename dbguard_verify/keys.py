"""The one public key a verification trusts: fetched from KMS by the key id the auditor names, or read
from a PEM/DER file the auditor holds. Never the key id a digest names: a forger signs with their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dbguard.digest.verify import Verifier


def from_kms(kms: Any, key_id: str) -> bytes:
    """The key's public half as DER (SubjectPublicKeyInfo), refusing a key that is not for signing."""
    response = kms.get_public_key(KeyId=key_id)
    if response.get("KeyUsage") != "SIGN_VERIFY":
        raise ValueError(f"{key_id} is not a signing key (KeyUsage {response.get('KeyUsage')})")
    public_key: bytes = response["PublicKey"]
    return public_key


def from_file(path: Path) -> bytes:
    data = path.read_bytes()
    key = serialization.load_pem_public_key(data) if data.lstrip().startswith(b"-----") else None
    if key is None:
        return data
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def to_pem(der: bytes) -> bytes:
    key = serialization.load_der_public_key(der)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verifier(der: bytes) -> Verifier:
    """RSASSA_PKCS1_V1_5_SHA_256 of the 32-byte message digest, as KMS signed it (MessageType RAW)."""
    key = serialization.load_der_public_key(der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the trusted key is not an RSA key")

    def verify(message_digest: bytes, signature: bytes) -> bool:
        try:
            key.verify(signature, message_digest, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    return verify
