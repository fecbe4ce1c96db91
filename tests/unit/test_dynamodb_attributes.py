"""dbguard's DynamoDB attribute values are boto3's: what it writes and reads directly (without
importing boto3) must match TypeSerializer and TypeDeserializer exactly."""

import os
import subprocess
import sys
from decimal import Decimal, Rounded
from pathlib import Path

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

import dbguard
from dbguard.adapters.dynamodb import from_item, to_item

WRITTEN_DIRECTLY = [
    "",
    "naïve ✓",
    True,
    False,
    0,
    -7,
    10**38 - 1,
    -(10**38) + 1,
    None,
    [],
    {},
    [1, "a", None, [True, {"k": -3}]],
    {"labels": {"team": "billing"}, "ids": ["a", "b"], "n": 5},
]
WRITTEN_BY_BOTO3 = [Decimal("1.5"), {"ab", "cd"}, {1, 2}, b"\x00\x01", {"k": Decimal("2.25")}, {1: "a"}]


@pytest.mark.parametrize("value", WRITTEN_DIRECTLY + WRITTEN_BY_BOTO3)
def test_a_value_is_written_as_boto3_writes_it(value):
    assert to_item({"a": value}) == {"a": TypeSerializer().serialize(value)}


@pytest.mark.parametrize(
    ("value", "refusal"), [(1.5, TypeError), (object(), TypeError), ([1.5], TypeError), (10**38, Rounded)]
)
def test_what_boto3_refuses_is_refused(value, refusal):
    with pytest.raises(refusal):
        TypeSerializer().serialize(value)
    with pytest.raises(refusal):
        to_item({"a": value})


@pytest.mark.parametrize("value", WRITTEN_DIRECTLY)
def test_what_dbguard_writes_reads_back_unchanged(value):
    assert from_item(to_item({"a": value})) == {"a": value}


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ({"N": "42"}, 42),
        ({"N": "-0"}, 0),
        ({"N": "1.5"}, 1),  # a fraction someone else wrote still reads, as an integer
        ({"N": "1E+2"}, 100),
        ({"N": "-12"}, -12),
        ({"SS": ["a", "b"]}, {"a", "b"}),
        ({"NS": ["1", "2"]}, {Decimal(1), Decimal(2)}),
        ({"B": b"\x00"}, Binary(b"\x00")),
    ],
)
def test_a_stored_attribute_reads_as_boto3_reads_it_with_integers(attribute, expected):
    assert from_item({"a": attribute}) == {"a": expected}
    boto3_read = TypeDeserializer().deserialize(attribute)
    assert expected == (int(boto3_read) if isinstance(boto3_read, Decimal) else boto3_read)


@pytest.mark.parametrize("number", ["--5", "-", ""])
def test_a_number_attribute_holding_no_number_fails_as_boto3s_reading_of_it_did(number):
    assert TypeDeserializer().deserialize({"N": number}).is_nan()  # no integer to make of it
    with pytest.raises(ValueError, match="NaN"):
        from_item({"a": {"N": number}})


def test_storing_and_reading_plain_values_does_not_import_boto3():
    code = (
        "import sys\n"
        "from dbguard.adapters.dynamodb import from_item, to_item\n"
        "item = to_item({'s': 'a', 'n': 1, 'l': [None, {'b': True}]})\n"
        "assert from_item(item) == {'s': 'a', 'n': 1, 'l': [None, {'b': True}]}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'boto3', 's3transfer'}))\n"
    )
    layer = str(Path(dbguard.__file__).parents[1])
    environment = {**os.environ, "PYTHONPATH": layer}
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
