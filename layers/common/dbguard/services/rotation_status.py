"""The operators' rotation status (GET /rotation/databases): every active database read from the
registry, judged by the rotation's timing settings, most urgent first (rotation/status.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from dbguard.registry.ports import ActiveDatabases
from dbguard.rotation.status import RotationStatusAnswer, StatusQuery, StatusRules


class RotationStatus:
    def __init__(
        self, registry: ActiveDatabases, rules: StatusRules, clock: Callable[[], float] = time.time
    ) -> None:
        self._registry = registry
        self._rules = rules
        self._clock = clock

    def report(self, query: StatusQuery) -> RotationStatusAnswer:
        return self._rules.answer(self._registry.due(), int(self._clock()), query.limit)
