"""Turning pydantic errors into `Problem`s without ever echoing the input.

Inputs can carry secrets (a token, a password in an audit event's params), so messages name the
field and the rule broken, never the value.
"""

from __future__ import annotations

from pydantic import ValidationError

from dbguard.errors import Problem


def field_path(location: tuple[str | int, ...]) -> str:
    """`(0, "params", 2, "Value")` -> `[0].params[2].Value`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def problems_from(error: ValidationError) -> list[Problem]:
    return [
        Problem(field=field_path(tuple(item["loc"])), message=item["msg"])
        for item in error.errors(include_input=False, include_url=False, include_context=False)
    ]


def describe(error: ValidationError) -> str:
    """A one-line, value-free summary for logs and exception text."""
    return "; ".join(f"{p.field}: {p.message}" for p in problems_from(error))
