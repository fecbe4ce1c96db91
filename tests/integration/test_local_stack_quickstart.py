"""The README's Quick start, run as written against `make run`: every command of its `sh` blocks
(but `make run` itself and `make test`), in order, in bash, with no AWS CLI and no AWS variables. The
only substitutions are the README's own placeholders: the token from the banner, and the stack's port
in place of 3000 (tests run stacks on free ports; the helpers find them through DBGUARD_LOCAL_DIR)."""

import json
import re
import time

import pytest

from tests.integration.conftest import REPO_ROOT, start_stack

pytestmark = pytest.mark.integration
NOT_RUN = {"make run", "make test"}  # the stack under test; the whole CI run
EVENTUAL_SECONDS = 60  # a registration reaches its secret a moment after `make cmdb-event` returns


def quick_start_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.strip()
            if command and not command.startswith("#") and command.split("#")[0].strip() not in NOT_RUN:
                commands.append(command)
    return commands


def test_the_quick_start_lists_what_a_newcomer_does():
    commands = quick_start_commands()
    assert not [command for command in commands if command.startswith("aws ") or " aws " in command]
    assert sum(command.startswith("curl ") for command in commands) == 2
    assert "make direct-announcements" in commands
    assert any(
        command.startswith("make secret DATABASE=billing-qhb-01 STAGE=AWSPREVIOUS") for command in commands
    )


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


def test_every_quick_start_command_works_as_written(stack):
    api_url = stack.ingest_url.split("/audit/events")[0]
    token = stack.ingest_url.split("token=")[1]
    outputs = {}
    for command in quick_start_commands():
        concrete = command.replace("http://127.0.0.1:3000/v1", api_url).replace(
            "<token from the banner>", token
        )
        done = _until_it_succeeds(stack, concrete)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs.setdefault(command, []).append(done.stdout)

    posted = outputs[next(c for c in outputs if "qhb-connection-event.json" in c)]
    assert [output.split("\n", 1)[0].split()[1] for output in posted] == ["201"]
    found = json.loads(outputs["make audit-query Q='userLogin=app_billing&from=2026-07-01T00:00:00Z'"][0])
    assert [event["event"]["userLogin"] for event in found["events"]] == ["app_billing"]
    csv = outputs["ACCEPT=text/csv make audit-query Q='from=2026-07-01T00:00:00Z'"][0]
    assert csv.startswith('"name","time","user"')  # the answer alone: `make ... > events.csv` works
    announced = [json.loads(line) for line in outputs["make direct-announcements"][0].splitlines()]
    assert [detail["userLogin"] for detail in announced] == ["report_job"]
    direct = json.loads(outputs["make audit-query Q='direct=true&from=2026-07-01T00:00:00Z'"][0])
    assert [event["direct"] for event in direct["events"]] == [True]

    first = _secret(outputs, "make secret DATABASE=billing-qhb-01 ")
    previous = _secret(outputs, "make secret DATABASE=billing-qhb-01 STAGE=AWSPREVIOUS")
    assert previous["versionStages"] == ["AWSPREVIOUS"]
    assert previous["secret"]["token_id"] == first["secret"]["token_id"]  # the rotation moved it back
    status = outputs[next(c for c in outputs if c.startswith("make status"))][0]
    assert re.search(r"^billing-qhb-01\s+ok\s", status, re.M), status
    assert '"service":"audit_authorizer"' not in stack.output_after_banner()  # (it counts nothing)
    assert "No application metrics to publish" not in stack.output_after_banner()


def _until_it_succeeds(stack, command: str):
    """Commands run at a newcomer's pace: one that depends on an asynchronous step (the secret a
    registration writes) is run again until it succeeds or EVENTUAL_SECONDS pass."""
    deadline = time.monotonic() + EVENTUAL_SECONDS
    while True:
        done = stack.helper("bash", "-c", command, timeout=120)
        if done.returncode == 0 or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def _secret(outputs: dict[str, list[str]], prefix: str) -> dict:
    command = next(c for c in outputs if c.startswith(prefix))
    return json.loads(outputs[command][0])
