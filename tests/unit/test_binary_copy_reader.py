"""The nightly run's reader of PostgreSQL binary COPY streams, fed as the data arrives."""

from __future__ import annotations

import numpy as np
import pytest

from returns_inventory.persistence.bulk import PGCOPY_SIGNATURE, BinaryCopyReader


def _stream(fields: list[bytes]) -> bytes:
    rows = b"".join(b"\x00\x01" + len(f).to_bytes(4, "big") + f for f in fields)
    return PGCOPY_SIGNATURE + bytes(8) + rows + b"\xff\xff"


FIELDS = [np.arange(k * 6, k * 6 + 6, dtype=">i4").tobytes() for k in range(5)]


@pytest.mark.parametrize("piece", [1, 3, 7, 24, 10_000])
def test_fields_come_out_whole_however_the_stream_is_cut(piece):
    data, reader, out = _stream(FIELDS), BinaryCopyReader(), []
    for a in range(0, len(data), piece):
        out += [bytes(f) for f in reader.feed(data[a : a + piece])]
    reader.close()
    assert out == FIELDS


def test_a_stream_cut_short_is_refused_not_read_as_fewer_rows():
    reader = BinaryCopyReader()
    reader.feed(_stream(FIELDS)[:-9])
    with pytest.raises(ValueError, match="malformed"):
        reader.close()


def test_a_stream_that_is_not_binary_copy_is_refused():
    with pytest.raises(ValueError, match="not a binary COPY"):
        BinaryCopyReader().feed(b"1\t2\n" * 10)
