"""boto3 clients created once per cold start, with timeouts that fit inside a Lambda invocation."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

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
    return boto3.client(service, config=config)
