"""The entry of every helper script (`make rotate`, `make audit-query`, ...): its own exit code, and a
failure an operator can fix said in one line on stderr, not as a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import requests
from botocore.exceptions import EndpointConnectionError

from dbguard_local.endpoints import NoLocalStack

USAGE_ERROR = 2
INTERRUPTED = 130  # as a shell reports a command ended by SIGINT


class Refused(Exception):
    """Input the script will not send (a missing file, an event its schema rejects): the message says why."""


def run(main: Callable[[], int]) -> NoReturn:
    try:
        code = main()
    except (NoLocalStack, Refused) as error:
        code = _fail(str(error))
    except (requests.ConnectionError, EndpointConnectionError) as error:
        code = _fail(f"the local stack does not answer ({_first_line(error)}): is `make run` still running?")
    except KeyboardInterrupt:
        code = INTERRUPTED
    sys.exit(code)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
