"""A CSV file's bytes cut into records with their byte offsets and line numbers, streamed.

A record ends at a line break outside quotes (RFC 4180: a quoted field may hold line breaks), so
counting quote characters is enough to know where one ends without decoding or parsing it. The
offsets are what an import checkpoints and resumes from; a record is never longer than
MAX_RECORD_BYTES in memory (an unbalanced quote cannot swallow the rest of a 1 GB file).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_RECORD_BYTES = 256 * 1024  # two events' worth; a longer record is refused, not buffered
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RawRecord:
    line: int  # the physical line it starts on; the header is line 1
    start: int  # byte offset of its first byte in the file
    end: int  # byte offset just past its line break: where the next record starts
    next_line: int  # the line the next record starts on
    data: bytes  # without the line break (LF or CRLF); empty when `too_long`
    too_long: bool = False


def records(chunks: Iterable[bytes], offset: int = 0, line: int = 1) -> Iterator[RawRecord]:
    """The complete records of the file read from `offset` (the start of line `line`) in `chunks`.
    What follows the last line break outside quotes (a line still being written) is not yielded."""
    parts: list[bytes] = []
    size = quotes = 0
    start, first_line = offset, line
    tail = b""
    for chunk in chunks:
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        for physical in lines:
            offset += len(physical) + 1
            line += 1
            if not parts and b'"' not in physical:  # the common case: a record on one line
                yield RawRecord(first_line, start, offset, line, physical.removesuffix(b"\r"))
                start, first_line = offset, line
                continue
            parts.append(physical)
            size += len(physical) + 1
            quotes += physical.count(b'"')
            if quotes % 2 == 0 or size > MAX_RECORD_BYTES:
                too_long = size > MAX_RECORD_BYTES
                data = b"" if too_long else b"\n".join(parts).removesuffix(b"\r")
                yield RawRecord(first_line, start, offset, line, data, too_long)
                parts, size, quotes = [], 0, 0
                start, first_line = offset, line
        if len(tail) > MAX_RECORD_BYTES:  # no line break in sight: refuse it as one record
            offset += len(tail)
            yield RawRecord(first_line, start, offset, line, b"", too_long=True)
            tail, start = b"", offset


class CorruptCompression(ValueError):
    """A gzip stream that cannot be decompressed; the message says where."""


def gunzipped(chunks: Iterable[bytes], out_bytes: int = 1024 * 1024) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (several members one after another too, as `cat a.gz
    b.gz` makes), at most `out_bytes` at a time whatever the compression ratio."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    read, fed = 0, False  # `fed`: the current member has had input
    try:
        for chunk in chunks:
            read += len(chunk)
            data = chunk
            while data:
                fed = True
                out = decompressor.decompress(data, out_bytes)
                if out:
                    yield out
                data = decompressor.unconsumed_tail
                if decompressor.eof:
                    data = decompressor.unused_data + data
                    decompressor, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
    except zlib.error as error:
        raise CorruptCompression(
            f"the gzip stream is corrupt within its first {read} bytes: {error}"
        ) from None
    if fed:
        raise CorruptCompression(f"the gzip stream is corrupt: it ends inside a member ({read} bytes)")


def skipped(chunks: Iterable[bytes], count: int) -> Iterator[bytes]:
    """`chunks` without their first `count` bytes."""
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0


def limited(chunks: Iterable[bytes], count: int) -> Iterator[bytes]:
    """The first `count` bytes of `chunks`."""
    for chunk in chunks:
        if count <= 0:
            return
        yield chunk[:count]
        count -= len(chunk)
