"""Turning pydantic errors into `Problem`s without ever echoing the input.

Inputs can carry secrets (a token, a password in an audit event's params), so messages name the
field and the rule broken, never the value. Also the list types settings read from the template.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from dbguard.errors import InvalidInput, Problem

Model = TypeVar("Model", bound=BaseModel)


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


def parse_event(model: type[Model], event: dict[str, Any], what: str) -> Model:
    """A Lambda event (or part of one) as `model`, or InvalidInput naming the fields wrong (never
    their values)."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        raise InvalidInput(f"invalid {what}: {describe(error)}", problems_from(error)) from None


def describe_error(error: Exception) -> str:
    """Exception text for logs, the registry and dead letters. dbguard's own exceptions never carry a
    secret's value; a pydantic error quotes its input, so one that escaped is described by fields."""
    if isinstance(error, ValidationError):
        return f"ValidationError: {describe(error)}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _comma_list(value: Any) -> Any:
    """A CommaDelimitedList parameter as the template joins it: "a, b,,c" -> ("a", "b", "c")."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _networks(value: Any) -> Any:
    """CIDRs; host bits are allowed ("10.1.2.50/24" is 10.1.2.0/24), a bare address is a /32 or /128."""
    try:
        return tuple(ip_network(item, strict=False) for item in _comma_list(value))
    except ValueError:
        raise ValueError("each item must be an IPv4 or IPv6 CIDR such as 10.1.2.0/24 or fd00::/64") from None


CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]
CidrList = Annotated[tuple[IPv4Network | IPv6Network, ...], BeforeValidator(_networks)]
