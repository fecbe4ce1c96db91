"""The canonical form, the hash tree, storage hours and the digest document (docs/audit-digests.md)."""

from __future__ import annotations

import hashlib
import json

import pytest

from dbguard.digest.canonical import EXCLUDED, canonical_item, event_hash, normal_item
from dbguard.digest.document import (
    digest_body,
    hour_of_key,
    link_of,
    message_digest,
    object_key,
    read_digest,
    signed_document,
)
from dbguard.digest.hours import HOUR_MS, hour_of, label, parse_label, storage_attributes
from dbguard.digest.merkle import leaf, root
from dbguard.digest.verify import Finding, HourReport, check_digest, check_link, compare_events

ITEM = {"id": {"S": "a" * 32}, "raw": {"S": '{"n":"é"}'}, "receivedAt": {"N": "5"}, "expiresAt": {"N": "9"}}


def test_the_canonical_form_is_typed_sorted_compact_and_leaves_out_only_the_ttl():
    expected = '{"id":{"S":"%s"},"raw":{"S":"{\\"n\\":\\"é\\"}"},"receivedAt":{"N":"5"}}' % ("a" * 32)
    assert canonical_item(ITEM) == expected.encode()
    assert frozenset({"expiresAt"}) == EXCLUDED
    assert event_hash(ITEM) == event_hash({**ITEM, "expiresAt": {"N": "1"}})
    assert event_hash(ITEM) != event_hash({**ITEM, "receivedAt": {"S": "5"}})  # a type change shows


def test_binary_and_sets_have_one_form_live_and_exported():
    live = {
        "id": {"S": "x"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["b", "a"]},
        "m": {"M": {"bs": {"BS": [b"\x02", b"\x01"]}}},
    }
    exported = json.loads(json.dumps(normal_item(live)))
    assert event_hash(live) == event_hash(exported)
    assert exported["ss"] == {"SS": ["a", "b"]}


def test_the_root_covers_every_event_and_their_order():
    leaves = [leaf(f"{n:032x}", hashlib.sha256(bytes([n])).digest()) for n in range(5)]
    assert root(leaves) != root(leaves[:4])
    assert root(leaves) != root([leaves[1], leaves[0], *leaves[2:]])
    assert root([]) == hashlib.sha256(b"").digest()


def test_storage_hours_and_object_keys():
    hour = hour_of(1_796_000_000_000)
    assert (label(hour), parse_label(label(hour)), parse_label("2026-11-30T00:59:59Z")) == (
        "2026-11-30T00",
        hour,
        hour,
    )
    assert storage_attributes("0" * 32, hour * HOUR_MS) == {
        "storedAt": hour * HOUR_MS,
        "gsiStoredHour": "2026-11-30T00#00",
    }
    assert object_key(hour) == "digests/2026/11/30/2026-11-30T00.json.gz"
    assert hour_of_key(object_key(hour)) == hour
    assert hour_of_key("digests/2026/11/30/notes.txt") is None
    with pytest.raises(ValueError, match="not an hour"):
        parse_label("yesterday")


def _digest(hour: int, hashes, previous=None) -> bytes:
    body = digest_body("t", hour, hashes, previous)
    return signed_document(body, "key", b"sig:" + message_digest(body))


def _verify(message: bytes, signature: bytes) -> bool:
    return signature == b"sig:" + message


def test_a_digest_reads_back_and_checks_against_the_items_and_the_chain():
    hour = 490_000
    first = _digest(hour, [("a" * 32, event_hash(ITEM))])
    second = _digest(hour + 1, [], link_of(hour, first))
    report = HourReport(label(hour))
    digest = check_digest(hour, [first], _verify, report)
    assert digest is not None
    compare_events(digest, [ITEM], report)
    assert report.findings == []
    later = check_digest(hour + 1, [second], _verify, HourReport(label(hour + 1)))
    linked = HourReport(label(hour + 1))
    check_link(later, digest, first, linked)
    assert linked.findings == []
    unlinked = HourReport(label(hour + 1))
    check_link(later, digest, first + b" ", unlinked)
    assert [finding.kind for finding in unlinked.findings] == ["chain-broken"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [(b"{}", "not a digest document"), (b"not json", "not a digest document")],
)
def test_a_malformed_digest_is_altered_never_a_crash(document, problem):
    report = HourReport("h")
    assert check_digest(1, [document], _verify, report) is None
    assert report.digest == "altered"
    assert problem in report.findings[0].detail
    with pytest.raises(ValueError, match=problem):
        read_digest(document)


def test_a_digest_signed_over_other_content_is_altered():
    document = json.loads(_digest(7, [("a" * 32, event_hash(ITEM))]))
    document["digest"]["count"] = 0
    report = HourReport("h")
    assert check_digest(7, [json.dumps(document).encode()], _verify, report) is None
    assert report.findings == [
        Finding("digest-altered", label(7), None, "the signature does not verify with the trusted key")
    ]
