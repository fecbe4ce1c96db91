"""AWS clients created once per cold start, with timeouts that fit inside a Lambda invocation.

They come from botocore's session directly: boto3's `client()` builds the same botocore client, and
importing boto3 adds its resource layer and s3transfer (with multiprocessing) to every cold start,
~15 ms that no dbguard call uses (docs/architecture.md)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import Session, get_session

# Standard retries (3 attempts with backoff) ride out short throttling; the timeouts keep a stuck
# connection from eating the whole invocation. The pool holds a kept-alive connection for each thread
# that may call at once: token_rotation has up to 2 x RotationConcurrency (at most 64) databases in
# progress (botocore's default keeps 10 and opens, then discards, a new TLS connection past that).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    max_pool_connections=128,
)


def client(service: str, config: Config = CLIENT_CONFIG) -> Any:
    return _session().create_client(service, config=config)


@cache
def _session() -> Session:
    """One session per process, as boto3's default one: clients after the first reuse its loaded
    endpoint and partition data."""
    return get_session()
