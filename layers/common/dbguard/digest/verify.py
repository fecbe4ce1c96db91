"""Checking digests against each other, the signing key and what the table holds (the verifier's rules).

Per hour: exactly one digest object version (none: `digest-missing`; more: `digest-fork`), a
well-formed document for that hour whose signature the trusted key verifies (else `digest-altered`),
whose `previous` names the document of the hour before (else `chain-broken`), and whose events are
exactly the hour's stored items: an id in both with another hash is `changed`, an id only in the
digest `deleted`, an item only in the table `inserted` (with a note when its id is not the hash of
its own content: a copy of another event under a new id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dbguard.digest.canonical import event_hash
from dbguard.digest.document import Digest, link_of, message_digest, read_digest
from dbguard.digest.hours import label
from dbguard.digest.merkle import leaf, root

Verifier = Callable[[bytes, bytes], bool]  # (SHA-256 message digest, signature) -> valid


@dataclass(frozen=True)
class Finding:
    kind: str
    hour: str
    event_id: str | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HourReport:
    hour: str
    digest: str = "ok"  # ok | missing | altered | fork
    in_digest: int = 0
    stored: int = 0
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        kinds = [finding.kind for finding in self.findings]
        return {kind: kinds.count(kind) for kind in ("changed", "deleted", "inserted")}


def check_digest(hour: int, versions: list[bytes], verify: Verifier, report: HourReport) -> Digest | None:
    """The hour's digest if it can be trusted, recording why not. With several versions the first
    written is checked (the later ones are the fork)."""
    if not versions:
        report.digest = "missing"
        report.findings.append(Finding("digest-missing", label(hour), detail="no digest object for the hour"))
        return None
    if len(versions) > 1:
        report.digest = "fork"
        report.findings.append(
            Finding("digest-fork", label(hour), detail=f"{len(versions)} versions of the hour's digest")
        )
    digest, problem = _trusted(hour, versions[0], verify)
    if problem is not None:
        report.digest = "altered"
        report.findings.append(Finding("digest-altered", label(hour), detail=problem))
    return digest


def _trusted(hour: int, document: bytes, verify: Verifier) -> tuple[Digest | None, str | None]:
    try:
        digest = read_digest(document)
    except ValueError as error:
        return None, str(error)
    if digest.hour != hour:
        return None, f"the document is the digest of {label(digest.hour)}"
    if not verify(message_digest(digest.body), digest.signature):
        return None, "the signature does not verify with the trusted key"
    problem = _inconsistency(digest)
    return (None, problem) if problem else (digest, None)


def _inconsistency(digest: Digest) -> str | None:
    """A correctly signed digest is consistent; this catches a signer that was not dbguard's."""
    events = digest.body["events"]
    if digest.body["count"] != len(events):
        return "count does not match the events listed"
    leaves = [leaf(event_id, bytes.fromhex(value)) for event_id, value in events]
    return None if root(leaves).hex() == digest.body["root"] else "root does not match the events listed"


def check_link(
    digest: Digest, previous: Digest | None, previous_document: bytes | None, report: HourReport
) -> None:
    """`previous`: the (trusted) digest of the hour before, with its document bytes; None when absent."""
    named = digest.previous
    if previous is None or previous_document is None:
        if named is not None:
            report.findings.append(
                Finding(
                    "chain-broken", report.hour, detail=f"names {label(named.hour)}, which cannot be checked"
                )
            )
        return
    if named != link_of(previous.hour, previous_document):
        report.findings.append(
            Finding("chain-broken", report.hour, detail=f"does not name the digest of {label(previous.hour)}")
        )


def compare_events(digest: Digest, items: Iterable[Mapping[str, Any]], report: HourReport) -> None:
    listed = digest.events
    report.in_digest = len(listed)
    seen = set()
    for item in items:
        event_id = _id_of(item)
        seen.add(event_id)
        expected = listed.get(event_id)
        if expected is None:
            report.findings.append(Finding("inserted", report.hour, event_id, _content_note(item, event_id)))
        elif expected != event_hash(item).hex():
            report.findings.append(
                Finding("changed", report.hour, event_id, "stored item differs from its digest")
            )
    report.stored = len(seen)
    for event_id in sorted(set(listed) - seen):
        report.findings.append(Finding("deleted", report.hour, event_id, "in the digest, not in the table"))


def unlisted_items(
    items: Iterable[Mapping[str, Any]], report: HourReport, why: str = "no trustworthy digest for the hour"
) -> None:
    """Items no trustworthy digest covers (an hour without one, or items with no storage hour at
    all): each is unproven, reported inserted."""
    for item in items:
        report.stored += 1
        report.findings.append(Finding("inserted", report.hour, _id_of(item), why))


def _id_of(item: Mapping[str, Any]) -> str:
    value = item.get("id", {})
    return str(value.get("S", value)) if isinstance(value, Mapping) else str(value)


def _content_note(item: Mapping[str, Any], event_id: str) -> str:
    raw = item.get("raw", {})
    text = raw.get("S") if isinstance(raw, Mapping) else None
    if isinstance(text, str):
        content_id = hashlib.sha256(text.encode()).hexdigest()[:32]
        if content_id != event_id:
            return f"not in the digest; its id is not its content's ({content_id}): a copy or a forgery"
    return "not in the digest"
