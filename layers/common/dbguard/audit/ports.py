"""What the audit services need from storage, the event bus and the token secret (adapters in
dbguard.adapters implement these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # each function loads only the models its own ports carry (cold start)
    from dbguard.audit.direct import DirectConnection
    from dbguard.audit.filters import QueryPlan
    from dbguard.audit.tokens import IngestTokens


class EventWriter(Protocol):
    def put_all_if_absent(self, records: Sequence[dict[str, Any]]) -> list[bool | Exception]:
        """Write each record unless its id is stored; per record True (created), False (stored
        before) or the error of that write. Every write has finished when this returns."""
        ...


class Announcer(Protocol):
    def announce(self, connections: Sequence[DirectConnection]) -> None:
        """Must not raise: what cannot be put on the bus is dead-lettered (dbguard.adapters.announcer)."""
        ...


@dataclass(frozen=True)
class IndexPage:
    """Stored records newest first: {"id", "receivedAt", "raw", "direct"?} as stored."""

    events: list[dict[str, Any]]
    last_ts: str | None  # the sort key of the last record, set when more records follow
    index_items_read: int = 0


class EventReader(Protocol):
    def get(self, event_id: str) -> dict[str, Any] | None: ...

    def page(self, query: QueryPlan, limit: int, after_ts: str | None) -> IndexPage:
        """Up to `limit` records of the plan's index, newest first, strictly below `after_ts`."""
        ...


class TokenSource(Protocol):
    def tokens(self, *, fresh: bool) -> IngestTokens:
        """The valid ingest tokens; `fresh`: read them again rather than from a cache."""
        ...


class SourceActivity(Protocol):
    def seen(self, source: str, events: int, at_ms: int) -> None:
        """`events` new events of `source` arrived at `at_ms` (written lazily, not once per call)."""
        ...

    def flush(self) -> None:
        """Write what `seen` holds back (an invocation that must leave nothing pending)."""
        ...


class NoSourceActivity:
    """Tracks nothing (tests of other rules)."""

    def seen(self, source: str, events: int, at_ms: int) -> None:
        return None

    def flush(self) -> None:
        return None
