"""The README's audit-trail demo on `make run`, as a newcomer runs it: sample events digested an hour
back, `make verify-audit` clean, one stored event changed, verify names it (exit 1)."""

import subprocess
import time

import pytest

from tests.integration.conftest import start_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    # the demo's hour must be closed: the local DigestMarginSeconds is 60 s after the hour
    while time.time() % 3600 < 70:
        time.sleep(5)
    running = start_stack()
    yield running
    running.stop()


def audit_trail(stack, *arguments: str) -> subprocess.CompletedProcess[str]:
    return stack.helper("python", "scripts/audit_trail.py", *arguments, timeout=120)


def test_a_changed_event_is_caught_by_verify(stack):
    banner = "\n".join(stack.output[: stack.ready_at])
    hour = time.strftime("%Y-%m-%dT%H", time.gmtime(time.time() - 3600))
    assert "make audit-demo" in banner
    demo = audit_trail(stack, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f'"written": ["{hour}"]' in demo.stdout
    clean = audit_trail(stack, "verify", hour, hour)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    tampered = audit_trail(stack, "tamper", "change")
    event_id = tampered.stdout.split("event ", 1)[1].split()[0]
    deleted = audit_trail(stack, "tamper", "delete").stdout.split("event ", 1)[1].split()[0]
    caught = audit_trail(stack, "verify", hour, hour)
    assert caught.returncode == 1
    assert f"CHANGED {hour} {event_id}" in caught.stdout
    assert f"DELETED {hour} {deleted}" in caught.stdout
    assert f"{hour}  ok      5          4       1        1        0" in caught.stdout  # as the README shows
