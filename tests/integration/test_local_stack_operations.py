"""`make run` pointed at a JumpServer community edition, as an operator would meet it: the banner says
its DB proxy accepts none of the tokens, and `make status` lists the databases most urgent first."""

import json
import time

import pytest

from dbguard_testkit.samples import cmdb_change
from jumpserver_sim import Simulator
from tests.conftest import JMS_PRIVATE_TOKEN
from tests.integration.conftest import start_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def community_stack():
    """A stock v4 simulator (no licence: no DB proxy), reusable tokens on as operators are told."""
    simulator = Simulator("v4", private_token=JMS_PRIVATE_TOKEN, connection_token_reusable=True).start()
    stack = start_stack(JUMPSERVER_URL=simulator.url, JUMPSERVER_PRIVATE_TOKEN=JMS_PRIVATE_TOKEN)
    yield stack
    stack.stop()
    simulator.stop()


def status(stack, *arguments: str) -> str:
    done = stack.helper("python", "scripts/rotation_status.py", *arguments)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_banner_says_nothing_accepts_the_tokens(community_stack):
    banner = "\n".join(community_stack.output[: community_stack.ready_at])
    assert "Settings check (RotationSettingsCheck) passes, with warnings:" in banner
    assert "WARNING: JumpServer offers no DB proxy at all" in banner
    assert "XPACK_LICENSE_IS_VALID is false" in " ".join(banner.split())


def test_make_status_lists_a_registered_database(community_stack):
    events = community_stack.aws_client("events")
    entry = {"EventBusName": "cmdb", "Source": "cmdb", "DetailType": "Database Instance Changed"}
    events.put_events(Entries=[{**entry, "Detail": json.dumps(cmdb_change(version=1))}])
    deadline = time.monotonic() + 30
    while "billing-qhb-01" not in (table := status(community_stack)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert table.splitlines()[0].split() == [
        "database", "state", "token", "expires", "left", "next", "due", "last", "rotated", "permission",
        "last", "error",
    ]  # fmt: skip
    row = next(line for line in table.splitlines() if line.startswith("billing-qhb-01"))
    assert row.split()[1:2] == ["ok"]
    assert "confirmed" in row
    answer = json.loads(status(community_stack, "--json"))
    assert (answer["total"], answer["databases"][0]["name"]) == (1, "billing-qhb-01")


def test_a_function_that_cannot_start_is_said_in_the_banner_not_a_crash():
    stack = start_stack(JUMPSERVER_URL="http://192.0.2.1:8080", JUMPSERVER_PRIVATE_TOKEN="unused")
    try:
        banner = " ".join(" ".join(stack.output[: stack.ready_at]).split())
    finally:
        stack.stop()
    assert "Settings check (RotationSettingsCheck) refuses this deployment:" in banner
    assert "token_rotation cannot start: ConfigurationError" in banner
    assert "AllowInsecureJumpServer" in banner
