"""The contract tests' JumpServer: each simulator version in `make test`, a real server in
`make contract-real` (tests/contract/target.py)."""

from __future__ import annotations

import pytest

from tests.conftest import JMS_PRIVATE_TOKEN
from tests.contract.target import REAL_TOKEN, REAL_URL, REAL_VERSION, JumpServerTarget, targets


@pytest.fixture(params=targets())
def jumpserver_target(request: pytest.FixtureRequest, make_jumpserver_sim) -> JumpServerTarget:
    if request.param == "real":
        return JumpServerTarget(REAL_URL.rstrip("/"), REAL_TOKEN, REAL_VERSION)
    # configured as docs/jumpserver.md asks operators to configure JumpServer; a stock v4.10.16
    # throttle, so the client's pacing is exercised as on a real server
    simulator = make_jumpserver_sim(request.param, connection_token_reusable=True, throttle_rate="stock")
    return JumpServerTarget(simulator.url, JMS_PRIVATE_TOKEN, request.param, simulator)
