"""A function's init phase, run without the cyclic garbage collector.

Each handler imports this module first, which turns the collector off, and calls `init_finished()`
once its object graph is built. An init makes some 70,000 objects that live as long as the
environment (botocore's service models, pydantic's validators, the graph itself) and next to no
garbage, yet with the collector on, it walks them again and again while they are being made: about
20 ms of every cold start (`make bench`, cold start). `init_finished()` freezes them, then turns the
collector back on: they are never walked again, so a full collection in a warm environment takes a
fraction of a millisecond instead of ~40 ms. tests/integration/test_function_init.py checks both
ends for every function; a failed init ends the environment, collector off or not."""

from __future__ import annotations

import gc

gc.disable()


def init_finished() -> None:
    gc.freeze()  # what the init built stays for the environment's life: no collection need walk it
    gc.enable()
