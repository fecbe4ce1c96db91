"""Cutting a CSV file into records with byte offsets, whatever the chunking: quoted line breaks,
CRLF, a line still being written, a record longer than the limit."""

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbguard.audit.csv_records import MAX_RECORD_BYTES, CorruptCompression, gunzipped, records

TEXT = b'h1,h2\r\na,"b\nc"\r\n"d""e",f\nlast,line-without-break'


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    return [*chunks, data[at:]]


def test_records_carry_their_lines_offsets_and_data_without_the_line_break():
    found = list(records([TEXT]))
    assert [(r.line, r.start, r.end, r.next_line, r.data) for r in found] == [
        (1, 0, 7, 2, b"h1,h2"),
        (2, 7, 16, 4, b'a,"b\nc"'),
        (4, 16, 25, 5, b'"d""e",f'),
    ]  # the last line has no line break yet: not a record


@given(st.lists(st.integers(min_value=0, max_value=12), max_size=8))
def test_any_chunking_gives_the_same_records(sizes):
    assert list(records(cut(TEXT, sizes))) == list(records([TEXT]))


def test_reading_from_a_checkpoint_continues_the_numbering():
    first = list(records([TEXT]))
    resumed = list(records([TEXT[first[0].end :]], first[0].end, first[0].next_line))
    assert resumed == first[1:]


def test_an_unbalanced_quote_cannot_hold_the_rest_of_the_file_in_memory():
    line = b"x" * 100 + b"\n"
    body = b'a,"open\n' + line * (MAX_RECORD_BYTES // len(line) + 2) + b"ok,row\n"
    found = list(records([body]))
    assert found[0].too_long
    assert found[0].data == b""
    assert found[-1].end == len(body)


def test_gunzipped_reads_members_one_after_another_in_any_chunking_and_bounds_each_piece():
    text = b"x" * 50_000 + b"\n" + b"y" * 10
    stream = gzip.compress(text[:20_000]) + gzip.compress(text[20_000:])
    pieces = list(gunzipped([stream[at : at + 7] for at in range(0, len(stream), 7)], out_bytes=4096))
    assert b"".join(pieces) == text
    assert max(len(piece) for piece in pieces) <= 4096  # a zip bomb cannot fill the memory at once
    with pytest.raises(CorruptCompression, match="ends inside a member"):
        b"".join(gunzipped([stream[:-5]]))
