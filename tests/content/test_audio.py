"""The one audio check: OGG/Opus as Telegram's voice notes, within a use's size and duration."""

from __future__ import annotations

import hashlib
import os
import struct

import pytest

from learntogether.content.audio import (
    STEP_RECORDING,
    AudioLimits,
    AudioProblem,
    BadAudio,
    inspect_audio,
    ogg_crc,
)
from tests.oggopus import (
    BEGINNING_OF_STREAM,
    PRE_SKIP,
    ogg_opus,
    ogg_page,
    opus_head,
    opus_tags,
)
from tests.oggopus import ogg_crc as reference_crc

TINY = AudioLimits(what="a test recording", max_seconds=60, max_bytes=20_000)


def _refusal(data: bytes, limits: AudioLimits = STEP_RECORDING) -> BadAudio:
    with pytest.raises(BadAudio) as refused:
        inspect_audio(data, limits)
    return refused.value


def test_fast_crc_equals_the_specifications_bitwise_one() -> None:
    for data in (b"", b"OggS", bytes(range(256)), os.urandom(4099)):
        assert ogg_crc(data) == reference_crc(data)


@pytest.mark.parametrize("seconds", [0.02, 1, 2.5, 59.98, 180])
def test_duration_is_the_last_granule_less_the_pre_skip(seconds: float) -> None:
    data = ogg_opus(seconds)

    info = inspect_audio(data, STEP_RECORDING)

    assert info.duration_ms == round(seconds * 1000)
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.mime_type == "audio/ogg"


def test_duration_in_whole_seconds_rounds_up_as_telegram_does() -> None:
    assert inspect_audio(ogg_opus(2.5), STEP_RECORDING).duration_seconds == 3
    assert inspect_audio(ogg_opus(0.02), STEP_RECORDING).duration_seconds == 1


def test_too_long_says_how_long_and_the_limit() -> None:
    refused = _refusal(ogg_opus(192))

    assert refused.problem is AudioProblem.TOO_LONG
    assert refused.detail == ("3 min 12 s is longer than the 3 minutes a step recording may last")


def test_too_large_says_both_sizes_and_parses_nothing() -> None:
    refused = _refusal(b"x" * (STEP_RECORDING.max_bytes + 1))

    assert refused.problem is AudioProblem.TOO_LARGE
    assert refused.detail == "1.6 MB is more than the 1.5 MB a step recording may take"


def test_limits_are_the_callers() -> None:
    assert _refusal(ogg_opus(61), TINY).detail == (
        "1 min 1 s is longer than the 1 minute a test recording may last"
    )
    assert inspect_audio(ogg_opus(60), TINY).duration_ms == 60_000


def _pages_with_head(head: bytes) -> bytes:
    return b"".join(
        [
            ogg_page([head], granule=0, sequence=0, flags=BEGINNING_OF_STREAM),
            ogg_page([opus_tags()], granule=0, sequence=1),
            ogg_page([b"\xf8\xff\xfe"], granule=PRE_SKIP + 960, sequence=2),
        ]
    )


def _spoiled_crc(data: bytes) -> bytes:
    spoiled = bytearray(data)
    spoiled[-1] ^= 0xFF
    return bytes(spoiled)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "fewer pages"),
        (b"ID3\x03\x00" + bytes(100), "no 'OggS' page at byte 0"),
        (b"RIFF" + bytes(40), "no 'OggS' page at byte 0"),
        (ogg_opus(1)[:-10], "is cut short"),
        (ogg_opus(1) + b"junk", "no 'OggS' page at byte"),
        (ogg_opus(1) + b"OggS\0", "a page header is cut short"),
        (ogg_opus(1) + b"x" * 40, "no 'OggS' page at byte"),
        (_spoiled_crc(ogg_opus(1)), "fails its checksum"),
        (_pages_with_head(b"OggVorbis" + bytes(20)), "the first page is not an OpusHead"),
        (_pages_with_head(opus_head(channels=0)), "without channels"),
        (_pages_with_head(b"OpusHead" + struct.pack("<BB", 0x10, 1) + bytes(9)), "unknown version"),
        (
            ogg_page([opus_head()], granule=0, sequence=0, flags=BEGINNING_OF_STREAM)
            + ogg_page([b"comments"], granule=0, sequence=1)
            + ogg_page([b"\xf8"], granule=PRE_SKIP + 960, sequence=2),
            "the second page is not OpusTags",
        ),
        (
            ogg_page([opus_head()], granule=0, sequence=0, flags=BEGINNING_OF_STREAM)
            + ogg_page([opus_tags()], granule=0, sequence=1)
            + ogg_page([b"\xf8"], granule=PRE_SKIP, sequence=2),
            "no audio after the header",
        ),
        (ogg_opus(1) + ogg_page([b"x"], granule=9, sequence=0, serial=7), "more than one stream"),
        (
            ogg_page([opus_head()], granule=0, sequence=0, flags=0)
            + ogg_page([opus_tags()], granule=0, sequence=1)
            + ogg_page([b"\xf8"], granule=PRE_SKIP + 960, sequence=2),
            "the first page is not an OpusHead",
        ),
    ],
)
def test_what_is_not_ogg_opus_is_refused_saying_why(data: bytes, why: str) -> None:
    refused = _refusal(data)

    assert refused.problem is AudioProblem.NOT_OGG_OPUS
    assert refused.detail.startswith("not an OGG/Opus voice recording (")
    assert why in refused.detail


def test_a_page_without_a_packet_end_does_not_count_for_the_duration() -> None:
    data = ogg_opus(1) + ogg_page([], granule=-1, sequence=3)

    assert inspect_audio(data, STEP_RECORDING).duration_ms == 1000
