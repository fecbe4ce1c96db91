"""AWS clients created once per cold start, with timeouts that fit inside a Lambda invocation.

They come from botocore's session directly: boto3's `client()` builds the same botocore client, and
importing boto3 adds its resource layer and s3transfer (with multiprocessing) to every cold start,
~15 ms that no dbguard call uses (docs/architecture.md)."""

from __future__ import annotations

import os
from functools import cache, cached_property
from typing import Any, Literal, get_args

from botocore.config import Config
from botocore.loaders import Loader, instance_cache
from botocore.session import Session, get_session

# The services dbguard calls. A client of any other is refused by botocore, naming these.
Service = Literal["dynamodb", "secretsmanager", "sqs", "events", "s3", "kms"]

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


def client(service: Service, config: Config = CLIENT_CONFIG) -> Any:
    return _session().create_client(service, config=config)


def client_on_first_use(service: Service) -> Any:
    """A client made when first called, not at cold start: loading a service's model and endpoint
    rules takes 20-30 ms, which a function's second client need not add to every init (make bench)."""
    return _OnFirstUse(service)


class _OnFirstUse:
    def __init__(self, service: Service) -> None:
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
    session = get_session()
    session.register_component("data_loader", _DbguardServicesLoader(_data_paths(session)))
    return session


class _DbguardServicesLoader(Loader):  # type: ignore[misc]  # botocore is untyped
    """botocore's loader, asked only about dbguard's services.

    Before loading a service's model, botocore checks the name against every service it ships: two
    listings (model, endpoint rules) of 400+ directories at the first client, 20-25 ms of every cold
    start (make bench). Looking in the directories of dbguard's few services answers the same check."""

    @instance_cache  # type: ignore[untyped-decorator]  # botocore is untyped
    def list_available_services(self, type_name: str) -> list[str]:
        return [service for service in sorted(get_args(Service)) if self._ships(service, type_name)]

    def _ships(self, service: str, type_name: str) -> bool:
        for location in self.search_paths:
            directory = os.path.join(location, service)
            if os.path.isdir(directory) and any(
                self.file_loader.exists(os.path.join(directory, version, type_name))
                for version in os.listdir(directory)
            ):
                return True
        return False


def _data_paths(session: Session) -> list[str]:
    """AWS_DATA_PATH's folders, searched before botocore's own as its default loader does."""
    setting = session.get_config_variable("data_path")
    if not setting:
        return []
    return [os.path.expanduser(os.path.expandvars(path)) for path in setting.split(os.pathsep)]
