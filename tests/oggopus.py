"""Valid little OGG/Opus voice recordings for tests, written from scratch (RFC 3533, RFC 7845).

``ogg_opus(seconds)`` is a real Ogg stream: correct page CRCs, an ``OpusHead`` and an ``OpusTags``
page, then pages of silent 20 ms Opus packets whose last granule position says how long it lasts.
Players accept it; ``learntogether.services.media.check_audio`` reads it as Telegram's voice notes.
``ogg_page`` builds single pages for tests of broken files.
"""

from __future__ import annotations

import struct

PRE_SKIP = 312
"""Samples (at 48 kHz) a decoder drops at the start, as libopus' encoder sets it."""
SAMPLES_PER_PACKET = 960
"""20 ms at 48 kHz."""
SILENT_PACKET = b"\xf8\xff\xfe"
"""One 20 ms mono CELT frame of silence (TOC 0xf8, then the encoder's silence bytes)."""
PACKETS_PER_PAGE = 50
"""One second a page, as voice recorders write them."""

BEGINNING_OF_STREAM = 0x02
END_OF_STREAM = 0x04


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum, bit by bit as the specification gives it (a reference for tests)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[(crc >> 24) ^ byte]
    return crc


def ogg_page(
    packets: list[bytes],
    *,
    granule: int,
    sequence: int,
    flags: int = 0,
    serial: int = 0x4C54,
    capture: bytes = b"OggS",
    crc: int | None = None,
) -> bytes:
    """One Ogg page holding whole ``packets``; ``capture`` and ``crc`` can be spoiled for tests."""
    lacing = bytearray()
    for packet in packets:
        lacing.extend(b"\xff" * (len(packet) // 255))
        lacing.append(len(packet) % 255)
    if len(lacing) > 255:
        raise ValueError("too many packets for one page")
    header = capture + struct.pack("<BBqIIIB", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(header + lacing + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)) if crc is None else crc)
    return bytes(page)


def opus_head(*, channels: int = 1, pre_skip: int = PRE_SKIP, rate: int = 48000) -> bytes:
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, rate, 0, 0)


def opus_tags(vendor: bytes = b"learntogether tests") -> bytes:
    return b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)


def ogg_opus(seconds: float = 2.0, *, packet: bytes = SILENT_PACKET) -> bytes:
    """A mono OGG/Opus recording of ``seconds`` of silence (rounded to 20 ms packets)."""
    count = max(1, round(seconds * 48000 / SAMPLES_PER_PACKET))
    pages = [
        ogg_page([opus_head()], granule=0, sequence=0, flags=BEGINNING_OF_STREAM),
        ogg_page([opus_tags()], granule=0, sequence=1),
    ]
    written = 0
    while written < count:
        in_page = min(PACKETS_PER_PAGE, count - written)
        written += in_page
        pages.append(
            ogg_page(
                [packet] * in_page,
                granule=PRE_SKIP + written * SAMPLES_PER_PACKET,
                sequence=len(pages),
                flags=END_OF_STREAM if written == count else 0,
            )
        )
    return b"".join(pages)
