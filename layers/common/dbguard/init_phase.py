"""A function's init phase, run without the cyclic garbage collector.

Each handler imports this module first, which turns the collector off, and calls `init_finished()`
once its object graph is built. An init makes some 70,000 objects that live as long as the
environment (botocore's service models, pydantic's validators, the graph itself) and next to no
garbage, yet with the collector on, it walks them again and again while they are being made: 15-25 ms
of every cold start (`make bench`, cold start). In a Lambda environment (`LAMBDA_TASK_ROOT` set, as
Lambda and the local stack's workers set it) `init_finished()` then freezes them: never walked again,
a full collection in a warm environment takes a fraction of a millisecond instead of ~40 ms. A process
that loads many handlers (tests, benchmarks) does not freeze: it would keep for good what it drops
later. tests/integration/test_function_init.py checks both ends for every function."""

from __future__ import annotations

import gc
import os

gc.disable()


def init_finished() -> None:
    if os.environ.get("LAMBDA_TASK_ROOT"):  # one init, then only invocations: the init's objects stay
        gc.freeze()
    gc.enable()
