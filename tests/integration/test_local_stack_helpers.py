"""The helpers beside `make run` (scripts/*.py behind `make rotate`, `make cmdb-event`,
`make audit-query`, ...), run as a user runs them: they find the stack through the endpoints file it
writes (whatever ports it chose), exit non-zero when they did not do what was asked, say why in one
line, and never print a traceback."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from dbguard_local.process import spawn_local_stack
from dbguard_testkit.samples import body_of, ddl_event
from tests.integration.conftest import REPO_ROOT, start_stack

pytestmark = pytest.mark.integration
UPSERT = "events/samples/cmdb-upsert.json"
HELPERS = {  # each with arguments it accepts
    "audit_query.py": ["name=DROP TABLE"],
    "rotate.py": ["all"],
    "rotation_status.py": [],
    "send_cmdb_event.py": [UPSERT],
    "token_status.py": ["billing-qhb-01", "0" * 32],
}


def helper(stack, script, *arguments, **environment):
    return stack.helper("python", f"scripts/{script}", *arguments, **environment)


def without_a_stack(state_dir, script, *arguments):
    """A helper whose DBGUARD_LOCAL_DIR holds no running stack's endpoints."""
    return subprocess.run(
        [sys.executable, f"scripts/{script}", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "DBGUARD_LOCAL_DIR": str(state_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def stack():
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def registered(stack):
    """billing-qhb-01 registered (its first token written) through `make cmdb-event`'s script."""
    sent = helper(stack, "send_cmdb_event.py", UPSERT)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["FailedEntryCount"] == 0
    done = stack.helper("python", "-c", _WAIT_FOR_SECRET)
    assert done.returncode == 0, done.stderr
    return stack


_WAIT_FOR_SECRET = """
import time
from dbguard_local.clients import local_client
secrets = local_client("secretsmanager")
deadline = time.monotonic() + 60
while True:
    try:
        secrets.get_secret_value(SecretId="dbguard/db/billing-qhb-01")
        break
    except secrets.exceptions.ResourceNotFoundException:
        assert time.monotonic() < deadline, "no secret"
        time.sleep(0.3)
"""


def test_the_stack_writes_where_it_listens_and_ctrl_c_removes_it_without_a_traceback():
    running = start_stack()
    path = Path(running.state_dir) / "endpoints.json"
    written = json.loads(path.read_text())
    assert written["pid"] == running.process.pid
    assert written["api_url"] == running.ingest_url.split("/audit/events")[0]
    assert written["aws"] == running.aws_endpoint
    os.killpg(running.process.pid, signal.SIGINT)  # right after READY; a terminal's Ctrl-C reaches the group
    assert running.process.wait(timeout=30) == 0
    assert running.drained.wait(10)  # every line it and its workers wrote
    after = running.output_after_banner()
    assert "stopping dbguard local stack" in after
    assert "Traceback" not in after
    assert "KeyboardInterrupt" not in after
    assert not path.exists()


@pytest.mark.parametrize("script", HELPERS)
def test_without_a_running_stack_each_helper_says_so_in_one_line(script, tmp_path):
    done = without_a_stack(tmp_path, script, *HELPERS[script])
    assert done.returncode == 2
    assert lines(done.stderr) == [
        f"error: no local stack is running ({tmp_path}/endpoints.json is missing): start one with "
        "`make run` in another terminal"
    ]


def test_a_file_left_by_a_stack_that_has_gone_is_not_followed(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    endpoints = dict.fromkeys(
        ["api_url", "aws", "lambda_api", "announcements_queue_url"], "http://127.0.0.1:9"
    )
    endpoints |= {"region": "eu-central-1", "ingest_token_secret": "x", "pid": int(gone.stdout)}
    (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
    done = without_a_stack(tmp_path, "rotate.py", "all")
    assert done.returncode == 2
    assert "has gone: start one with `make run`" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_taken_port_is_named_with_the_variable_that_moves_it():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = spawn_local_stack(DBGUARD_AWS_PORT=str(port))
        output, _ = process.communicate(timeout=90)
    assert process.returncode == 1
    assert lines(output)[-1] == (
        f"dbguard local stack could not start: port {port} (the embedded AWS, moto) is in use - is another "
        f"`make run` running? Stop it, or move this one: DBGUARD_AWS_PORT=<port> make run "
        "(DBGUARD_AWS_PORT=0: any free port)"
    )
    assert "Traceback" not in output


def test_cmdb_event_refuses_what_its_schema_refuses_and_says_why(stack, tmp_path):
    change = json.loads((REPO_ROOT / UPSERT).read_text())
    change["instance"]["port"] = 70000
    path = tmp_path / "bad-port.json"
    path.write_text(json.dumps({"detail": change}))
    done = helper(stack, "send_cmdb_event.py", str(path))
    assert done.returncode == 2
    assert lines(done.stderr) == [
        f"error: {path}: not sent, docs/schemas/cmdb-change.schema.json refuses it at instance/port: "
        "70000 is greater than the maximum of 65535"
    ]
    assert done.stdout == ""


def test_cmdb_event_with_a_missing_file_is_one_line(stack):
    done = stack.helper("make", "--no-print-directory", "cmdb-event", "FILE=events/samples/nowhere.json")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert (
        "error: events/samples/nowhere.json: no such file (the samples are in events/samples/)" in done.stderr
    )


def test_rotate_exits_non_zero_unless_every_database_rotated(registered):
    stack = registered
    too_soon = helper(stack, "rotate.py", "billing-qhb-01", "no-such-db")
    assert too_soon.returncode == 1
    assert [result["status"] for result in json.loads(too_soon.stdout)["results"]] == [
        "too_soon",
        "not_found",
    ]
    assert lines(too_soon.stderr) == [
        "billing-qhb-01: too_soon - rotated within ConsumerCacheSeconds; FORCE=1 rotates it anyway "
        "(cached tokens break)",
        "no-such-db: not_found - no active database of that name (make status lists them)",
    ]
    forced = helper(stack, "rotate.py", "billing-qhb-01", FORCE="1")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["rotated"] == 1


def test_audit_query_encodes_follows_the_cursor_and_fetches_by_id(stack):
    ingest = stack.ingest_url
    for millisecond in range(3):
        posted = requests.post(
            ingest, data=body_of(ddl_event(Datetime=1_785_444_000_000 + millisecond, userLogin="enc_test")),
            timeout=30,
        )  # fmt: skip
        assert posted.status_code == 201
    query = "name=DROP TABLE&userLogin=enc_test&from=2026-07-30T00:00:00Z&limit=2"
    first = helper(stack, "audit_query.py", query)
    assert first.returncode == 0, first.stdout + first.stderr
    page = json.loads(first.stdout)
    assert len(page["events"]) == 2
    assert lines(first.stderr) == [f"HTTP 200; next cursor: {page['nextCursor']}"]

    every = helper(stack, "audit_query.py", query, ALL="1")
    assert every.returncode == 0, every.stderr
    found = json.loads(every.stdout)["events"]
    assert len({event["id"] for event in found}) == 3
    assert lines(every.stderr)[-1] == "HTTP 200; next cursor: none (last page)"

    csv = helper(stack, "audit_query.py", query, ALL="1", ACCEPT="text/csv")
    assert csv.returncode == 0, csv.stderr
    assert [row.split(",")[0] for row in csv.stdout.splitlines()] == ['"name"'] + ['"DROP TABLE"'] * 3

    one = helper(stack, "audit_query.py", "", ID=found[0]["id"])
    assert (one.returncode, json.loads(one.stdout)["id"]) == (0, found[0]["id"])
    assert lines(one.stderr) == ["HTTP 200; next cursor: none (last page)"]
    missing = helper(stack, "audit_query.py", "", ID="0" * 32)
    assert missing.returncode == 1
    assert lines(missing.stderr) == ["HTTP 404; next cursor: none (last page)"]


def test_the_simulator_alone_names_a_taken_port_and_its_variable():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "jumpserver_sim"], cwd=REPO_ROOT,
            env={**os.environ, "JMS_SIM_PORT": str(port)}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert lines(done.stderr) == [
        f"port {port} is in use - move the simulator: JMS_SIM_PORT=<port> make jumpserver-sim"
    ]
