"""From a request body to validated events with their content-derived ids.

The id is a hash of the event's canonical JSON (sorted keys, no insignificant whitespace), so a
retried POST of the same event always maps to the same id whatever its key order or spacing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dbguard.audit.json_limits import Location, Refused, load_for_storage, refusals
from dbguard.audit.limits import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_REQUEST,
    MAX_NESTING_DEPTH,
    MAX_UNKNOWN_FIELDS_BYTES,
)
from dbguard.audit.models import AuditEvent, AuditParam
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge, Problem
from dbguard.validation import field_path, problems_from

_events_adapter = TypeAdapter(list[AuditEvent])
MAX_PROBLEMS_LISTED = 20  # an error body stays small whatever the request holds
_MAX_KEY_CHARS_IN_PATH = 64
_EVENT_KEYS = frozenset(field.alias or name for name, field in AuditEvent.model_fields.items())
_PARAM_KEYS = frozenset(field.alias or name for name, field in AuditParam.model_fields.items())
_EVENT_LEVEL, _PARAM_LEVEL = 1, 3  # an event object, and an object in its `params` array


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
    document, marked = _load_json(body)
    if marked:
        _refuse_marked_values(document)
    items, is_batch = _as_items(document)
    _limit_unknown_fields(items, is_batch)
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


def _load_json(body: bytes) -> tuple[Any, bool]:
    try:
        # strictly UTF-8 (a BOM allowed, RFC 8259 8.1): json.loads would also take UTF-16 and -32,
        # and a lone surrogate would reach the model as pydantic's "unable to parse raw data"
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MalformedInput(
            f"request body is not UTF-8 text (invalid byte at offset {error.start}): qhb_audit sends "
            "UTF-8 JSON; check the client's encoding"
        ) from None
    try:
        return load_for_storage(text)
    except json.JSONDecodeError as error:
        raise MalformedInput(
            f"request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:  # a hook's refusal
        raise MalformedInput(f"request body is not valid JSON: {error}") from None
    except RecursionError:  # nesting beyond the parser's stack
        raise MalformedInput(
            f"request body is not valid JSON: nested too deeply (at most {MAX_NESTING_DEPTH} levels "
            "are accepted)"
        ) from None


def _refuse_marked_values(document: Any) -> None:
    """NaN/Infinity (400); numbers DynamoDB cannot hold, repeated keys (422): all named by path."""
    first_level = 0 if isinstance(document, list) else _EVENT_LEVEL  # a batch's array does not count
    _refuse(refusals(document, first_level))


def _refuse(marks: Iterator[tuple[Location, Refused]]) -> None:
    found = list(itertools.islice(marks, MAX_PROBLEMS_LISTED + 1))
    if not found:
        return
    problems = [Problem(_path(location), refused.reason) for location, refused in found]
    error = MalformedInput if any(refused.malformed for _, refused in found) else InvalidInput
    raise error(
        _summary(problems[:MAX_PROBLEMS_LISTED], more=len(found) > MAX_PROBLEMS_LISTED),
        problems[:MAX_PROBLEMS_LISTED],
    )


def _path(location: Location) -> str:
    """A JSON path for error answers; a huge key is cut so the answer stays small."""
    return field_path(
        tuple(
            part[:_MAX_KEY_CHARS_IN_PATH] + "…"
            if isinstance(part, str) and len(part) > _MAX_KEY_CHARS_IN_PATH
            else part
            for part in location
        )
    )


def _summary(problems: list[Problem], more: bool = False) -> str:
    noun = "problem" if len(problems) == 1 else "problems"
    return f"{'more than ' if more else ''}{len(problems)} {noun} in the audit event(s); nothing was stored"


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
        raise InvalidInput(_summary(problems), problems) from None


def _limit_unknown_fields(items: list[Any], is_batch: bool) -> None:
    """Unknown fields (the event's and its params') are opaque to dbguard: their nesting and their
    size together are bounded. The known fields' shape is bounded by the model."""
    for index, item in enumerate(items):
        unknown = _unknown_fields(item, (index,) if is_batch else ())
        if not unknown:
            continue
        _refuse(
            itertools.chain.from_iterable(
                refusals(value, level, location) for location, level, value in unknown
            )
        )
        sizes = {location: _json_bytes({location[-1]: value}) - 2 for location, _, value in unknown}
        total = sum(sizes.values())  # each field as canonical "key":value
        if total > MAX_UNKNOWN_FIELDS_BYTES:
            largest = max(sizes, key=sizes.__getitem__)
            raise PayloadTooLarge(
                f"an event's unknown fields are {total} bytes as JSON; at most {MAX_UNKNOWN_FIELDS_BYTES} "
                "are accepted per event",
                [
                    Problem(
                        _path(largest),
                        f"largest unknown field ({sizes[largest]} bytes) of {total} bytes "
                        f"in all; the limit is {MAX_UNKNOWN_FIELDS_BYTES}",
                    )
                ],
            )


def _unknown_fields(item: Any, where: Location) -> list[tuple[Location, int, Any]]:
    """(location, nesting level, value) of each unknown field of an event and of its params; what
    is not shaped like an event is left to the model to refuse."""
    if type(item) is not dict:
        return []
    found = [
        ((*where, key), _EVENT_LEVEL + 1, value) for key, value in item.items() if key not in _EVENT_KEYS
    ]
    params = item.get("params")
    if type(params) is list:
        for position, param in enumerate(params):
            if type(param) is dict and param.keys() != _PARAM_KEYS:
                found += [
                    ((*where, "params", position, key), _PARAM_LEVEL + 1, value)
                    for key, value in param.items()
                    if key not in _PARAM_KEYS
                ]
    return found


def _json_bytes(document: Any) -> int:
    return len(canonical_json(document).encode("utf-8", "surrogatepass"))  # lone surrogates: refused later


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
