"""Which ingest token a request carries, from a cached token list that a miss may refresh.

The source caches the secret (INGEST_TOKEN_CACHE_SECONDS); a token added to the secret is honoured
at once because a miss reads it again - at most every `refresh_on_miss_seconds`, so a flood of
wrong tokens cannot turn into a flood of Secrets Manager reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dbguard.audit.ports import TokenSource

REFRESH_ON_MISS_SECONDS = 10.0


class IngestTokenCheck:
    def __init__(
        self,
        source: TokenSource,
        refresh_on_miss_seconds: float = REFRESH_ON_MISS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._refresh_on_miss_seconds = refresh_on_miss_seconds
        self._clock = clock
        self._last_refresh: float | None = None

    def slot_of(self, token: str) -> int | None:
        """Which valid token `token` is (0, 1, ...), or None when it is none of them."""
        slot = self._source.tokens(fresh=False).slot_of(token)
        if slot is None and self._may_refresh():
            self._last_refresh = self._clock()
            slot = self._source.tokens(fresh=True).slot_of(token)
        return slot

    def _may_refresh(self) -> bool:
        return (
            self._last_refresh is None or self._clock() - self._last_refresh >= self._refresh_on_miss_seconds
        )
