"""One verification: every hour of the range checked in order, with a progress line on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from dbguard.digest.document import Digest
from dbguard.digest.hours import label
from dbguard.digest.verify import (
    HourReport,
    Verifier,
    check_digest,
    check_link,
    compare_events,
    unlisted_items,
)
from dbguard_verify.sources import Source


@dataclass
class Verification:
    hours: list[HourReport]

    @property
    def findings(self) -> list[Any]:
        return [finding for report in self.hours for finding in report.findings]

    @property
    def events(self) -> int:
        return sum(report.stored for report in self.hours)

    def as_json(self) -> dict[str, Any]:
        return {
            "clean": not self.findings,
            "hours": [
                {"hour": report.hour, "digest": report.digest, "inDigest": report.in_digest,
                 "stored": report.stored, **report.counts()}
                for report in self.hours
            ],
            "findings": [finding.as_json() for finding in self.findings],
        }  # fmt: skip


def verify(
    source: Source, hours: range, trusted: Verifier, progress: Callable[[int, int, int], None]
) -> Verification:
    reports: list[HourReport] = []
    previous = _digest_before(source, hours.start, trusted)
    events = 0
    for done, hour in enumerate(hours, 1):
        report = HourReport(label(hour))
        versions = source.versions(hour)
        digest = check_digest(hour, versions, trusted, report)
        if digest is None:
            unlisted_items(source.items(hour), report)
        else:
            check_link(digest, *previous, report)
            compare_events(digest, source.items(hour), report)
        previous = (digest, versions[0] if digest is not None else None)
        reports.append(report)
        events += report.stored
        progress(done, len(hours), events)
    return Verification(reports)


def _digest_before(source: Source, hour: int, trusted: Verifier) -> tuple[Digest | None, bytes | None]:
    """The hour before the range: its digest, when there is one to link to (not reported on)."""
    versions = source.versions(hour - 1)
    if not versions:
        return None, None
    digest = check_digest(hour - 1, versions, trusted, HourReport(label(hour - 1)))
    return digest, versions[0] if digest is not None else None


class ProgressBar:
    """`[#####     ] 12/48 hours, 240,000 events` redrawn in place on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, enabled: bool | None = None) -> None:
        self._stream = stream
        self._enabled = stream.isatty() if enabled is None else enabled

    def __call__(self, done: int, total: int, events: int) -> None:
        if not self._enabled:
            return
        filled = done * 30 // max(total, 1)
        self._stream.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {done}/{total} hours, {events:,} events")
        if done == total:
            self._stream.write("\n")
        self._stream.flush()


def table(verification: Verification) -> str:
    rows = [("hour (UTC)", "digest", "in digest", "stored", "changed", "deleted", "inserted")]
    for report in verification.hours:
        counts = report.counts()
        rows.append((report.hour, report.digest, str(report.in_digest), str(report.stored),
                     str(counts["changed"]), str(counts["deleted"]), str(counts["inserted"])))  # fmt: skip
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    for finding in verification.findings:
        subject = f" {finding.event_id}" if finding.event_id else ""
        lines.append(f"{finding.kind.upper()} {finding.hour}{subject}: {finding.detail}")
    lines.append("clean: every digest verifies and the table holds exactly their events"
                 if not verification.findings else f"{len(verification.findings)} finding(s)")  # fmt: skip
    return "\n".join(lines)
