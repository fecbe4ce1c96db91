"""moto answers DynamoDB and Secrets Manager requests one at a time, as AWS answers each atomically.

moto is not thread-safe: DynamoDB's UpdateItem and PutItem check the condition and then write in
separate steps (moto/dynamodb/models/__init__.py), so two threads can both pass
`attribute_not_exists`; Secrets Manager looks secrets up by iterating a dict that CreateSecret
adds to (moto/secretsmanager/models.py, SecretsStore), which raises "dictionary changed size
during iteration". AWS gives neither: a conditional write is atomic per item, a service's store
is consistent per request. Holding one lock per request of theirs restores that, both for the
embedded AWS of `make run` (a threaded HTTP server) and for in-process moto (tests, chaos, bench);
moto's work holds the interpreter lock anyway, so this costs no parallelism. Only those two: an SQS
ReceiveMessage long-polls inside moto (sleeping up to WaitTimeSeconds), and under the lock every
other request would wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from moto import mock_aws
from moto.core.models import botocore_stubber

_one_request_at_a_time = threading.RLock()  # re-entrant: a backend may call another in-process
_ATOMIC_SERVICES = ("DynamoDB_20120810.", "secretsmanager.")  # X-Amz-Target prefixes (JSON protocol)


def _atomic(target: str | bytes | None) -> AbstractContextManager[Any]:
    if isinstance(target, bytes):
        target = target.decode()
    return _one_request_at_a_time if (target or "").startswith(_ATOMIC_SERVICES) else nullcontext()


class OneRequestAtATime:
    """A WSGI middleware in front of moto's server application."""

    def __init__(self, app: Callable) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        with _atomic(environ.get("HTTP_X_AMZ_TARGET")):
            return self._app(environ, start_response)


@contextmanager
def _in_process_requests_take_turns() -> Iterator[None]:
    """While open, DynamoDB and Secrets Manager requests to in-process moto (`mock_aws`) take turns."""
    patched = vars(botocore_stubber).get("process_request")  # set when opened inside another
    answer = botocore_stubber.process_request

    def one_at_a_time(request: Any) -> Any:
        with _atomic(request.headers.get("X-Amz-Target")):
            return answer(request)

    botocore_stubber.process_request = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        if patched is None:
            del botocore_stubber.process_request  # the class's own method again
        else:
            botocore_stubber.process_request = patched  # type: ignore[method-assign]


@contextmanager
def atomic_mock_aws() -> Iterator[None]:
    """`mock_aws` whose DynamoDB and Secrets Manager requests take turns: the embedded AWS of the
    tests, the chaos runs and the bench."""
    with mock_aws(), _in_process_requests_take_turns():
        yield
