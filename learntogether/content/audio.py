"""What an audio file is: the one check every recording passes, wherever it comes from.

Telegram plays voice notes that are an OGG container with one Opus stream (RFC 3533, RFC 7845).
``inspect_audio`` reads the Ogg pages in pure Python (capture pattern, checksum, ``OpusHead``,
``OpusTags``, the last granule position) and refuses what is not such a file, or is longer or
bigger than its use allows; nothing is decoded. Lesson files are checked with it when they are
read; ``services.media`` checks uploads and voice notes with it before keeping them.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum

OGG_OPUS = "audio/ogg"
OPUS_RATE = 48000
"""Opus granule positions count samples at 48 kHz whatever the input rate was."""
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class AudioLimits:
    """How long and how big audio for one use may be, and what to call it in messages."""

    what: str
    """``a step recording``: "3 min 12 s is longer than the 3 minutes a step recording may last"."""
    max_seconds: int
    max_bytes: int


STEP_RECORDING = AudioLimits(what="a step recording", max_seconds=180, max_bytes=3 * MEGABYTE // 2)
"""A lesson step read aloud: up to 3 minutes in 1.5 MB (Opus voice up to ~64 kbit/s; the API
refuses bodies over 2 MB, LT_API_MAX_BODY_BYTES, before they are read)."""


class AudioProblem(StrEnum):
    NOT_OGG_OPUS = "not_ogg_opus"
    TOO_LONG = "too_long"
    TOO_LARGE = "too_large"


class BadAudio(ValueError):
    """Audio that cannot be used; ``problem`` says why (for a message in the learner's language),
    ``detail`` says it in English (files, the API)."""

    def __init__(self, problem: AudioProblem, detail: str, limits: AudioLimits) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.limits = limits


@dataclass(frozen=True)
class AudioInfo:
    sha256: str
    mime_type: str
    size: int
    duration_ms: int

    @property
    def duration_seconds(self) -> int:
        """Whole seconds, rounded up, as Telegram gives a voice note's duration."""
        return max(1, -(-self.duration_ms // 1000))


def describe_duration(milliseconds: int) -> str:
    """``3 min 12 s``; ``45 s``; ``2 min`` (English, for API details and files)."""
    minutes, seconds = divmod(round(milliseconds / 1000), 60)
    if not minutes:
        return f"{seconds} s"
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _describe_limit(seconds: int) -> str:
    """``3 minutes``, ``1 minute``, ``90 s``: a bound as people say it."""
    minutes, rest = divmod(seconds, 60)
    if rest or not minutes:
        return f"{seconds} s"
    return f"{minutes} minute" + ("s" if minutes > 1 else "")


def describe_size(size: int) -> str:
    """Tenths of a megabyte, rounded up: just over a limit never reads as the limit itself."""
    tenths = -(-size * 10 // MEGABYTE)
    return f"{tenths / 10:.1f} MB"


# Ogg's CRC is CRC-32 with polynomial 0x04C11DB7 fed most significant bit first, starting from 0
# with no final XOR. zlib's CRC-32 feeds least significant bit first: on bit-reversed bytes,
# started and ended so that it inverts nothing, it gives the bit-reversed Ogg CRC, at C speed.
_REVERSED_BYTES = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def ogg_crc(data: bytes) -> int:
    reflected = zlib.crc32(data.translate(_REVERSED_BYTES), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


_PAGE_HEADER = struct.Struct("<4sBBqIIIB")
_CRC_FIELD = slice(22, 26)
_BEGINNING_OF_STREAM = 0x02


class _NotOggOpus(Exception):
    """Why the bytes are not an OGG/Opus recording."""


@dataclass(frozen=True)
class _Page:
    flags: int
    granule: int
    serial: int
    segments: bytes
    body: bytes

    def first_packet(self) -> bytes:
        """The packet the page starts with (each header packet is alone on its page)."""
        length = 0
        for lacing in self.segments:
            length += lacing
            if lacing < 255:
                break
        return self.body[:length]


def _pages(data: bytes) -> list[_Page]:
    pages: list[_Page] = []
    offset = 0
    while offset < len(data):
        if data[offset : offset + 4] != b"OggS":
            raise _NotOggOpus(f"no 'OggS' page at byte {offset}")
        if len(data) - offset < _PAGE_HEADER.size:
            raise _NotOggOpus(f"a page header is cut short at byte {offset}")
        _, version, flags, granule, serial, _sequence, crc, count = _PAGE_HEADER.unpack_from(
            data, offset
        )
        if version != 0:
            raise _NotOggOpus(f"Ogg version {version} at byte {offset}")
        lacing_end = offset + _PAGE_HEADER.size + count
        segments = data[offset + _PAGE_HEADER.size : lacing_end]
        end = lacing_end + sum(segments)
        if len(segments) < count or end > len(data):
            raise _NotOggOpus(f"the page at byte {offset} is cut short")
        page = bytearray(data[offset:end])
        page[_CRC_FIELD] = bytes(4)
        if ogg_crc(bytes(page)) != crc:
            raise _NotOggOpus(f"the page at byte {offset} fails its checksum")
        pages.append(_Page(flags, granule, serial, segments, data[lacing_end:end]))
        offset = end
    return pages


def _opus_duration_ms(data: bytes) -> int:
    pages = _pages(data)
    if len(pages) < 3:
        raise _NotOggOpus("fewer pages than an Opus header, its tags and audio take")
    head = pages[0].first_packet()
    if not pages[0].flags & _BEGINNING_OF_STREAM or not head.startswith(b"OpusHead"):
        raise _NotOggOpus("the first page is not an OpusHead")
    if len(head) < 19 or head[8] >> 4 != 0 or head[9] == 0:
        raise _NotOggOpus("an OpusHead of an unknown version or without channels")
    if not pages[1].body.startswith(b"OpusTags"):
        raise _NotOggOpus("the second page is not OpusTags")
    if any(page.serial != pages[0].serial for page in pages):
        raise _NotOggOpus("more than one stream")
    pre_skip: int = struct.unpack_from("<H", head, 10)[0]
    # A page on which no packet ends has granule -1; the last that names one ends the stream.
    last = next((page.granule for page in reversed(pages) if page.granule >= 0), 0)
    samples = last - pre_skip
    if samples <= 0:
        raise _NotOggOpus("no audio after the header")
    return -(-samples * 1000 // OPUS_RATE)


def check_size(size: int, limits: AudioLimits) -> None:
    """Raise BadAudio when ``size`` bytes are more than ``limits`` allow (also for what Telegram
    announces of a voice note before it is downloaded)."""
    if size > limits.max_bytes:
        raise BadAudio(
            AudioProblem.TOO_LARGE,
            f"{describe_size(size)} is more than the {describe_size(limits.max_bytes)} "
            f"{limits.what} may take",
            limits,
        )


def check_duration(duration_ms: int, limits: AudioLimits) -> None:
    """Raise BadAudio when audio of ``duration_ms`` lasts longer than ``limits`` allow."""
    if duration_ms > limits.max_seconds * 1000:
        raise BadAudio(
            AudioProblem.TOO_LONG,
            f"{describe_duration(duration_ms)} is longer than the "
            f"{_describe_limit(limits.max_seconds)} {limits.what} may last",
            limits,
        )


def inspect_audio(data: bytes, limits: AudioLimits) -> AudioInfo:
    """What ``data`` is, if it is an OGG/Opus recording within ``limits``; raises BadAudio.

    The size is checked first, so an oversized file costs no parsing.
    """
    check_size(len(data), limits)
    try:
        duration_ms = _opus_duration_ms(data)
    except _NotOggOpus as error:
        raise BadAudio(
            AudioProblem.NOT_OGG_OPUS, f"not an OGG/Opus voice recording ({error})", limits
        ) from None
    check_duration(duration_ms, limits)
    return AudioInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        mime_type=OGG_OPUS,
        size=len(data),
        duration_ms=duration_ms,
    )
