"""A request the local API gateway refuses itself, as API Gateway would (kind = gateway response type)."""

from __future__ import annotations


class GatewayRefusal(Exception):
    def __init__(self, kind: str, status: int, message: str | None) -> None:
        super().__init__(message)
        self.kind, self.status, self.message = kind, status, message
