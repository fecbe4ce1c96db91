from decimal import Decimal, Inexact

import pytest
from boto3.dynamodb.types import TypeSerializer

from dbguard.adapters.dynamodb import to_item
from dbguard.audit.keys import SHARDS, shard_of, sort_key, sort_key_bound
from dbguard.audit.parsing import parse_body
from dbguard.audit.records import audit_record
from dbguard_testkit.samples import body_of, connection_event, ddl_event


def record_of(event, retention_days=30, received_at_ms=1_785_000_000_500):
    return audit_record(parse_body(body_of(event), 10**6).events[0], received_at_ms, retention_days)


def test_every_index_key_carries_the_shard_of_the_id():
    record = record_of(connection_event())
    shard = f"#{shard_of(record['id']):02d}"
    assert record["gsiTime"] == f"all{shard}"
    assert record["gsiUser"] == f"app_billing{shard}"
    assert record["gsiName"] == f"connection attempt{shard}"
    assert record["gsiService"] == f"qhb-billing-01{shard}"
    assert record["gsiDatabase"] == f"billing{shard}"
    assert record["gsiNode"] == f"10.1.2.50{shard}"
    assert record["ts"] == sort_key(1_785_000_000_000, record["id"])


def test_absent_values_leave_their_index_sparse():
    record = record_of(ddl_event())  # no userNode
    assert "gsiNode" not in record
    assert "userNode" not in record
    assert record["database"] == "billing"


def test_an_empty_value_is_stored_but_not_indexed():
    record = record_of(connection_event(userNode=""))
    assert record["userNode"] == ""
    assert "gsiNode" not in record


def test_ttl_counts_from_receipt_and_zero_days_keeps_forever():
    assert record_of(connection_event(), retention_days=30)["expiresAt"] == 1_785_000_000 + 30 * 86_400
    assert "expiresAt" not in record_of(connection_event(), retention_days=0)


def test_shards_spread_evenly():
    counts = [0] * SHARDS
    for i in range(3200):
        counts[shard_of(record_of(connection_event(Datetime=i))["id"])] += 1
    assert min(counts) > 3200 / SHARDS * 0.7


def test_sort_key_bounds_enclose_every_id_of_a_millisecond():
    key = sort_key(1_000, "f" * 32)
    assert sort_key_bound(1_000, upper=False) <= key <= sort_key_bound(1_000, upper=True)
    assert sort_key_bound(999, upper=True) < key < sort_key_bound(1_001, upper=False)


@pytest.mark.parametrize(
    "value", ["", "ab", True, False, 0, -7, 10**37, 10**38 - 1, [1, "a"], {"k": None}, None, Decimal("1.5")]
)
def test_an_attribute_is_stored_as_boto3_serializes_it(value):
    assert to_item({"a": value}) == {"a": TypeSerializer().serialize(value)}


def test_a_number_dynamodb_cannot_hold_is_refused_before_the_write():
    with pytest.raises(Inexact):
        to_item({"a": 10**38 + 1})


def test_a_record_is_stored_as_boto3_serializes_it():
    record = record_of(connection_event())
    assert to_item(record) == {name: TypeSerializer().serialize(value) for name, value in record.items()}
