"""`make loadtest`, short: qhb_audit-like clients through the local stack (a subprocess) while the
embedded AWS fails DynamoDB writes before and after they happen and the functions are restarted."""

import pytest

from chaos import loadtest

pytestmark = pytest.mark.integration


def test_every_acknowledged_event_is_stored_exactly_once_under_faults_and_restarts():
    options = loadtest.Options(
        events=300, clients=4, batch_share=0.15, resend_share=0.05, throttle_rate=0.1,
        after_write_rate=0.05, restarts=2, interval_ms=50, max_seconds=240, seed=11,
    )  # fmt: skip
    result = loadtest.run(options, show_progress=False)
    assert (result["sent"], result["acknowledged"], result["stored"]) == (300, 300, 300)
    assert (result["lost"], result["duplicated"], result["gaveUp"], result["idMismatch"]) == (0, 0, 0, 0)
    assert result["resent"] >= 1
    assert result["resendNotDuplicate"] == 0  # a resent request whose answer was lost stores nothing
    assert result["storageFaults"]["throttled"] >= 1
    assert result["storageFaults"]["failedAfterWrite"] >= 1
    assert result["lambdaRestarts"] == 2
    assert result["arrays"] >= 1
    assert result["ingestTokenInLogs"] is False
    assert result["passed"]
