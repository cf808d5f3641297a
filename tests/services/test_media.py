"""Audio kept once per distinct file, refused whole when unfit, and file ids kept per bot."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Media
from learntogether.services import media
from learntogether.services.errors import FieldProblem, InvalidInput
from tests.oggopus import ogg_opus


async def _count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Media)) or 0


async def test_stored_audio_is_kept_once_with_its_facts(session: AsyncSession) -> None:
    data = ogg_opus(3)

    first = await media.store_audio(session, data=data, limits=media.STEP_RECORDING)
    again = await media.store_audio(session, data=data, limits=media.STEP_RECORDING)

    assert first == again
    assert await _count(session) == 1
    assert await media.audio_bytes(session, first.sha256) == data
    assert await media.audio_info(session, first.sha256) == first
    assert (first.duration_ms, first.size, first.mime_type) == (3000, len(data), "audio/ogg")


async def test_refused_audio_is_a_clear_invalid_input_and_nothing_is_stored(
    session: AsyncSession,
) -> None:
    with pytest.raises(media.AudioRefused) as refused:
        await media.store_audio(session, data=ogg_opus(181), limits=media.STEP_RECORDING)

    assert isinstance(refused.value, InvalidInput)
    assert refused.value.problem is media.AudioProblem.TOO_LONG
    assert (
        refused.value.detail == "3 min 1 s is longer than the 3 minutes a step recording may last"
    )
    assert refused.value.at("$.body").problems == [FieldProblem("$.body", refused.value.detail)]
    assert await _count(session) == 0


async def test_text_passed_off_as_audio_is_refused(session: AsyncSession) -> None:
    with pytest.raises(media.AudioRefused) as refused:
        await media.store_audio(session, data=b"hello", limits=media.STEP_RECORDING)

    assert refused.value.problem is media.AudioProblem.NOT_OGG_OPUS
    assert await _count(session) == 0


async def test_unknown_audio_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(media.MediaNotFound):
        await media.audio_bytes(session, "0" * 64)
    with pytest.raises(media.MediaNotFound):
        await media.audio_info(session, "0" * 64)


async def test_file_id_is_kept_per_bot(session: AsyncSession) -> None:
    info = await media.store_audio(session, data=ogg_opus(1), limits=media.STEP_RECORDING)

    await media.remember_telegram_file_id(session, bot_id=1, sha256=info.sha256, file_id="A")
    await media.remember_telegram_file_id(session, bot_id=1, sha256=info.sha256, file_id="B")

    assert await media.telegram_file_id(session, bot_id=1, sha256=info.sha256) == "A"
    assert await media.telegram_file_id(session, bot_id=2, sha256=info.sha256) is None
