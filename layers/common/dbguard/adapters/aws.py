"""AWS clients created once per cold start, with timeouts that fit inside a Lambda invocation.

They come from botocore's session directly: boto3's `client()` builds the same botocore client, and
importing boto3 adds its resource layer and s3transfer (with multiprocessing) to every cold start,
~15 ms that no dbguard call uses (docs/architecture.md)."""

from __future__ import annotations

from functools import cache, cached_property
from typing import Any

from botocore.config import Config
from botocore.session import Session, get_session

# Standard retries (3 attempts with backoff) ride out short throttling; the timeouts keep a stuck
# connection from eating the whole invocation. The pool holds a kept-alive connection for each thread
# that may call at once: token_rotation has up to RotationConcurrency (at most 64) rotations in
# progress, and its steps' invocations their own pools (botocore's default keeps 10 and opens, then
# discards, a new TLS connection past that).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    max_pool_connections=64,
)


def client(service: str, config: Config = CLIENT_CONFIG) -> Any:
    return _session().create_client(service, config=config)


def client_on_first_use(service: str) -> Any:
    """A client made when first called, not at cold start: loading a service's model and endpoint
    rules takes 20-30 ms, which a function's second client need not add to every init (make bench)."""
    return _OnFirstUse(service)


class _OnFirstUse:
    def __init__(self, service: str) -> None:
        self._service = service

    @cached_property
    def _made(self) -> Any:  # two threads racing here make two clients; either is fine
        return client(self._service)

    def __getattr__(self, name: str) -> Any:  # only what the instance lacks: the client's methods
        return getattr(self._made, name)


@cache
def _session() -> Session:
    """One session per process, as boto3's default one: clients after the first reuse its loaded
    endpoint and partition data."""
    return get_session()
