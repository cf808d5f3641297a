"""The console's review of mediators' recordings: listen, approve (a new published version of
the lesson) or reject, with a comment; admins only."""

from __future__ import annotations

import re

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.content.schema import LessonDocument
from learntogether.db.models import RecordingStatus, TokenRole
from learntogether.services import lessons, recordings
from tests.console.conftest import sign_in
from tests.content.samples import every_kind_lesson
from tests.services.test_recordings import ADMIN, mediator_and_lesson, submit

PAGE = "/curriculum/recordings"


async def pending_recording(
    session_maker: async_sessionmaker[AsyncSession], *, title: dict[str, str] | None = None
) -> int:
    """Rosa's recording of step 2 of lesson ``kinds`` in Bulgarian, waiting for review."""
    async with session_maker() as session:
        rosa, version_id = await mediator_and_lesson(session, title=title)
        recording = await submit(session, rosa, version_id, index=1, locale="bg")
        await session.commit()
    return recording.id


async def _status(
    session_maker: async_sessionmaker[AsyncSession], recording_id: int
) -> tuple[RecordingStatus, int | None]:
    async with session_maker() as session:
        found = await recordings.get_recording(session, actor=ADMIN, recording_id=recording_id)
    return found.status, found.published_version


async def test_an_admin_listens_and_approves_a_recording_into_the_lesson(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    recording_id = await pending_recording(session_maker)
    csrf = await sign_in(client, session_maker)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Every kind, step 2 · Bulgarian" in page.text and "Recorded by Rosa" in page.text
    source = re.search(r'<audio controls preload="none" src="([^"]+)">', page.text)
    assert source is not None and source[1] == f"{PAGE}/{recording_id}/audio"
    heard = await client.get(source[1])
    assert (heard.status_code, heard.headers["content-type"]) == (200, "audio/ogg")
    assert heard.content.startswith(b"OggS")

    done = await client.post(
        f"{PAGE}/{recording_id}/review",
        data={"csrf": csrf, "decision": "approve", "comment": "Clear and warm."},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{PAGE}?done=approve")
    assert await _status(session_maker, recording_id) == (RecordingStatus.APPROVED, 2)
    after = await client.get(done.headers["location"])
    assert "The recording is approved and published in the lesson." in after.text
    assert "No recording is waiting for review." in after.text


async def test_a_recording_names_its_lesson_by_title_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await pending_recording(session_maker, title={"en": "Every kind", "bg": "Всякакви"})
    await sign_in(client, session_maker)
    page = await client.get(PAGE, headers={"accept-language": "bg"})
    heading = re.search(r'<h2 id="recording-\d+">([^<]+)</h2>', page.text)
    assert heading is not None and heading[1].startswith("Всякакви, стъпка 2 · български")
    assert "kinds," not in page.text
    # A language the lesson has no title in: its English title, never the slug.
    french = await client.get(PAGE, headers={"accept-language": "fr"})
    heading = re.search(r'<h2 id="recording-\d+">([^<]+)</h2>', french.text)
    assert heading is not None and heading[1].startswith("Every kind, ")
    assert "bulgare" in heading[1]


async def test_a_rejected_recording_is_deleted_and_no_longer_plays(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    recording_id = await pending_recording(session_maker)
    csrf = await sign_in(client, session_maker)
    done = await client.post(
        f"{PAGE}/{recording_id}/review",
        data={"csrf": csrf, "decision": "reject", "comment": "Too much noise."},
    )
    assert done.status_code == 303
    assert await _status(session_maker, recording_id) == (RecordingStatus.REJECTED, None)
    assert (await client.get(f"{PAGE}/{recording_id}/audio")).status_code == 404
    # Reviewed once is reviewed: a second decision is refused beside nothing left to review.
    again = await client.post(
        f"{PAGE}/{recording_id}/review", data={"csrf": csrf, "decision": "approve"}
    )
    assert again.status_code == 409


async def test_approval_waits_for_the_lessons_draft_and_says_so_beside_the_recording(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    recording_id = await pending_recording(session_maker)
    async with session_maker() as session:
        draft = LessonDocument.model_validate(
            {**every_kind_lesson(), "slug": "kinds", "track": "demo", "minutes": 9}
        )
        await lessons.save_draft(session, document=draft, actor=ADMIN)
        await session.commit()
    csrf = await sign_in(client, session_maker)
    refused = await client.post(
        f"{PAGE}/{recording_id}/review", data={"csrf": csrf, "decision": "approve"}
    )
    assert refused.status_code == 409
    problem = re.search(
        rf'<p class="error" role="alert" id="problem-{recording_id}">([^<]+)', refused.text
    )
    assert problem is not None and "unpublished draft" in problem[1]
    assert await _status(session_maker, recording_id) == (RecordingStatus.PENDING, None)
    # A Bulgarian reader reads the refusal in Bulgarian (the API's detail stays English).
    in_bulgarian = await client.post(
        f"{PAGE}/{recording_id}/review",
        data={"csrf": csrf, "decision": "approve"},
        headers={"accept-language": "bg"},
    )
    problem = re.search(
        rf'<p class="error" role="alert" id="problem-{recording_id}">([^<]+)', in_bulgarian.text
    )
    assert problem is not None
    assert problem[1].startswith("Урокът „kinds“ има непубликувана чернова (версия 2)")


async def test_a_forged_decision_or_a_missing_csrf_token_changes_nothing(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    recording_id = await pending_recording(session_maker)
    csrf = await sign_in(client, session_maker)
    forged = await client.post(
        f"{PAGE}/{recording_id}/review", data={"csrf": csrf, "decision": "publish"}
    )
    assert forged.status_code == 422
    unsigned = await client.post(f"{PAGE}/{recording_id}/review", data={"decision": "approve"})
    assert unsigned.status_code in (400, 403)
    assert await _status(session_maker, recording_id) == (RecordingStatus.PENDING, None)


async def test_mediators_and_viewers_neither_list_hear_nor_review_recordings(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    recording_id = await pending_recording(session_maker)
    for role, cohorts in ((TokenRole.MEDIATOR, ["SLV1"]), (TokenRole.VIEWER, None)):
        csrf = await sign_in(client, session_maker, role, name=role.value, cohorts=cohorts)
        assert (await client.get(PAGE)).status_code == 403
        assert (await client.get(f"{PAGE}/{recording_id}/audio")).status_code == 403
        posted = await client.post(
            f"{PAGE}/{recording_id}/review", data={"csrf": csrf, "decision": "approve"}
        )
        assert posted.status_code == 403
        curriculum = await client.get("/curriculum")
        assert "Recordings to review" not in curriculum.text
    assert await _status(session_maker, recording_id) == (RecordingStatus.PENDING, None)
