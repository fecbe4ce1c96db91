"""From an SQS message body (the EventBridge event the rule delivered) to a validated change."""

from __future__ import annotations

from pydantic import ValidationError

from dbguard.cmdb.models import CmdbChange, CmdbChangeEvent
from dbguard.errors import InvalidInput, MalformedInput, PayloadTooLarge
from dbguard.validation import describe, problems_from


def parse_change(body: str, max_bytes: int) -> CmdbChange:
    size = len(body.encode("utf-8"))
    if size > max_bytes:
        raise PayloadTooLarge(f"CMDB event is {size} bytes; at most {max_bytes} are accepted")
    if not body.strip():
        raise MalformedInput("CMDB event is empty")
    try:
        return CmdbChangeEvent.model_validate_json(body).detail
    except ValidationError as error:
        if any(problem["type"] == "json_invalid" for problem in error.errors(include_input=False)):
            raise MalformedInput("CMDB event is not JSON") from None
        raise InvalidInput(f"invalid CMDB event: {describe(error)}", problems_from(error)) from None
