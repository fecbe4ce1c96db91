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
ROOT = "(root)"  # the field of a problem with the whole input (a rule across fields, its type)


def field_path(location: tuple[str | int, ...]) -> str:
    """`(0, "params", 2, "Value")` -> `[0].params[2].Value`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or ROOT


# What pydantic puts before the text of an error a validator raised: its words, not dbguard's.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def problems_from(error: ValidationError) -> list[Problem]:
    return [
        Problem(field=field_path(tuple(item["loc"])), message=_own_words(item["msg"]))
        for item in error.errors(include_input=False, include_url=False, include_context=False)
    ]


def _own_words(message: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    return message


def summary(problems: list[Problem]) -> str:
    """`userLogin: ...; 'from' is after 'to'`: a rule about the whole input is said without a field."""
    return "; ".join(p.message if p.field == ROOT else f"{p.field}: {p.message}" for p in problems)


def describe(error: ValidationError) -> str:
    """A one-line, value-free summary for logs and exception text."""
    return summary(problems_from(error))


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
