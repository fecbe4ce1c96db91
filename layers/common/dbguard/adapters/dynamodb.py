"""Plain-Python <-> DynamoDB attribute values, and the errors every table access maps the same way."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dbguard.errors import StorageUnavailable

# Errors after which the same request can succeed later: callers tell their client to retry.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
_LARGEST_NUMBER = 10**38  # DynamoDB numbers hold 38 digits; TypeSerializer refuses a longer one


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _attribute(value) for name, value in values.items()}


def _attribute(value: Any) -> dict[str, Any]:
    """What dbguard stores (strings, booleans, integers, None, lists and maps of them) directly, as
    boto3's TypeSerializer writes it (five times faster; ~9 µs of each stored event); anything else
    through TypeSerializer itself, imported then: importing boto3 costs every cold start ~15 ms."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_LARGEST_NUMBER < value < _LARGEST_NUMBER:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if kind is list:
        return {"L": [_attribute(item) for item in value]}
    if kind is dict and all(type(key) is str for key in value):
        return {"M": to_item(value)}
    from boto3.dynamodb.types import TypeSerializer

    serialized: dict[str, Any] = TypeSerializer().serialize(value)
    return serialized


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(value) for name, value in item.items()}


def _plain(attribute: Mapping[str, Any]) -> Any:
    """The value of one attribute; numbers as integers, since dbguard stores only integers. What
    dbguard never writes (sets, binary, a fraction) is read as TypeDeserializer reads it, so a
    record written by someone else still reads."""
    [(kind, value)] = attribute.items()
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "N" and value.removeprefix("-").isdecimal():
        return int(value)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_plain(item) for item in value]
    if kind == "M":
        return from_item(value)
    from boto3.dynamodb.types import TypeDeserializer

    return _integers(TypeDeserializer().deserialize(attribute))


def _integers(value: Any) -> Any:
    """DynamoDB numbers come back from TypeDeserializer as Decimal."""
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value)
    return value


def error_code(error: Exception) -> str:
    code: str = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code


@contextmanager
def storage_errors(action: str, retry_after_seconds: int) -> Iterator[None]:
    """Throttling and an unreachable DynamoDB raised as StorageUnavailable: the client is told to
    retry after `retry_after_seconds` (the SDK's own retries are spent by then)."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in RETRYABLE_CODES:
            raise StorageUnavailable(
                f"DynamoDB refused the {action} ({code})", retry_after_seconds
            ) from error
        raise
    except BotoCoreError as error:  # connection refused, timeouts
        raise StorageUnavailable(
            f"DynamoDB unreachable ({type(error).__name__})", retry_after_seconds
        ) from error
