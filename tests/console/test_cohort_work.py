"""Cohort work in the console: a new cohort, its mediators, workshops with their QR code and
attendance, and assisted mode (enrol without a phone, check in, a paper quiz, the quiz sheet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import (
    Activity,
    Attendance,
    AttendanceMethod,
    AuditLog,
    Cohort,
    Event,
    Membership,
    TokenRole,
    User,
    Verb,
    cohort_mediators,
)
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.conftest import TestDatabase
from tests.console.conftest import Programme, sign_in
from tests.content.samples import every_kind_lesson, lesson
from tests.factories import create_learner, import_sample_curriculum
from tests.pdf_text import page_text

pytestmark = pytest.mark.usefixtures("programme")


async def _audit(session_maker: async_sessionmaker[AsyncSession], action: str) -> AuditLog:
    async with session_maker() as session:
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc()).limit(1)
        )
    assert entry is not None, action
    return entry


# A new cohort ------------------------------------------------------------------------------


async def test_an_admin_creates_a_cohort_and_lands_on_its_page(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    assert 'href="/cohorts/new"' in (await client.get("/cohorts")).text
    assert (await client.get("/cohorts/new")).status_code == 200
    answer = await client.post(
        "/cohorts",
        data={
            "csrf": csrf,
            "name": "Plovdiv parents",
            "code": "PDV1",
            "country": "bg",
            "municipality": "Пловдив",
            "locale": "bg",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/cohorts/PDV1?done=created"
    page = await client.get(answer.headers["location"])
    assert "Plovdiv parents" in page.text and "https://t.me/lt_test_bot?start=c-PDV1" in page.text
    async with session_maker() as session:
        cohort = await session.scalar(select(Cohort).where(Cohort.code == "PDV1"))
    assert cohort is not None
    assert (cohort.country, cohort.municipality, cohort.locale, cohort.region) == (
        "BG",
        "Пловдив",
        "bg",
        None,
    )
    assert (await _audit(session_maker, "create")).actor == "staff:Ana"


async def test_bad_cohort_fields_are_shown_beside_them_and_nothing_is_created(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    bad = await client.post(
        "/cohorts",
        data={"csrf": csrf, "name": " ", "code": "no spaces!", "country": "Bulgaria"},
    )
    assert bad.status_code == 422
    for field in ("name", "code", "country"):
        assert f'id="{field}-errors"' in bad.text
    # Said in the reader's words, not pydantic's.
    assert "Give the country as two letters, such as BG." in bad.text
    assert "Field required" not in bad.text and "String should" not in bad.text
    assert 'value="no spaces!"' in bad.text
    taken = await client.post("/cohorts", data={"csrf": csrf, "name": "Again", "code": "slv1"})
    assert taken.status_code == 422
    assert "Another cohort has this code already." in taken.text
    async with session_maker() as session:
        assert len(list(await session.scalars(select(Cohort)))) == 2


@pytest.mark.parametrize("role", [TokenRole.MEDIATOR, TokenRole.VIEWER])
async def test_only_admins_create_cohorts_or_change_mediators(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
    role: TokenRole,
) -> None:
    cohorts = ["SLV1"] if role is TokenRole.MEDIATOR else None
    csrf = await sign_in(client, session_maker, role, cohorts=cohorts)
    assert (await client.get("/cohorts/new")).status_code == 403
    made = await client.post("/cohorts", data={"csrf": csrf, "name": "Mine", "code": "MINE"})
    assert made.status_code == 403
    added = await client.post(
        "/cohorts/SLV1/mediators", data={"csrf": csrf, "user_id": str(programme.sliven_learner)}
    )
    assert added.status_code == 403
    async with session_maker() as session:
        assert await session.scalar(select(Cohort).where(Cohort.code == "MINE")) is None
        assert list(await session.execute(select(cohort_mediators))) == []


# Mediators -----------------------------------------------------------------------------------


async def test_an_admin_adds_and_removes_a_mediator(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    csrf = await sign_in(client, session_maker)
    learner = programme.sliven_learner
    added = await client.post("/cohorts/SLV1/mediators", data={"csrf": csrf, "user_id": learner})
    assert added.status_code == 303
    page = await client.get("/cohorts/SLV1")
    assert "The learner mediates this cohort now." not in page.text  # no ?done: no notice
    assert f"/cohorts/SLV1/mediators/{learner}/remove" in page.text
    assert "Remove Petya as mediator" in page.text
    assert (await _audit(session_maker, "add_mediator")).after == {"user_id": learner}
    removed = await client.post(f"/cohorts/SLV1/mediators/{learner}/remove", data={"csrf": csrf})
    assert removed.headers["location"] == "/cohorts/SLV1?done=mediator-removed#mediators"
    async with session_maker() as session:
        assert list(await session.execute(select(cohort_mediators))) == []
    assert (await _audit(session_maker, "remove_mediator")).before == {"user_id": learner}
    assert "No mediator in the bot yet." in (await client.get("/cohorts/SLV1")).text


@pytest.mark.parametrize(
    ("value", "message"), [("abc", "number, as their page shows it"), ("999999", "no learner")]
)
async def test_adding_a_mediator_who_is_no_learner_says_so_beside_the_field(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], value: str, message: str
) -> None:
    csrf = await sign_in(client, session_maker)
    answer = await client.post("/cohorts/SLV1/mediators", data={"csrf": csrf, "user_id": value})
    assert answer.status_code == 422
    assert 'id="user_id-errors"' in answer.text and message in answer.text


# Workshops ----------------------------------------------------------------------------------


async def _workshop(client: AsyncClient, csrf: str, code: str = "SLV1") -> str:
    answer = await client.post(
        f"/cohorts/{code}/workshops",
        data={
            "csrf": csrf,
            "workshop_title": "Parents' evening",
            "workshop_date": "2026-12-10",
            "workshop_time": "17:30",
            "workshop_place": "School No. 3, room 12",
        },
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("?")[0]


async def test_a_mediator_creates_a_workshop_on_the_cohorts_clock_with_its_qr_code(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    path = await _workshop(client, csrf)
    async with session_maker() as session:
        event = await session.scalar(select(Event))
    assert event is not None
    assert path == f"/cohorts/SLV1/workshops/{event.id}"
    # 17:30 in Sofia (UTC+2 in December).
    assert (event.starts_at.hour, event.starts_at.minute) == (15, 30)
    assert event.location == "School No. 3, room 12"
    page = await client.get(path)
    assert page.status_code == 200
    assert f"https://t.me/lt_test_bot?start=e-{event.code}" in page.text
    assert "5:30\u202fPM Europe/Sofia" in page.text and "School No. 3, room 12" in page.text
    qr = await client.get(f"{path}/qr.png")
    assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")
    cohort_page = await client.get("/cohorts/SLV1")
    assert f'href="{path}"' in cohort_page.text


async def test_bad_workshop_fields_are_shown_beside_them(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    answer = await client.post(
        "/cohorts/SLV1/workshops",
        data={"csrf": csrf, "workshop_title": "", "workshop_date": "tomorrow"},
    )
    assert answer.status_code == 422
    assert 'id="workshop_date-errors"' in answer.text
    no_title = await client.post(
        "/cohorts/SLV1/workshops",
        data={
            "csrf": csrf,
            "workshop_title": " ",
            "workshop_date": "2026-12-10",
            "workshop_time": "10:00",
        },
    )
    assert no_title.status_code == 422
    assert 'id="workshop_title-errors"' in no_title.text
    async with session_maker() as session:
        assert await session.scalar(select(Event)) is None


async def test_a_mediator_checks_a_member_in_once_and_it_is_marked_assisted(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    path = await _workshop(client, csrf)
    page = await client.get(path)
    assert f'<option value="{programme.sliven_learner}">Petya' in page.text
    for done in ("checked-in", "already"):
        answer = await client.post(
            f"{path}/attendance", data={"csrf": csrf, "user_id": programme.sliven_learner}
        )
        assert answer.headers["location"] == f"{path}?done={done}#attendance"
    page = await client.get(path)
    assert "1 came" in page.text and "by a mediator" in page.text
    assert "Every member is checked in." in page.text
    async with session_maker() as session:
        rows = list(await session.scalars(select(Attendance)))
    assert [(row.user_id, row.method) for row in rows] == [
        (programme.sliven_learner, AttendanceMethod.MEDIATOR)
    ]


async def test_checking_in_nobody_or_someone_from_another_cohort_is_refused(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    csrf = await sign_in(client, session_maker)
    path = await _workshop(client, csrf)
    nobody = await client.post(f"{path}/attendance", data={"csrf": csrf, "user_id": ""})
    assert nobody.status_code == 422 and "Choose who came." in nobody.text
    stranger = await client.post(
        f"{path}/attendance", data={"csrf": csrf, "user_id": programme.madrid_learner}
    )
    assert stranger.status_code == 422 and 'id="user_id-errors"' in stranger.text
    async with session_maker() as session:
        assert await session.scalar(select(Attendance)) is None


async def test_a_workshop_is_reached_only_through_its_own_cohort(
    client: AsyncClient,
    other_client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    csrf = await sign_in(client, session_maker)
    madrid = await _workshop(client, csrf, "MAD1")
    event_id = madrid.rsplit("/", 1)[1]
    # The Madrid workshop under the Sliven cohort's address: not there.
    assert (await client.get(f"/cohorts/SLV1/workshops/{event_id}")).status_code == 404
    mediator_csrf = await sign_in(
        other_client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"], name="Rosa"
    )
    for method, path in [
        ("GET", madrid),
        ("GET", f"{madrid}/qr.png"),
        ("POST", f"{madrid}/attendance"),
        ("POST", "/cohorts/MAD1/workshops"),
        ("GET", f"/cohorts/SLV1/workshops/{event_id}"),
    ]:
        answer = await other_client.request(
            method, path, data={"csrf": mediator_csrf} if method == "POST" else None
        )
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert "Parents&#39; evening" not in answer.text


# Assisted mode -------------------------------------------------------------------------------


async def _enrol(client: AsyncClient, csrf: str, name: str = "Zlatka") -> int:
    answer = await client.post(
        "/cohorts/SLV1/participants",
        data={"csrf": csrf, "first_name": name, "role": "parent", "locale": ""},
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/cohorts/SLV1/paper-quiz?user=")
    return int(location.split("user=")[1].split("&")[0])


async def test_a_mediator_enrols_a_parent_without_a_phone(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    user_id = await _enrol(client, csrf)
    async with session_maker() as session:
        person = await session.get(User, user_id)
        joined = await session.scalar(select(Activity).where(Activity.user_id == user_id))
        member = await session.scalar(select(Membership).where(Membership.user_id == user_id))
    assert person is not None and person.telegram_id is None
    assert (person.first_name, person.role.value if person.role else None) == ("Zlatka", "parent")
    assert joined is not None and joined.verb is Verb.JOINED and joined.assisted
    assert member is not None
    assert "Zlatka" in (await client.get("/cohorts/SLV1")).text


async def test_enrolling_without_a_name_or_with_a_made_up_role_says_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    answer = await client.post(
        "/cohorts/SLV1/participants",
        data={"csrf": csrf, "first_name": " ", "role": "pirate", "locale": "xx"},
    )
    assert answer.status_code == 422
    assert 'id="first_name-errors"' in answer.text and 'id="role-errors"' in answer.text
    async with session_maker() as session:
        assert await session.scalar(select(User).where(User.telegram_id.is_(None))) is None


async def test_a_paper_quiz_is_recorded_from_ticks_and_flagged_assisted(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    user_id = await _enrol(client, csrf)
    form = await client.get(f"/cohorts/SLV1/paper-quiz?user={user_id}&lesson=what-segregation-is")
    assert form.status_code == 200
    # Built from the lesson's quiz, in the member's language (the cohort's: Bulgarian).
    assert "Кога е решено D.H.?" in form.text and "Сегрегацията вреди." in form.text
    assert 'name="q0" value="0"' in form.text and 'name="q1" value="1"' in form.text
    answer = await client.post(
        "/cohorts/SLV1/paper-quiz",
        data={
            "csrf": csrf,
            "user_id": user_id,
            "lesson": "what-segregation-is",
            "q0": "0",
            "q1": "1",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/cohorts/SLV1/paper-quiz?user={user_id}&done=passed&result=1-2"
    )
    assert "1 of 2 right." in (await client.get(answer.headers["location"])).text
    async with session_maker() as session:
        verbs = list(
            await session.execute(
                select(Activity.verb, Activity.assisted)
                .where(Activity.user_id == user_id)
                .order_by(Activity.id)
            )
        )
    assert [verb for verb, _assisted in verbs][:6] == [
        Verb.JOINED,
        Verb.STARTED,
        Verb.ANSWERED,
        Verb.ANSWERED,
        Verb.COMPLETED,
        Verb.PASSED,
    ]
    assert all(assisted for verb, assisted in verbs if verb is not Verb.CERTIFIED)
    assert (await _audit(session_maker, "assisted_quiz")).actor == "staff:Ana"


async def test_a_question_left_blank_keeps_the_ticks_and_records_nothing(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_sample_curriculum(
        session_maker, tmp_path / "lessons", {"01-every-kind.yaml": every_kind_lesson()}
    )
    csrf = await sign_in(client, session_maker)
    user_id = await _enrol(client, csrf)
    form = await client.get(f"/cohorts/SLV1/paper-quiz?user={user_id}&lesson=every-kind")
    assert 'type="checkbox" name="q1"' in form.text and 'name="q3" value="5"' in form.text
    assert '<textarea id="q4" name="q4"' in form.text
    answer = await client.post(
        "/cohorts/SLV1/paper-quiz",
        data={
            "csrf": csrf,
            "user_id": user_id,
            "lesson": "every-kind",
            "q0": "1",
            "q1": ["0", "2"],
            "q3": "4",
            "q4": "Talk <to> the parents",
        },
    )
    assert answer.status_code == 422
    assert 'id="tf-errors"' in answer.text and "Tick the answer given on paper." in answer.text
    assert (
        'name="q1" value="2" checked' in answer.text
        and 'name="q3" value="4" checked' in answer.text
    )
    assert "Talk &lt;to&gt; the parents</textarea>" in answer.text
    async with session_maker() as session:
        verbs = list(
            await session.scalars(select(Activity.verb).where(Activity.user_id == user_id))
        )
    assert verbs == [Verb.JOINED]
    done = await client.post(
        "/cohorts/SLV1/paper-quiz",
        data={
            "csrf": csrf,
            "user_id": user_id,
            "lesson": "every-kind",
            "q0": "1",
            "q1": ["0", "2"],
            "q2": "0",
            "q3": "4",
            "q4": "",
        },
    )
    assert done.headers["location"].endswith("done=passed&result=3-3")


async def test_a_paper_quiz_for_someone_outside_the_cohort_or_a_lesson_without_quiz_is_refused(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {"01-what-segregation-is.yaml": lesson(quiz=None)},
    )
    csrf = await sign_in(client, session_maker)
    stranger = await client.get(
        f"/cohorts/SLV1/paper-quiz?user={programme.madrid_learner}&lesson=what-segregation-is"
    )
    assert stranger.status_code == 422
    assert "no member of this cohort" in stranger.text
    no_quiz = await client.post(
        "/cohorts/SLV1/paper-quiz",
        data={
            "csrf": csrf,
            "user_id": programme.sliven_learner,
            "lesson": "what-segregation-is",
        },
    )
    assert no_quiz.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/cohorts/MAD1/participants"),
        ("GET", "/cohorts/MAD1/paper-quiz"),
        ("POST", "/cohorts/MAD1/paper-quiz"),
        ("GET", "/cohorts/MAD1/quiz-sheet.pdf?lesson=what-segregation-is&locale=bg"),
    ],
)
async def test_assisted_mode_of_another_cohort_is_out_of_reach(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
    method: str,
    path: str,
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    data = {
        "csrf": csrf,
        "first_name": "Eva",
        "user_id": programme.madrid_learner,
        "lesson": "what-segregation-is",
    }
    answer = await client.request(method, path, data=data if method == "POST" else None)
    assert answer.status_code == 403
    assert "Lucía" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/cohorts/SLV1/paper-quiz",
        "/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=bg",
        "/cohorts/SLV1/workshops/1",
    ],
)
async def test_a_viewer_has_no_assisted_mode(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], path: str
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    assert (await client.get(path)).status_code == 403


async def test_the_quiz_sheet_is_a_pdf_in_the_chosen_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    sheet = await client.get("/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=bg")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "application/pdf"
    text = page_text(sheet.content)
    assert "Какво е сегрегация" in text and "Кога е решено D.H.?" in text
    assert "A. 2007" in text and "B. Невярно" in text
    english = page_text(
        (
            await client.get("/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=en")
        ).content
    )
    assert "When was D.H. decided?" in english and "Tick one answer." in english
    # Romani is partial: the lesson and the phrases it lacks come in the cohort's Bulgarian.
    romani = page_text(
        (
            await client.get("/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=rom")
        ).content
    )
    assert "Кога е решено D.H.?" in romani and "Tick one answer." not in romani
    assert "Отбележете един отговор." in romani
    for query in ("lesson=what-segregation-is&locale=xx", "lesson=nope&locale=bg"):
        assert (await client.get(f"/cohorts/SLV1/quiz-sheet.pdf?{query}")).status_code == 422


# Queries ----------------------------------------------------------------------------------


async def _page_statements(
    client: AsyncClient, database: TestDatabase, path: str
) -> tuple[int, str]:
    statements: list[str] = []

    def remember(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = await client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert page.status_code == 200
    return len(statements), page.text


async def test_the_cohort_and_workshop_pages_take_as_many_queries_however_much_they_show(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    database: TestDatabase,
) -> None:
    csrf = await sign_in(client, session_maker)
    workshop = await _workshop(client, csrf)
    few, _text = await _page_statements(client, database, "/cohorts/SLV1")
    few_at_workshop, _text = await _page_statements(client, database, workshop)
    for number in range(5):
        await _workshop(client, csrf)
        learner = await create_learner(
            session_maker, 8800 + number, cohort="SLV1", first_name=f"Member {number}"
        )
        await client.post("/cohorts/SLV1/mediators", data={"csrf": csrf, "user_id": learner.id})
        await client.post(f"{workshop}/attendance", data={"csrf": csrf, "user_id": learner.id})
    many, text = await _page_statements(client, database, "/cohorts/SLV1")
    many_at_workshop, workshop_text = await _page_statements(client, database, workshop)
    assert text.count("Parents&#39; evening") == 6 and "Member 4" in text
    assert "5 came" in workshop_text
    assert (many, many_at_workshop) == (few, few_at_workshop)


async def test_a_new_cohort_takes_its_tracks_and_when_members_count_as_quiet(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    csrf = await sign_in(client, session_maker)
    form = await client.get("/cohorts/new")
    assert 'name="tracks" value="demo"> The mixed classroom' in form.text
    unknown = await client.post(
        "/cohorts",
        data={"csrf": csrf, "name": "Yambol", "code": "YAM1", "tracks": ["nope"]},
    )
    assert unknown.status_code == 422 and 'id="tracks-errors"' in unknown.text
    too_long = await client.post(
        "/cohorts",
        data={"csrf": csrf, "name": "Yambol", "code": "YAM1", "nudge_after_days": "365"},
    )
    assert too_long.status_code == 422 and 'id="nudge_after_days-errors"' in too_long.text
    made = await client.post(
        "/cohorts",
        data={
            "csrf": csrf,
            "name": "Yambol",
            "code": "YAM1",
            "tracks": ["demo"],
            "nudge_after_days": "14",
        },
    )
    assert made.status_code == 303
    async with session_maker() as session:
        info = await cohorts.get_cohort(session, code="YAM1", actor=Actor.system("test"))
    assert (info.tracks, info.nudge_after_days) == (["demo"], 14)


async def test_the_quiz_sheet_names_the_programme_of_the_settings(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    console_settings: Settings,
    tmp_path: Path,
) -> None:
    """The sheet names its issuer as certificates do: LT_PROGRAMME_NAME, not a fixed name."""
    console_settings.programme_name = "Zaedno v klasa"
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    sheet = await client.get("/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=en")
    assert sheet.status_code == 200
    text = page_text(sheet.content)
    assert "ZAEDNO V KLASA" in text and "TO LEARN TOGETHER" not in text
