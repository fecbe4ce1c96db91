"""What the verifier prints: a table per hour, each finding by kind, hour and id, a progress bar."""

from __future__ import annotations

import io

from dbguard.digest.verify import Finding, HourReport
from dbguard_verify.run import ProgressBar, Verification, table


def test_the_table_names_each_finding_and_says_clean_only_when_clean():
    hour = HourReport("2026-12-07T01", in_digest=3, stored=3)
    hour.findings.append(Finding("changed", "2026-12-07T01", "a" * 32, "stored item differs"))
    text = table(Verification([hour, HourReport("2026-12-07T02")]))
    assert "2026-12-07T01  ok      3          3       1        0        0" in text
    assert f"CHANGED 2026-12-07T01 {'a' * 32}: stored item differs" in text
    assert "clean" not in text
    assert "clean:" in table(Verification([HourReport("2026-12-07T02")]))
    assert Verification([hour]).as_json()["findings"][0]["event_id"] == "a" * 32


def test_the_progress_bar_draws_in_place_and_ends_its_line():
    stream = io.StringIO()
    progress = ProgressBar(stream, enabled=True)
    progress(1, 2, 1500)
    progress(2, 2, 3000)
    assert stream.getvalue().count("\r") == 2
    assert stream.getvalue().endswith("2/2 hours, 3,000 events\n")
    quiet = io.StringIO()
    ProgressBar(quiet)(1, 1, 1)  # not a terminal: nothing
    assert quiet.getvalue() == ""
