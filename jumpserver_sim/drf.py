"""What every endpoint of the simulator shares with Django REST framework 3.14 as JumpServer runs it:
the request and its answer, the error bodies, and how a body's fields are read.

Error bodies are those of apps/common/drf/exc_handlers.py (common_exception_handler) and
apps/jumpserver/views/error_views.py (Django's 404 and 500), the same at v3.10.23 and v4.10.16; the
field rules are DRF's own (rest_framework/fields.py), which both versions pin at 3.14.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jumpserver_sim.state import SERVER_ZONE

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NUL_REFUSED = "Null characters are not allowed."  # django/core/validators.py ProhibitNullCharactersValidator
# rest_framework/fields.py BooleanField
TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0}
MISSING: Any = object()  # a field the body does not carry, told apart from one sent as null
DETAIL = r"(?P<id>[^/]+)"  # a detail route's primary key, handed to its handler as `id`


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    now: float
    raw_query: str = ""  # as sent, for the paginator's links
    host: str = ""  # the Host header; "" when the Api is called directly


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Response]
Route = tuple[str, str, Handler]  # method, path pattern, handler


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def not_found(kind: str) -> ApiError:
    return ApiError(404, {"detail": f"{kind} object does not exist.", "code": "object_does_not_exist"})


def field_error(name: str, message: str) -> ApiError:
    return ApiError(400, {name: [message]})


def invalid_pk(value: Any) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


def method_not_allowed(method: str) -> Response:
    """rest_framework.exceptions.MethodNotAllowed (without its Allow header)."""
    return Response(405, {"detail": f'Method "{method}" not allowed.', "code": "method_not_allowed"})


INTERNAL_ERROR = ApiError(500, {"error": "Server internal error"})
ROUTE_NOT_FOUND = ApiError(404, {"error": "Not found"})
PERMISSION_DENIED = ApiError(
    403, {"detail": "You do not have permission to perform this action.", "code": "permission_denied"}
)


def object_body(body: Any) -> dict[str, Any]:
    """A serializer's data: nothing is an empty dict, anything but a dict is DRF's non-field error."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, not_a_dict(body))
    return body


def not_a_dict(value: Any) -> dict[str, list[str]]:
    kind = type(value).__name__
    return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


def char_error(value: Any, max_length: int | None = None, *, allow_blank: bool = False) -> str | None:
    """rest_framework/fields.py CharField (required, trim_whitespace): the error, or None. Its
    validators include ProhibitNullCharactersValidator (CharField.__init__), so a NUL anywhere is
    refused, after the length check."""
    if value is MISSING:
        return REQUIRED
    if value is None:
        return NOT_NULL
    if isinstance(value, (bool, dict, list)):
        return "Not a valid string."
    text = str(value)
    if not text.strip():
        return None if allow_blank else NOT_BLANK
    if max_length and len(text.strip()) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    if "\x00" in text:
        return NUL_REFUSED
    return None


def trimmed(value: Any) -> str:
    """What a CharField with trim_whitespace stores: the text without leading or trailing whitespace."""
    return str(value).strip()


def boolean(value: Any) -> bool | None:
    """rest_framework/fields.py BooleanField.to_internal_value; None when not a boolean."""
    try:
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
    except TypeError:  # unhashable
        pass
    return None


def drf_int(value: Any) -> int:
    """rest_framework/fields.py IntegerField.to_internal_value (raises ValueError)."""
    if isinstance(value, bool):
        raise ValueError(value)
    return int(re.sub(r"\.0*\s*$", "", str(value)))


def django_int(value: Any) -> int:
    """An integer primary-key lookup: Django does int(value); a ValueError there is a 500."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise INTERNAL_ERROR from None


def parse_date(value: Any, name: str, errors: dict[str, Any]) -> float | None:
    """rest_framework DateTimeField with JumpServer's DATETIME_INPUT_FORMATS
    (jumpserver/settings/libs.py): '%Y/%m/%d %H:%M:%S %z', ISO 8601, '%Y-%m-%d %H:%M:%S %z'."""
    if value is None:
        return None
    text = str(value)
    for parse in (
        lambda t: datetime.strptime(t, "%Y/%m/%d %H:%M:%S %z"),
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
        lambda t: datetime.strptime(t, "%Y-%m-%d %H:%M:%S %z"),
    ):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=SERVER_ZONE)
        return parsed.timestamp()
    formats = "YYYY/MM/DD hh:mm:ss +HHMM, YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"
    formats += ", YYYY-MM-DD hh:mm:ss +HHMM"
    errors[name] = [f"Datetime has wrong format. Use one of these formats instead: {formats}."]
    return None


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
