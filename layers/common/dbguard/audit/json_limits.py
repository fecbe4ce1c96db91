"""JSON values dbguard can store and give back: finite numbers DynamoDB could hold, unique keys,
bounded nesting.

One parse pass does the work: its hooks replace each value that breaks a rule with a `Refused`
mark and note that they did (a hook cannot know where in the document it is); only then does
`refusals` walk the document to name the JSON path of every mark. Nesting is checked by the same
walk, on the parts of a document whose shape no model bounds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dbguard.audit.limits import MAX_NESTING_DEPTH

# DynamoDB's number type: 38 significant digits, nonzero magnitudes 1E-130 to 9.99…9E+125.
MAX_SIGNIFICANT_DIGITS = 38
SMALLEST_EXPONENT = -130
LARGEST_EXPONENT = 125

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Refused:
    """Stands in the parsed document for a value dbguard refuses; says why, never what it was."""

    reason: str
    malformed: bool = False  # not JSON at all (NaN, Infinity), as opposed to a value over a limit


OUT_OF_RANGE = Refused(
    f"number out of range: at most {MAX_SIGNIFICANT_DIGITS} significant digits and a magnitude "
    "of 1E-130 to 9.9999999999999999999999999999999999999E+125 (or 0)"
)
NOT_FINITE = Refused("number is not finite")
DUPLICATE_KEY = Refused("duplicate key: the object gives this key more than once")
TOO_DEEP = Refused(f"nested deeper than {MAX_NESTING_DEPTH} levels")


def load_for_storage(body: bytes | str) -> tuple[Any, bool]:
    """The document, and whether a non-finite or unstorable number or a repeated key was marked."""
    hooks = _StorageHooks()
    document = json.loads(
        body,
        parse_constant=hooks.parse_constant,
        parse_float=hooks.parse_float,
        parse_int=hooks.parse_int,
        object_pairs_hook=hooks.object_pairs_hook,
    )
    return document, hooks.marked


def load_stored(text: str) -> Any:
    """A stored payload; only what cannot be answered as JSON is marked (values stored before the
    storage rules existed stay readable)."""
    return json.loads(text, parse_constant=_constant, parse_float=_finite_float)


def refusals(value: Any, depth: int, location: Location = ()) -> Iterator[tuple[Location, Refused]]:
    """Each mark in `value`, and each container deeper than MAX_NESTING_DEPTH, with its location;
    `value` itself sits at nesting level `depth` (an event object is level 1). Lazy, so a caller
    that lists only the first few stops the walk early."""
    if type(value) is Refused:
        yield location, value
        return
    if type(value) is dict:
        children: Any = value.items()
    elif type(value) is list:
        children = enumerate(value)
    else:
        return
    if depth > MAX_NESTING_DEPTH:
        yield location, TOO_DEEP
        return
    for key, child in children:
        if type(child) in _WALKED:
            yield from refusals(child, depth + 1, (*location, key))


_WALKED = frozenset({dict, list, Refused})


class _StorageHooks:
    """One parse's hooks; `marked` saves walking a clean document to look for marks."""

    def __init__(self) -> None:
        self.marked = False

    def parse_constant(self, name: str) -> Refused:
        self.marked = True
        return _constant(name)

    def parse_float(self, text: str) -> float | Refused:
        if _storable(text):
            return float(text)
        self.marked = True
        return OUT_OF_RANGE

    def parse_int(self, text: str) -> int | Refused:
        if len(text) <= MAX_SIGNIFICANT_DIGITS or _storable(text):  # short: every such integer fits
            return int(text)
        self.marked = True
        return OUT_OF_RANGE

    def object_pairs_hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document = dict(pairs)
        if len(document) < len(pairs):  # rare: find which keys repeat
            self.marked = True
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    document[key] = DUPLICATE_KEY
                seen.add(key)
        return document


def _constant(name: str) -> Refused:
    return Refused(f"{name} is not a JSON number", malformed=True)


def _storable(text: str) -> bool:
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond even Decimal's range
        return False
    if number.is_zero():
        return True
    digits = "".join(map(str, number.as_tuple().digits)).rstrip("0")  # DynamoDB trims trailing zeros
    return (
        len(digits) <= MAX_SIGNIFICANT_DIGITS and SMALLEST_EXPONENT <= number.adjusted() <= LARGEST_EXPONENT
    )


def _finite_float(text: str) -> float | Refused:
    number = float(text)
    return number if math.isfinite(number) else NOT_FINITE
