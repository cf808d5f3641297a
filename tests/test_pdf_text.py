"""The tests' PDF reader (tests/pdf_text.py) reads a stream by its length."""

from __future__ import annotations

import zlib

from tests.pdf_text import _stream


def test_a_compressed_stream_ending_in_a_carriage_return_is_read_whole() -> None:
    # About one compressed stream in 256 ends in a CR byte (its checksum's last byte): a pattern
    # for "CR LF endstream" took that byte away and zlib found the stream truncated.
    text = next(
        candidate
        for number in range(10_000)
        if zlib.compress(candidate := b"BT /F1 12 Tf (" + b"a" * number + b") Tj ET").endswith(
            b"\r"
        )
    )
    data = zlib.compress(text)
    body = b"<<\n/Filter /FlateDecode\n/Length %d\n>>\nstream\n%b\nendstream" % (len(data), data)
    assert _stream(body) == text
