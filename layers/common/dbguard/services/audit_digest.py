"""Writing the hourly digests: every closed storage hour, in order, each naming the one before.

An hour is closed `margin_seconds` after it ends: longer than any write stamped within the hour
takes to become visible in byStoredHour (a write's attempts end within about 25 s, the index follows
within a second; docs/audit-digests.md). A run writes every closed hour after the newest digest and
stops early when the invocation's time runs short; the next run goes on from there.

Retries are safe: a digest is created only if its object does not exist (S3 If-None-Match), and its
content is deterministic. If the hour's object exists already - a run that failed after writing it,
or two runs at once - the stored one stands and the chain continues from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dbguard.digest.canonical import event_hash
from dbguard.digest.document import Link, digest_body, link_of, message_digest, signed_document
from dbguard.digest.hours import hour_of, label
from dbguard.digest.ports import DigestBucket, Signer, StoredHours
from dbguard.observability import logger

# Time an hour may need: a million events took 145 s in make bench (two shared cores); a run does
# not start an hour with less than this left, and the next run goes on from there.
_HOUR_BUDGET_MS = 300_000


@dataclass
class DigestRun:
    written: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # written by an earlier attempt: left as they are
    events: int = 0
    behind: int = 0  # closed hours left for the next run

    def summary(self) -> dict[str, object]:
        return {"written": self.written, "found": self.found, "events": self.events, "behind": self.behind}


@dataclass(frozen=True)
class DigestWriter:
    hours: StoredHours
    bucket: DigestBucket
    signer: Signer
    table: str
    margin_seconds: int

    def key_unusable(self) -> bool:
        """True when the signing key is scheduled for deletion or disabled: every digest from then on
        fails, and once deleted no digest can be verified (AuditDigestKeyUnusableAlarm)."""
        state = self.signer.key_state()
        if state != "Enabled":
            logger.error("the digest signing key cannot sign", extra={"key_state": state})
        return state != "Enabled"

    def run(self, now_ms: int, remaining_ms: Callable[[], int]) -> DigestRun:
        last_closed = hour_of(now_ms - self.margin_seconds * 1000) - 1
        latest = self.bucket.latest()
        previous = None if latest is None else link_of(*latest)
        # the chain starts at the first closed hour after deployment: nothing stored before can be proven
        start = last_closed if previous is None else previous.hour + 1
        run = DigestRun()
        for hour in range(start, last_closed + 1):
            if remaining_ms() < _HOUR_BUDGET_MS:
                run.behind = last_closed + 1 - hour
                break
            previous = self.write(hour, previous, run)
        return run

    def write(self, hour: int, previous: Link | None, run: DigestRun) -> Link:
        hashes = sorted((item["id"]["S"], event_hash(item)) for item in self.hours.items(hour))
        body = digest_body(self.table, hour, hashes, previous)
        document = signed_document(body, self.signer.key_id, self.signer.sign(message_digest(body)))
        if self.bucket.create(hour, document):
            run.written.append(label(hour))
            run.events += len(hashes)
            return link_of(hour, document)
        stored = self.bucket.read(hour)
        if stored is None:  # refused as existing, yet unreadable: let the next run see it again
            raise RuntimeError(f"the digest of {label(hour)} exists but cannot be read")
        if stored != document:  # events stored late or changed between the two attempts
            logger.warning("a stored digest differs from this run's", extra={"hour": label(hour)})
        run.found.append(label(hour))
        return link_of(hour, stored)
