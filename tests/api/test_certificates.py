"""The public certificate check: no token, and only what the certificate itself states."""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI, HTTPException, Request
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.api.ratelimit import ClientRateLimit
from learntogether.config import Settings
from learntogether.db.models import Lesson, LessonProgress, ProgressStatus
from learntogether.services import certificates, learners
from learntogether.services.published import newest_published
from learntogether.services.tracks import find_track
from tests.content.samples import TRACK
from tests.factories import create_learner, import_sample_curriculum

TELEGRAM_ID = 501
REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")


async def _certified(
    session_maker: async_sessionmaker[AsyncSession], root: Path, *, erased: bool = False
) -> tuple[str, date]:
    """A learner who passed the sample track's one lesson and got the certificate: code and date."""
    await import_sample_curriculum(session_maker, root)
    await create_learner(session_maker, TELEGRAM_ID)
    async with session_maker() as session:
        learner = await learners.find_learner(session, TELEGRAM_ID)
        assert learner is not None
        lesson_id = await session.scalar(select(Lesson.id))
        assert lesson_id is not None
        version = (await newest_published(session, [lesson_id]))[lesson_id]
        session.add(
            LessonProgress(
                user_id=learner.id,
                lesson_id=lesson_id,
                lesson_version_id=version.id,
                status=ProgressStatus.COMPLETED,
                best_score=100.0,
                passed=True,
            )
        )
        track = await find_track(session, "demo")
        certificate = await certificates.award_if_earned(
            session, learner=learner, track_id=track.id
        )
        assert certificate is not None
        if erased:
            await learners.erase(session, learner=learner)
        await session.commit()
    return certificate.code, certificate.issued_at.date()


async def test_anyone_can_check_a_certificate_without_a_token(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, issued_on = await _certified(session_maker, tmp_path)
    response = await client.get(f"/api/v1/certificates/{code}")
    assert response.status_code == 200
    assert response.json() == {
        "code": code,
        "name": "Learner",
        "track": {"slug": "demo", "title": TRACK["title"]},
        "issued_on": issued_on.isoformat(),
    }


async def test_a_lower_case_code_finds_the_certificate(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path)
    response = await client.get(f"/api/v1/certificates/{code.lower()}")
    assert response.status_code == 200
    assert response.json()["code"] == code


async def test_an_erased_learners_certificate_shows_no_name(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path, erased=True)
    response = await client.get(f"/api/v1/certificates/{code}")
    assert response.status_code == 200
    assert response.json()["name"] is None


async def test_an_unknown_code_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/api/v1/certificates/23456789AB")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "No certificate has this code.",
        "instance": "/api/v1/certificates/23456789AB",
    }


async def test_a_code_with_spaces_around_it_finds_the_certificate(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path)
    response = await client.get(f"/api/v1/certificates/%20{code.lower()}%20")
    assert response.status_code == 200
    assert response.json()["code"] == code


def _from(address: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "client": (address, 1)}
    )


async def _answers(app: FastAPI, address: str, times: int) -> list[Response]:
    transport = ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        return [await http.get("/api/v1/certificates/23456789AB") for _ in range(times)]


async def test_guessing_codes_is_held_to_the_limit_per_address(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    settings = Settings(_env_file=None, certificate_checks_per_minute=3)
    app = create_app(settings, session_maker=session_maker)
    answers = await _answers(app, "127.0.0.2", 4)
    assert [answer.status_code for answer in answers] == [404, 404, 404, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "try again in" in refused.json()["detail"]
    # Another address has its own minute.
    assert [answer.status_code for answer in await _answers(app, "127.0.0.3", 1)] == [404]


@pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
async def test_api_workers_share_one_count_through_redis() -> None:
    name = f"test-certificates-{uuid.uuid4().hex}"
    first = ClientRateLimit(name, 2, redis_url=REDIS_URL)
    second = ClientRateLimit(name, 2, redis_url=REDIS_URL)
    await first.check(_from("127.0.0.2"))
    await second.check(_from("127.0.0.2"))
    with pytest.raises(HTTPException) as refused:
        await first.check(_from("127.0.0.2"))
    assert refused.value.status_code == 429


async def test_without_redis_each_worker_still_counts_alone() -> None:
    # Nothing listens on port 1: every call to Redis fails at once.
    limit = ClientRateLimit("certificates", 2, redis_url="redis://127.0.0.1:1/0")
    await limit.check(_from("127.0.0.2"))
    await limit.check(_from("127.0.0.2"))
    with pytest.raises(HTTPException) as refused:
        await limit.check(_from("127.0.0.2"))
    assert refused.value.status_code == 429


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_a_browser_gets_a_page_in_its_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path)
    response = await client.get(
        f"/api/v1/certificates/{code.lower()}",
        headers={"Accept": BROWSER, "Accept-Language": "de;q=0.9, bg-BG;q=0.8, en;q=0.5"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "bg"
    assert "script-src" not in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="bg">' in page
    assert "Смесената класна стая" in page  # the track's title in Bulgarian
    assert "Learner" in page and code in page and "To Learn Together" in page
    assert "Проверка на сертификат" in page


async def test_json_stays_for_programs_and_a_bare_wildcard(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path)
    for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
        response = await client.get(f"/api/v1/certificates/{code}", headers={"Accept": accept})
        assert response.json()["code"] == code, accept


async def test_the_page_of_an_erased_learners_certificate_shows_no_name(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path, erased=True)
    response = await client.get(
        f"/api/v1/certificates/{code}", headers={"Accept": BROWSER, "Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert "The name is no longer shown" in response.text
    assert "Learner" not in response.text


async def test_the_page_of_an_unknown_code_says_so_with_404(client: AsyncClient) -> None:
    response = await client.get(
        "/api/v1/certificates/NOPE<b>X", headers={"Accept": BROWSER, "Accept-Language": "fr"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "NOPE<b>" not in response.text
    assert '<html lang="fr">' in response.text


async def test_the_page_names_the_programme_from_settings(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    code, _ = await _certified(session_maker, tmp_path)
    app = create_app(
        settings.model_copy(update={"programme_name": "Roma <Inclusion> Programme"}),
        session_maker=session_maker,
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as browser:
        response = await browser.get(f"/api/v1/certificates/{code}", headers={"Accept": BROWSER})
    assert "Roma &lt;Inclusion&gt; Programme" in response.text
