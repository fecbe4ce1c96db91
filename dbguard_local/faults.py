"""Opt-in storage faults in the embedded AWS, for load and chaos runs (`make loadtest`).

Off unless a rate is set. The local stack then wraps moto's WSGI application so that a share of
the DynamoDB calls it names fails the way DynamoDB fails:

- `DBGUARD_FAULT_THROTTLE_RATE`: answered 400 ProvisionedThroughputExceededException *before*
  the write (nothing is stored);
- `DBGUARD_FAULT_AFTER_WRITE_RATE`: the write is applied, then answered 500 InternalServerError
  (the caller cannot tell whether it happened: a lost answer);
- `DBGUARD_FAULT_OPERATIONS`: which DynamoDB operations (default `PutItem`, comma-separated);
- `DBGUARD_FAULT_SEED`: seeds the draws (the same sequence of draws for the same seed; which
  request gets which draw still depends on thread timing).

Production code knows nothing of this: the faults live in the embedded AWS, where the functions'
boto3 clients meet them as they would meet DynamoDB's own errors (and retry them as configured).
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_DYNAMODB_TARGET = "DynamoDB_20120810."
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass(frozen=True)
class StorageFaultConfig:
    throttle_rate: float = 0.0
    after_write_rate: float = 0.0
    operations: frozenset[str] = frozenset({"PutItem"})
    seed: int | None = None

    @property
    def enabled(self) -> bool:
        return self.throttle_rate > 0 or self.after_write_rate > 0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StorageFaultConfig:
        env = os.environ if environ is None else environ
        throttle = float(env.get("DBGUARD_FAULT_THROTTLE_RATE") or 0)
        after = float(env.get("DBGUARD_FAULT_AFTER_WRITE_RATE") or 0)
        if not (0 <= throttle <= 1 and 0 <= after <= 1 and throttle + after <= 1):
            raise ValueError("DBGUARD_FAULT_*_RATE: each between 0 and 1, together at most 1")
        operations = env.get("DBGUARD_FAULT_OPERATIONS") or "PutItem"
        seed = env.get("DBGUARD_FAULT_SEED")
        return cls(
            throttle_rate=throttle,
            after_write_rate=after,
            operations=frozenset(name.strip() for name in operations.split(",") if name.strip()),
            seed=int(seed) if seed else None,
        )


@dataclass
class FaultCounts:
    calls: int = 0  # calls of the named operations
    throttled: int = 0
    failed_after_write: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "throttled": self.throttled, "failedAfterWrite": self.failed_after_write}


class StorageFaultInjector:
    """A WSGI middleware in front of moto: faults for the configured DynamoDB operations."""

    def __init__(self, app: Callable, config: StorageFaultConfig) -> None:
        self._app = app
        self._config = config
        self._random = random.Random(config.seed)  # noqa: S311 - fault draws, not cryptography
        self.counts = FaultCounts()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target[len(_DYNAMODB_TARGET) :] if target.startswith(_DYNAMODB_TARGET) else None
        if operation not in self._config.operations:
            return self._app(environ, start_response)
        with self.counts.lock:
            self.counts.calls += 1
            draw = self._random.random()
            throttle = draw < self._config.throttle_rate
            after_write = not throttle and draw < self._config.throttle_rate + self._config.after_write_rate
            self.counts.throttled += throttle
        if throttle:
            message = "Throughput exceeded (injected by DBGUARD_FAULT_THROTTLE_RATE before the write)"
            code = "ProvisionedThroughputExceededException"
            return _error(start_response, "400 Bad Request", code, message)
        if not after_write:
            return self._app(environ, start_response)
        answered: list[Any] = []
        body = self._app(environ, lambda *answer: answered.append(answer[:2]) or _ignore)
        try:
            payload = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        status, headers = answered[0]
        if not status.startswith("200"):  # a refused write (e.g. the condition failed): as moto answered
            start_response(status, headers)
            return [payload]
        with self.counts.lock:
            self.counts.failed_after_write += 1
        message = "Internal server error (injected by DBGUARD_FAULT_AFTER_WRITE_RATE after the write)"
        return _error(start_response, "500 Internal Server Error", "InternalServerError", message)


def _ignore(_: bytes) -> None:
    """The `write` callable start_response returns; moto returns its body instead."""


def _error(start_response: Callable, status: str, code: str, message: str) -> list[bytes]:
    payload = json.dumps({"__type": _ERROR_PREFIX + code, "message": message}).encode()
    start_response(
        status, [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
