"""The users resource: search, one learner, role, export, erasure and the CSV list."""

from __future__ import annotations

import csv
import io

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, Cohort, TokenRole, User
from learntogether.services import learners
from tests.factories import create_api_token, create_learner
from tests.report_builders import reflect

URL = "/api/v1/users"
PROBLEM = "application/problem+json"


def _bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


async def _cohorts(session_maker: async_sessionmaker[AsyncSession]) -> None:
    async with session_maker() as session:
        for code, municipality in (("SLV1", "Sliven"), ("PLV1", "Plovdiv")):
            session.add(
                Cohort(
                    code=code,
                    name=f"{municipality} teachers",
                    country="BG",
                    region=municipality,
                    municipality=municipality,
                    locale="bg",
                )
            )
        await session.commit()


async def _people(session_maker: async_sessionmaker[AsyncSession]) -> tuple[User, User]:
    await _cohorts(session_maker)
    sliven = await create_learner(session_maker, 111_111, cohort="SLV1", first_name="Zlatka")
    plovdiv = await create_learner(session_maker, 222_222, cohort="PLV1", first_name="Asen")
    return sliven, plovdiv


async def _erase(session_maker: async_sessionmaker[AsyncSession], user_id: int) -> None:
    async with session_maker() as session:
        learner = await session.get(User, user_id)
        assert learner is not None
        await learners.erase(session, learner=learner)
        await session.commit()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_admin_lists_learners_with_personal_data_in_the_page_shape(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    admin = await create_api_token(session_maker)
    response = await client.get(URL, params={"limit": 1}, headers=_bearer(admin))
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 0)
    [item] = body["items"]
    assert (item["first_name"], item["telegram_id"], item["cohorts"]) == (
        "Zlatka",
        111_111,
        ["SLV1"],
    )
    assert item["municipality"] == "Sliven"


async def test_mediator_lists_only_its_cohorts_learners_without_telegram_ids(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(URL, headers=_bearer(mediator))
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert (item["first_name"], item["telegram_id"]) == ("Zlatka", None)
    assert "222222" not in response.text


async def test_viewer_is_refused_every_users_route(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    for method, path in (
        ("GET", URL),
        ("GET", f"{URL}/{sliven.id}"),
        ("GET", f"{URL}/{sliven.id}/export"),
        ("GET", f"{URL}/{sliven.id}/activity"),
        ("POST", f"{URL}/{sliven.id}/erase"),
    ):
        response = await client.request(method, path, headers=_bearer(viewer))
        assert response.status_code == 403, path
        assert response.headers["content-type"] == PROBLEM
    response = await client.get(URL, headers=_bearer(viewer, accept="text/csv"))
    assert response.status_code == 403


async def test_without_a_token_it_is_401(client: AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_search_and_filters(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    admin = await create_api_token(session_maker)

    async def names(**params: str) -> list[str]:
        response = await client.get(URL, params=params, headers=_bearer(admin))
        assert response.status_code == 200, response.text
        return [item["first_name"] for item in response.json()["items"]]

    assert await names(q="zlat") == ["Zlatka"]
    assert await names(q="plovdiv") == ["Asen"]
    assert await names(cohort="PLV1") == ["Asen"]
    assert await names(role="teacher") == ["Zlatka", "Asen"]
    assert await names(role="parent") == []
    assert await names(status="erased") == []


async def test_bad_filters_are_422_with_their_paths(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(
        URL, params={"role": "wizard", "status": "gone", "limit": 0}, headers=_bearer(admin)
    )
    assert response.status_code == 422
    paths = sorted(error["path"] for error in response.json()["errors"])
    assert paths == ["query.limit", "query.role", "query.status"]
    response = await client.get(URL, params={"cohort": "NOPE"}, headers=_bearer(admin))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "query.cohort", "message": "unknown cohort code 'NOPE'"}
    ]


async def test_mediator_may_not_filter_by_another_cohort(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(URL, params={"cohort": "PLV1"}, headers=_bearer(mediator))
    assert response.status_code == 403


async def test_one_learner_and_scope(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, plovdiv = await _people(session_maker)
    admin = await create_api_token(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(f"{URL}/{plovdiv.id}", headers=_bearer(admin))
    assert (response.status_code, response.json()["first_name"]) == (200, "Asen")
    assert (await client.get(f"{URL}/{sliven.id}", headers=_bearer(mediator))).status_code == 200
    outside = await client.get(f"{URL}/{plovdiv.id}", headers=_bearer(mediator))
    assert outside.status_code == 404
    assert outside.headers["content-type"] == PROBLEM
    assert (await client.get(f"{URL}/999999", headers=_bearer(admin))).status_code == 404
    bad = await client.get(f"{URL}/zero", headers=_bearer(admin))
    assert bad.status_code == 422
    assert [error["path"] for error in bad.json()["errors"]] == ["path.user_id"]


async def test_admin_changes_the_role_and_it_is_audited(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    admin = await create_api_token(session_maker, name="office")
    response = await client.put(
        f"{URL}/{sliven.id}/role", json={"role": "principal"}, headers=_bearer(admin)
    )
    assert (response.status_code, response.json()["role"]) == (200, "principal")
    async with session_maker() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "set_role"))
    assert entry is not None
    assert (entry.actor, entry.after) == ("token:office", {"role": "principal"})


async def test_role_change_needs_an_admin_and_a_known_role(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    admin = await create_api_token(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    path = f"{URL}/{sliven.id}/role"
    refused = await client.put(path, json={"role": "parent"}, headers=_bearer(mediator))
    assert refused.status_code == 403
    invalid = await client.put(path, json={"role": "wizard"}, headers=_bearer(admin))
    assert invalid.status_code == 422
    assert [error["path"] for error in invalid.json()["errors"]] == ["$.role"]
    missing = await client.put(
        f"{URL}/999999/role", json={"role": "parent"}, headers=_bearer(admin)
    )
    assert missing.status_code == 404


async def test_role_of_an_erased_learner_is_409(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    await _erase(session_maker, sliven.id)
    admin = await create_api_token(session_maker)
    response = await client.put(
        f"{URL}/{sliven.id}/role", json={"role": "parent"}, headers=_bearer(admin)
    )
    assert response.status_code == 409


async def test_export_is_the_document_the_learner_gets_from_mydata(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    admin = await create_api_token(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(f"{URL}/{sliven.id}/export", headers=_bearer(admin))
    assert response.status_code == 200
    async with session_maker() as session:
        learner = await session.get(User, sliven.id)
        assert learner is not None
        expected = await learners.export_data(session, learner=learner)
        audited = await session.scalar(select(AuditLog).where(AuditLog.action == "export"))
    assert response.json() == expected
    assert audited is not None
    refused = await client.get(f"{URL}/{sliven.id}/export", headers=_bearer(mediator))
    assert refused.status_code == 403


async def test_erase_makes_the_learner_anonymous_and_is_audited(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    admin = await create_api_token(session_maker)
    response = await client.post(f"{URL}/{sliven.id}/erase", headers=_bearer(admin))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "erased"
    assert body["erased_at"] is not None
    assert {key for key, value in body.items() if value not in (None, [])} == {
        "id",
        "status",
        "erased_at",
    }
    again = await client.post(f"{URL}/{sliven.id}/erase", headers=_bearer(admin))
    assert again.status_code == 200
    async with session_maker() as session:
        entries = list(await session.scalars(select(AuditLog).where(AuditLog.action == "erase")))
        stored = await session.get(User, sliven.id)
    assert len(entries) == 1
    assert stored is not None
    assert (stored.first_name, stored.telegram_id) == (None, None)


async def test_erase_needs_an_admin(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.post(f"{URL}/{sliven.id}/erase", headers=_bearer(mediator))
    assert response.status_code == 403


async def test_csv_lists_every_learner_and_erased_ones_anonymously(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    _, plovdiv = await _people(session_maker)
    await _erase(session_maker, plovdiv.id)
    admin = await create_api_token(session_maker)
    response = await client.get(URL, params={"limit": 1}, headers=_bearer(admin, accept="text/csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = _rows(response.text)
    assert len(rows) == 2  # the whole list, whatever the page size
    first, erased = rows
    assert (first["first_name"], first["telegram_id"], first["cohorts"]) == (
        "Zlatka",
        "111111",
        "SLV1",
    )
    assert erased["status"] == "erased"
    assert {key for key, value in erased.items() if value} == {"id", "status", "erased_at"}
    assert "Asen" not in response.text
    assert "222222" not in response.text


async def test_mediator_csv_has_no_telegram_id_column(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(URL, headers=_bearer(mediator, accept="text/csv"))
    rows = _rows(response.text)
    assert [row["first_name"] for row in rows] == ["Zlatka"]
    assert "telegram_id" not in rows[0]


async def test_csv_cells_that_look_like_formulas_are_defused(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 1, first_name='=HYPERLINK("http://x")')
    admin = await create_api_token(session_maker)
    response = await client.get(URL, headers=_bearer(admin, accept="text/csv"))
    assert _rows(response.text)[0]["first_name"] == '\'=HYPERLINK("http://x")'


async def test_csv_filters_like_the_json_list(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _people(session_maker)
    admin = await create_api_token(session_maker)
    response = await client.get(
        URL, params={"q": "asen"}, headers=_bearer(admin, accept="text/csv")
    )
    assert [row["first_name"] for row in _rows(response.text)] == ["Asen"]


async def test_a_learners_activity_lessons_and_quizzes_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, plovdiv = await _people(session_maker)
    await reflect(session_maker, sliven.id, "Pair the pupils.")
    admin = await create_api_token(session_maker)
    response = await client.get(
        f"{URL}/{sliven.id}/activity", params={"limit": 3}, headers=_bearer(admin)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # Newest first: the track's certificate, the quiz's pass; the join is the oldest of all.
    assert (body["limit"], body["offset"], len(body["items"])) == (3, 0, 3)
    assert body["total"] > 3
    assert [item["verb"] for item in body["items"]] == ["certified", "passed", "completed"]
    assert (body["items"][1]["lesson"], body["items"][1]["lesson_title"]) == ("kinds", "Every kind")
    last = await client.get(
        f"{URL}/{sliven.id}/activity",
        params={"limit": 3, "offset": body["total"] - 1},
        headers=_bearer(admin),
    )
    assert [item["verb"] for item in last.json()["items"]] == ["joined"]
    [lesson] = body["lessons"]
    assert (lesson["lesson"], lesson["status"]) == ("kinds", "completed")
    [quiz] = body["quizzes"]
    assert quiz["lesson"] == "kinds" and quiz["max_score"] > 0 and quiz["assisted"] is False
    # A mediator of the learner's cohort reads it; of another cohort, there is no such learner.
    own = await create_api_token(session_maker, TokenRole.MEDIATOR, name="own", cohorts=["SLV1"])
    other = await create_api_token(
        session_maker, TokenRole.MEDIATOR, name="other", cohorts=["PLV1"]
    )
    assert (
        await client.get(f"{URL}/{sliven.id}/activity", headers=_bearer(own))
    ).status_code == 200
    beyond = await client.get(f"{URL}/{sliven.id}/activity", headers=_bearer(other))
    assert beyond.status_code == 404 and "kinds" not in beyond.text
    assert (await client.get(f"{URL}/{plovdiv.id}/activity", headers=_bearer(other))).json()[
        "quizzes"
    ] == []


async def test_an_erased_learner_has_no_activity_to_show(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sliven, _ = await _people(session_maker)
    await reflect(session_maker, sliven.id, "Pair the pupils.")
    await _erase(session_maker, sliven.id)
    admin = await create_api_token(session_maker)
    body = (await client.get(f"{URL}/{sliven.id}/activity", headers=_bearer(admin))).json()
    assert (body["items"], body["total"], body["lessons"], body["quizzes"]) == ([], 0, [], [])
