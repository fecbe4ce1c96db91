"""HTTP to JumpServer: timeouts on every call, retries only where repeating is safe, and at most
`max_in_flight` requests at once however many threads share the transport.

Retried with exponential backoff and jitter: connection failures, 429 (after its Retry-After) and
502/503/504, on GET/PATCH/PUT/DELETE. A POST is retried only when it certainly was not applied
(refused connection, 429); after a timeout or a 5xx it raises JumpServerOutcomeUnknown. A 401 reads
the credentials again once (a rotated key) and repeats the request.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from urllib3.exceptions import NewConnectionError

from dbguard.adapters.jumpserver.auth import CredentialsSource
from dbguard.adapters.jumpserver.errors import (
    JumpServerError,
    JumpServerOutcomeUnknown,
    JumpServerThrottled,
    JumpServerUnavailable,
    error_from_response,
)
from dbguard.metric_catalogue import JUMPSERVER_BUSIEST_MINUTE, JUMPSERVER_REQUESTS
from dbguard.observability import emit, logger

if TYPE_CHECKING:
    import requests

IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "OPTIONS"})
RETRYABLE_STATUS = frozenset({502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0  # DRF's wait is what is left of a one-minute window
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
POOLED_CONNECTIONS = 10  # what a requests.Session keeps per host unless told otherwise


WINDOW_SECONDS = 60.0  # JumpServer's throttle counts a user's requests in a sliding minute


def _slide(sent: deque[float], now: float) -> int:
    """Forget what left the window ending `now`; what is left in it."""
    while sent and sent[0] <= now - WINDOW_SECONDS:
        sent.popleft()
    return len(sent)


class RequestTally:
    """Requests sent to JumpServer since the last report, retries included: how many, and the most in
    any 60 s, the window JumpServer's throttle and JumpServerRequestsPerMinute count in. A handler
    reports it once per invocation (JumpServerRequests, JumpServerBusiestMinute): the dashboard's
    requests against the budget."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent: deque[float] = deque()  # kept across invocations, as JumpServer's window is
        self._count = 0
        self._busiest = 0
        self._lock = threading.Lock()

    def record(self) -> None:
        with self._lock:
            now = self._clock()
            self._sent.append(now)
            self._count += 1
            self._busiest = max(self._busiest, _slide(self._sent, now))

    def report(self) -> None:
        with self._lock:
            count, busiest = self._count, self._busiest
            self._count = self._busiest = 0
        emit(JUMPSERVER_REQUESTS, count)
        emit(JUMPSERVER_BUSIEST_MINUTE, busiest)


class RequestBudget:
    """At most `per_minute` requests in any 60 s, the way JumpServer counts them (DRF's sliding
    window per user, common/drf/throttling.py): calls beyond it wait instead of drawing a 429."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                if _slide(self._sent, now) < self._per_minute:
                    self._sent.append(now)
                    return
                wait = self._sent[0] + WINDOW_SECONDS - now
            logger.info("pacing JumpServer requests", extra={"delay_s": round(wait, 2)})
            self._sleep(wait)


class Transport:
    def __init__(
        self,
        base_url: str,
        credentials: CredentialsSource,
        *,
        org_id: str,
        timeout_seconds: float,
        max_retries: int,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget: RequestBudget | None = None,
        max_in_flight: int | None = None,
        tally: RequestTally | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._budget = budget
        self.tally = tally or RequestTally()
        self._max_in_flight = max_in_flight
        self._in_flight: AbstractContextManager[Any] = (
            threading.BoundedSemaphore(max_in_flight) if max_in_flight else nullcontext()
        )
        self._credentials = credentials
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._sleep = sleep
        self._headers = {"Accept": "application/json", "Accept-Language": "en", "X-JMS-ORG": org_id}
        self._session = session
        self._session_lock = threading.Lock()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, what: str = "the request") -> Any:  # fmt: skip
        """The parsed JSON body of a 2xx answer (None when empty); raises a JumpServerError."""
        response = self._send(method, path, params, json, what)
        if response.status_code == 401:  # the key may have been rotated: read it again, once
            response = self._send(method, path, params, json, what, refresh=True)
        body = _json(response)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, body, what)
        return body

    def reserve(self, requests: int) -> None:
        """Count `requests` sent elsewhere against the budget, waiting as a request of its own would."""
        if self._budget is None:
            return
        for _ in range(requests):
            self._budget.acquire()

    def status_of(self, method: str, path: str, what: str) -> int:
        """Only the status (version detection); still authenticated and retried."""
        return self._send(method, path, None, None, what).status_code

    def _http(self) -> requests.Session:
        # requests is imported, and the session made, by the first call rather than at import (cold
        # start): some invocations make no JumpServer call (a scheduled run with nothing due, a stale
        # or invalid CMDB change)
        with self._session_lock:
            if self._session is None:
                import requests

                self._session = requests.Session()
                if self._max_in_flight and self._max_in_flight > POOLED_CONNECTIONS:
                    # one kept-alive connection per request in flight, not a new one for each past 10
                    pool = requests.adapters.HTTPAdapter(pool_maxsize=self._max_in_flight)
                    self._session.mount(f"{urlsplit(self._base_url).scheme}://", pool)
            return self._session

    def _send(
        self, method: str, path: str, params: Any, body: Any, what: str, refresh: bool = False
    ) -> requests.Response:
        import requests  # on first use, not at import (see _http)

        session = self._http()
        auth = self._credentials.get(refresh=refresh).auth()
        url = f"{self._base_url}{path}"
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                # a slot first, then the budget: a request counted by the budget is sent at once
                with self._in_flight:
                    if self._budget is not None:
                        self._budget.acquire()
                    self.tally.record()
                    response = session.request(
                        method,
                        url,
                        params=params,
                        json=body,
                        headers=self._headers,
                        auth=auth,
                        timeout=self._timeout,
                    )
            except requests.RequestException as error:
                if not _retry_safe(method, error) or last:
                    raise _unreachable(method, error, what) from None
                self._back_off(attempt, what, type(error).__name__)
                continue
            if response.status_code == 429:
                wait = _retry_after(response)
                if last:
                    raise JumpServerThrottled(f"JumpServer throttled {what} (429)", wait)
                self._back_off(attempt, what, "429", wait)
                continue
            if response.status_code in RETRYABLE_STATUS and method in IDEMPOTENT and not last:
                self._back_off(attempt, what, str(response.status_code))
                continue
            if response.status_code >= 500 and method not in IDEMPOTENT:
                raise JumpServerOutcomeUnknown(
                    f"JumpServer answered {response.status_code} to {what}; it may or may not be done",
                    status=response.status_code,
                )
            return response
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _back_off(self, attempt: int, what: str, reason: str, wait: float | None = None) -> None:
        delay = wait if wait is not None else min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        delay *= random.uniform(1.0, 1.25)  # noqa: S311 - jitter, not cryptography
        logger.warning("JumpServer retry", extra={"what": what, "reason": reason, "delay_s": round(delay, 2)})
        self._sleep(delay)


def _retry_safe(method: str, error: requests.RequestException) -> bool:
    """Idempotent calls always; a POST only if it can not have reached JumpServer."""
    import requests  # already loaded: only a call that went through requests gets here

    if method in IDEMPOTENT:
        return True
    cause = error.args[0] if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(
        getattr(cause, "reason", None), NewConnectionError
    )


def _unreachable(method: str, error: requests.RequestException, what: str) -> JumpServerError:
    if method not in IDEMPOTENT and not _retry_safe(method, error):
        return JumpServerOutcomeUnknown(
            f"JumpServer did not answer {what} ({type(error).__name__}); it may be done"
        )
    return JumpServerUnavailable(f"JumpServer is unreachable for {what} ({type(error).__name__})")


def _retry_after(response: requests.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return 1.0


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None  # a proxy's HTML error page
