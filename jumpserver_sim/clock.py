"""A clock tests and chaos runs can move forward: real time plus whatever they skip."""

from __future__ import annotations

import time


class SkippableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
