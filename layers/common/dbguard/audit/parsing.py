"""From a request body to validated events with their content-derived ids.

The id is a hash of the event's canonical JSON (sorted keys, no insignificant whitespace), so a
retried POST of the same event always maps to the same id whatever its key order or spacing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dbguard.audit.models import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST, AuditEvent
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge, Problem
from dbguard.validation import problems_from

_events_adapter = TypeAdapter(list[AuditEvent])


@dataclass(frozen=True)
class ParsedEvent:
    event: AuditEvent
    canonical: str  # the event exactly as received, in canonical JSON; stored as the raw payload
    id: str


@dataclass(frozen=True)
class ParsedBody:
    events: list[ParsedEvent]
    is_batch: bool  # the body was a JSON array (the answer is a result list)


def parse_body(body: bytes, max_bytes: int) -> ParsedBody:
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"request body is {len(body)} bytes; at most {max_bytes} are accepted")
    if not body.strip():
        raise MalformedInput("request body is empty; send one qhb_audit event or a JSON array of them")
    document = _load_json(body)
    items, is_batch = _as_items(document)
    events = _validate(items, is_batch)
    return ParsedBody(
        events=[
            _with_identity(event, item, index, is_batch)
            for index, (event, item) in enumerate(zip(events, items, strict=True))
        ],
        is_batch=is_batch,
    )


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_id(canonical: str) -> str:
    """128 bits of SHA-256: collisions are out of reach, and the id stays short in URLs."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise MalformedInput(
            f"request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except (ValueError, RecursionError) as error:  # bad encoding, NaN/Infinity, absurd nesting
        raise MalformedInput(f"request body is not valid JSON: {_reason(error)}") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _reason(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(error)


def _as_items(document: Any) -> tuple[list[Any], bool]:
    if isinstance(document, dict):
        return [document], False
    if not isinstance(document, list):
        raise InvalidInput(
            "request body must be a qhb_audit event (a JSON object) or a JSON array of events",
            [Problem("(root)", f"got a JSON {type(document).__name__}")],
        )
    if not document:
        raise InvalidInput("the array holds no events", [Problem("(root)", "at least one event is required")])
    if len(document) > MAX_EVENTS_PER_REQUEST:
        raise PayloadTooLarge(
            f"the array holds {len(document)} events; at most {MAX_EVENTS_PER_REQUEST} are accepted"
        )
    return document, True


def _validate(items: list[Any], is_batch: bool) -> list[AuditEvent]:
    try:
        return _events_adapter.validate_python(items)
    except ValidationError as error:
        problems = problems_from(error)
        if not is_batch:  # a single event's fields are named without the "[0]." of the wrapping list
            problems = [
                Problem(p.field.removeprefix("[0]").lstrip(".") or "(root)", p.message) for p in problems
            ]
        noun = "problem" if len(problems) == 1 else "problems"
        raise InvalidInput(
            f"{len(problems)} {noun} in the audit event(s); nothing was stored", problems
        ) from None


def _with_identity(event: AuditEvent, item: dict[str, Any], index: int, is_batch: bool) -> ParsedEvent:
    where = f"[{index}]" if is_batch else "(root)"
    try:
        canonical = canonical_json(item)
        size = len(canonical.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedInput(
            "an event holds a string that is not valid Unicode (a lone surrogate escape)",
            [Problem(where, "strings must be valid Unicode")],
        ) from None
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(
            f"an event is {size} bytes as JSON; at most {MAX_EVENT_BYTES} are accepted per event",
            [Problem(where, f"event is {size} bytes; the limit is {MAX_EVENT_BYTES}")],
        )
    return ParsedEvent(event=event, canonical=canonical, id=event_id(canonical))
