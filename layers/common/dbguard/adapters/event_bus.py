"""Operator events (operator_events.py) on the account's default EventBridge bus."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dbguard.adapters import aws
from dbguard.observability import logger


class DefaultEventBus:
    # the client is made by the first event: most invocations publish none (cold start)
    @cached_property
    def _events(self) -> Any:
        return aws.client("events")

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}
        try:
            answer = self._events.put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as error:
            logger.error(
                "operator event not delivered", extra={"detail_type": detail_type, "error": str(error)}
            )
            return
        if answer.get("FailedEntryCount"):
            logger.error(
                "operator event refused", extra={"detail_type": detail_type, "answer": answer["Entries"]}
            )
