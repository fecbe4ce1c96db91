"""One process per execution environment of a function, as Lambda runs them.

Each worker starts with only the environment the template gives its function (plus what the Lambda
runtime itself sets), imports the handler once (its cold start) and then serves invocations one at
a time. A handler that overruns its Timeout is killed and the next invocation gets a fresh process.
A function's pool gives an invocation an idle environment, or a new one when all are busy, as Lambda
scales: a rotation run waits on steps Secrets Manager sends to the same function meanwhile.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from dbguard_local.functions import REPO_ROOT, FunctionSpec, LambdaContext, load_handler_module

LAYER_DIR = REPO_ROOT / "layers" / "common"
_spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class FunctionFailed(Exception):
    """The handler raised (Lambda reports errorType and errorMessage)."""

    error_type: str
    error_message: str

    def __str__(self) -> str:
        return f"{self.error_type}: {self.error_message}"


class FunctionTimedOut(Exception):
    pass


def lambda_environment(spec: FunctionSpec, aws: dict[str, str]) -> dict[str, str]:
    """The template's variables, what the Lambda runtime adds, and how to reach the embedded AWS."""
    runtime = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }
    return {**spec.environment, **runtime, **aws}


class FunctionWorker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], region: str, account_id: str) -> None:
        self.spec = spec
        self._environment = environment
        self._region = region
        self._account_id = account_id
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None

    def start(self) -> None:
        parent, child = _spawn.Pipe()
        self._process = _spawn.Process(
            target=_serve,
            args=(self.spec, self._environment, self._region, self._account_id, child),
            name=f"lambda-{self.spec.logical_id}",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._connection = parent

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self.start()
            try:
                self._connection.send(event)
            except OSError:  # the environment died (crash()) between the liveness check and now
                self._kill()
                raise FunctionFailed("Runtime.ExitError", f"{self.spec.logical_id} exited") from None
            if not self._connection.poll(self.spec.timeout_seconds + 1):
                self._kill()
                raise FunctionTimedOut(
                    f"{self.spec.logical_id} timed out after {self.spec.timeout_seconds} s"
                )
            try:
                outcome = self._connection.recv()
            except EOFError:
                self._kill()
                raise FunctionFailed("Runtime.ExitError", f"{self.spec.logical_id} exited") from None
        if outcome[0] == "error":
            raise FunctionFailed(outcome[1], outcome[2])
        return outcome[1]

    def stop(self) -> None:
        with self._lock:
            self._kill()

    def crash(self) -> None:
        """Kill the environment without waiting for its invocation: that one fails with
        Runtime.ExitError, the next one starts a fresh process (a cold start)."""
        process = self._process
        if process is not None:
            process.kill()

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
            self._process = None


class FunctionPool:
    """The execution environments of one function (at most `most` at once)."""

    def __init__(
        self, spec: FunctionSpec, environment: dict[str, str], region: str, account_id: str, most: int = 8
    ) -> None:
        self.spec = spec
        self._new = lambda: FunctionWorker(spec, environment, region, account_id)
        self._most = most
        self._idle: queue.SimpleQueue[FunctionWorker] = queue.SimpleQueue()
        self._all: list[FunctionWorker] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """The first environment, started now (its cold start) rather than on the first request."""
        worker = self._new()
        worker.start()
        self._all.append(worker)
        self._idle.put(worker)

    def invoke(self, event: dict[str, Any]) -> Any:
        worker = self._take()
        try:
            return worker.invoke(event)
        finally:
            self._idle.put(worker)

    def stop(self) -> None:
        for worker in self._all:
            worker.stop()

    def crash(self) -> None:
        for worker in self._all:
            worker.crash()

    def _take(self) -> FunctionWorker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                if len(self._all) < self._most:
                    self._all.append(self._new())  # starts on its first invocation: a cold start
                    return self._all[-1]
        return self._idle.get()


def _serve(
    spec: FunctionSpec, environment: dict[str, str], region: str, account_id: str, connection: Connection
) -> None:
    # Ctrl-C in `make run`'s terminal reaches its whole process group; the stack stops its
    # environments itself, and one interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:0] = [str(spec.code_dir), str(LAYER_DIR)]
    handler_name = spec.handler.rsplit(".", 1)[1]
    try:
        handler = getattr(load_handler_module(spec), handler_name)
    except Exception as error:  # an init failure is reported on every invocation, like Lambda's
        init_error = (type(error).__name__, str(error))
        _report(error)
        handler = None
    while True:
        try:
            event = connection.recv()
        except EOFError:
            return
        if handler is None:
            connection.send(("error", f"Runtime.{init_error[0]}", init_error[1]))
            continue
        try:
            connection.send(("ok", handler(event, LambdaContext(spec, region, account_id))))
        except Exception as error:
            _report(error)
            connection.send(("error", type(error).__name__, str(error)))


def _report(error: Exception) -> None:
    """Log a handler's exception the way the Lambda runtime does: one JSON line on stderr."""
    record = {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
    print(json.dumps(record), file=sys.stderr, flush=True)
