"""rotation_status's object graph, built once per cold start from its settings: the registry (read
through its byDue index only) and the rotation's timing settings the template gives every function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from dbguard.adapters import aws
from dbguard.adapters.registry_store import Registry
from dbguard.composition.settings import EnvSettings
from dbguard.rotation.policy import RATE_EXPRESSION, schedule_interval_seconds
from dbguard.rotation.status import StatusRules
from dbguard.services.rotation_status import RotationStatus
from dbguard.snapstart import register_restore_hooks


class RotationStatusSettings(EnvSettings):
    registry_table_name: str = Field(alias="REGISTRY_TABLE_NAME")
    rotation_schedule: str = Field(default="rate(1 hour)", pattern=RATE_EXPRESSION, alias="ROTATION_SCHEDULE")
    rotation_window_seconds: int = Field(default=7 * 86400, ge=60, alias="ROTATION_WINDOW_SECONDS")

    def rules(self) -> StatusRules:
        return StatusRules(
            window_seconds=self.rotation_window_seconds,
            schedule_seconds=schedule_interval_seconds(self.rotation_schedule) or 0,
        )


def compose(environ: Mapping[str, str] | None = None, *, dynamodb: Any = None) -> RotationStatus:
    """The function's graph from its environment. The benchmark builds its own with it: `environ`
    another environment, `dynamodb` a client of its own (a model of DynamoDB's pages and latency)."""
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = RotationStatusSettings.load(environ)
    registry = Registry(settings.registry_table_name, dynamodb or aws.client("dynamodb"))
    return RotationStatus(registry, settings.rules())
