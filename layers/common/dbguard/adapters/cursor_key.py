"""The key that signs the query API's cursors, read from Secrets Manager on the first cursor a
container signs or checks (then kept: a page without a next page needs none, and the SnapStart init
reads no secret)."""

from __future__ import annotations

from functools import cached_property

from dbguard.adapters import aws
from dbguard.audit.cursor import CursorCodec


class CursorKeySecret:
    def __init__(self, secret_arn: str) -> None:
        self._secret_arn = secret_arn

    def __call__(self) -> CursorCodec:
        return self._codec

    @cached_property
    def _codec(self) -> CursorCodec:
        secret = aws.client("secretsmanager").get_secret_value(SecretId=self._secret_arn)
        return CursorCodec(secret["SecretString"].encode())
