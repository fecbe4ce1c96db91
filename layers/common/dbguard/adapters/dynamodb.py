"""Plain-Python <-> DynamoDB attribute values, and the errors every table access maps the same way."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from dbguard.errors import StorageUnavailable

_serializer = TypeSerializer()
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
_deserializer = TypeDeserializer()
_LARGEST_NUMBER = 10**38  # DynamoDB numbers hold 38 digits; TypeSerializer refuses a longer one


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _attribute(value) for name, value in values.items()}


def _attribute(value: Any) -> dict[str, Any]:
    """A string, boolean or integer directly (every attribute of an audit record: TypeSerializer
    takes five times as long, ~9 µs of each stored event), anything else as TypeSerializer does."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_LARGEST_NUMBER < value < _LARGEST_NUMBER:
        return {"N": str(value)}
    serialized: dict[str, Any] = _serializer.serialize(value)
    return serialized


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; dbguard only stores integers."""
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
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
