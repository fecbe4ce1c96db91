"""Fault injection shared by the failure tests (tests/integration/rotation/test_failure_at_every_step.py)
and the chaos runs (chaos/): failures around the calls of a function's dependencies, random faults
in the JumpServer simulator's answers, and throttling in front of boto3 clients.

A dependency wrapped in `Faulty` sends each public method call through a plan: `FaultPlan` fails
the n-th call, `RandomFaults` a share of them, in one of four ways: before the call runs (it never
happened), after it runs (it happened but the caller saw an error, like a timeout after a commit),
or as a kill at either point (`Killed`: the function stopped there, no cleanup code runs).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

MODES = ("before", "after", "kill-before", "kill-after")


class Killed(BaseException):  # not an Exception: no handler may catch it, as when the process stops
    """The function was stopped here (timeout, out of memory): nothing after this line runs."""


class FaultPlan:
    """Counts calls across every wrapped dependency; the `fail_at`-th one fails as `mode` says."""

    def __init__(self, fail_at: int | None = None, mode: str = "before") -> None:
        self.fail_at, self.mode, self.calls, self.fired, self.failed_call = fail_at, mode, 0, False, ""

    def __str__(self) -> str:
        return f"call {self.fail_at} ({self.failed_call}) failing {self.mode}"

    def call(self, method, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        failing = self.calls == self.fail_at
        if failing:
            self.failed_call = method.__name__
        return _call_failing(method, args, kwargs, self.mode if failing else None, self._fired, self.calls)

    def _fired(self) -> None:
        self.fired = True


def each_failure(run: Callable[[FaultPlan], None], most_calls: int = 500) -> int:
    """Run `run(plan)` failing at call 1, 2, ... in every mode until a run makes fewer calls than the
    failure's position; return how many failures were injected."""
    injected = 0
    for mode in MODES:
        for fail_at in range(1, most_calls):
            plan = FaultPlan(fail_at, mode)
            run(plan)
            if not plan.fired:
                break
            injected += 1
    return injected


class RandomFaults:
    """Each call fails with probability `rate`, in a mode drawn from `modes` (thread-safe; the draws
    follow `rng`, so a seed gives the same sequence of failures for the same sequence of calls)."""

    def __init__(self, rng: random.Random, rate: float, modes: tuple[str, ...] = MODES) -> None:
        self._rng, self._rate, self._modes = rng, rate, modes
        self._lock = threading.Lock()
        self.calls = 0
        self.injected: Counter[str] = Counter()  # mode -> failures injected
        self.enabled = True

    def call(self, method, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            failing = self.enabled and self._rng.random() < self._rate
            mode = self._rng.choice(self._modes) if failing else None
            if mode:
                self.injected[mode] += 1
        return _call_failing(method, args, kwargs, mode, lambda: None, self.calls)


def _call_failing(method, args, kwargs, mode: str | None, fired: Callable[[], None], number: int) -> Any:
    if mode is None:
        return method(*args, **kwargs)
    error = Killed() if mode.startswith("kill") else RuntimeError(f"injected failure #{number}")
    if not mode.endswith("after"):
        fired()
        raise error
    method(*args, **kwargs)
    fired()
    raise error


class Faulty:
    """A dependency whose public method calls go through the plan."""

    def __init__(self, target: Any, plan: FaultPlan | RandomFaults) -> None:
        self._target, self._plan = target, plan

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        return lambda *args, **kwargs: self._plan.call(attribute, *args, **kwargs)


# --------------------------------------------------------------------------- JumpServer simulator
SIMULATOR_FAULTS = ("fail_next", "throttle_next", "hang_next", "fail_after_commit_next")


class SimulatorChaos:
    """Random faults in a JumpServer simulator's answers: each request, with probability `rates[f]`,
    is given the simulator's own fault `f` (502 before, 429 with Retry-After, a hang past the
    client's timeout, or a 502 after the request was applied). Requests to /_sim/ are spared."""

    def __init__(self, simulator: Any, rng: random.Random, rates: dict[str, float]) -> None:
        unknown = set(rates) - set(SIMULATOR_FAULTS)
        if unknown:
            raise ValueError(f"unknown simulator faults {sorted(unknown)}")
        self._simulator, self._rng, self._rates = simulator, rng, rates
        self._answer = simulator.answer
        self._lock = threading.Lock()
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self.enabled = True
        simulator.answer = self.answer  # the simulator's handler calls simulator.answer(...)

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes):
        if target.startswith("/_sim/"):
            return self._answer(method, target, headers, raw)
        with self._lock:
            self.requests += 1
            draw = self._rng.random() if self.enabled else 1.0
            for name, rate in self._rates.items():
                if draw < rate:
                    self.injected[name] += 1
                    # one-shot: the next request the simulator answers takes it (under concurrency,
                    # not always this one: the number of faults is what the rates say)
                    self._simulator.faults(**{name: getattr(self._simulator.fault, name) + 1})
                    break
                draw -= rate
        return self._answer(method, target, headers, raw)

    def stop(self) -> None:
        self._simulator.answer = self._answer


# --------------------------------------------------------------------------- embedded AWS (boto3)
class AwsThrottling:
    """A share of a boto3 client's HTTP attempts answered `ThrottlingException` before they reach
    the service (botocore retries them as it would DynamoDB's or Secrets Manager's own)."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self._rng, self._rate = rng, rate
        self._lock = threading.Lock()
        self.injected = 0
        self.enabled = True

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send", self._before_send)
        return client

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        with self._lock:
            if not self.enabled or self._rng.random() >= self._rate:
                return None
            self.injected += 1
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-query-error": "ThrottlingException;Sender",
        }
        return AWSResponse(request.url, 400, headers, _Raw(body))


class _Raw:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any):
        yield self._payload
