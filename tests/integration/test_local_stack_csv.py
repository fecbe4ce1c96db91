"""`make run` with qhb_audit CSV files, as the banner tells a newcomer: `make csv-upload` puts the
sample day in the stack's bucket, S3 notifies the queue, audit_csv_import stores it, `make
csv-status` shows the file imported, and `make sources` lists its source."""

import time

import pytest

pytestmark = pytest.mark.integration


def script(stack, *arguments: str) -> str:
    done = stack.helper("python", *arguments)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_csv_file_uploaded_as_the_banner_says_is_imported_and_its_source_listed(running_stack):
    banner = "\n".join(running_stack.output[: running_stack.ready_at])
    assert "make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-billing-01" in banner
    upload = ["scripts/csv_files.py", "upload", "events/samples/qhb-audit-day.csv", "qhb-csv-01"]
    assert "qhb-audit/qhb-csv-01/qhb-audit-day.csv" in script(running_stack, *upload)
    deadline = time.monotonic() + 60
    while "imported - 33 rows" not in (status := script(running_stack, "scripts/csv_files.py", "status")):
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    script(running_stack, *upload)  # the same file again: nothing more stored
    time.sleep(3)
    assert "imported - 33 rows imported, 0 read again, 0 refused" in script(
        running_stack, "scripts/csv_files.py", "status"
    )
    sources = script(running_stack, "scripts/audit_sources.py")
    assert sources.splitlines()[0].split() == ["source", "last", "seen", "events", "24", "h", "state"]
    (line,) = [line for line in sources.splitlines() if line.startswith("qhb-csv-01 ")]
    assert line.split()[-2:] == ["33", "ok"]
