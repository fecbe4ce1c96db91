"""moto answers one request at a time, as AWS answers each request atomically.

moto is not thread-safe: DynamoDB's UpdateItem and PutItem check the condition and then write in
separate steps (moto/dynamodb/models/__init__.py), so two threads can both pass
`attribute_not_exists`; Secrets Manager looks secrets up by iterating a dict that CreateSecret
adds to (moto/secretsmanager/models.py, SecretsStore), which raises "dictionary changed size
during iteration". AWS gives neither: a conditional write is atomic per item, a service's store
is consistent per request. Holding one lock per request restores that, both for the embedded AWS
of `make run` (a threaded HTTP server) and for in-process moto (tests, chaos, bench). moto's work
holds the interpreter lock anyway, so this costs no parallelism.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.models import botocore_stubber

_one_request_at_a_time = threading.RLock()  # re-entrant: a backend may call another in-process


class OneRequestAtATime:
    """A WSGI middleware in front of moto's server application."""

    def __init__(self, app: Callable) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        with _one_request_at_a_time:
            return self._app(environ, start_response)


@contextmanager
def in_process_moto_one_request_at_a_time() -> Iterator[None]:
    """While open, boto3 requests that in-process moto answers (inside `mock_aws`) take turns."""
    patched = vars(botocore_stubber).get("process_request")  # set when opened inside another
    answer = botocore_stubber.process_request

    def one_at_a_time(request: Any) -> Any:
        with _one_request_at_a_time:
            return answer(request)

    botocore_stubber.process_request = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        if patched is None:
            del botocore_stubber.process_request  # the class's own method again
        else:
            botocore_stubber.process_request = patched  # type: ignore[method-assign]
