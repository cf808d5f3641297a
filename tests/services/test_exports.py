"""xAPI export: statements per activity, pseudonymous actors, scope, windows and pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import Activity, Cohort, Lesson, Role, TokenRole, User, Verb
from learntogether.services import exports, learners, player, quizzes
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput
from learntogether.services.exports import ExportNotConfigured, XapiExport
from learntogether.xapi import Statement
from tests.content.samples import every_kind_lesson
from tests.factories import create_learner, import_sample_curriculum

SECRET = "a-long-random-pseudonym-key-for-tests"
HOME = "https://lt.example.org"
ADMIN = Actor.token(token_id=1, name="office", role=TokenRole.ADMIN, cohort_ids=frozenset())
VIEWER = Actor.token(token_id=2, name="funder", role=TokenRole.VIEWER, cohort_ids=frozenset())
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"pseudonym_secret": SECRET, "public_url": HOME, **changes}
    return Settings(_env_file=None, **values)


async def _export(
    session_maker: async_sessionmaker[AsyncSession],
    actor: Actor = ADMIN,
    *,
    settings: Settings | None = None,
    page_size: int = 1000,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Statement]:
    async with session_maker() as session:
        page = await exports.plan_xapi_page(
            session, actor=actor, settings=settings or _settings(), since=since, until=until
        )
    assert page.next_cursor is None
    return [
        statement
        async for chunk in exports.stream_statements(
            session_maker, page.export, page_size=page_size
        )
        for statement in chunk
    ]


async def _cohort(
    session_maker: async_sessionmaker[AsyncSession], code: str, municipality: str
) -> int:
    async with session_maker() as session:
        cohort = Cohort(
            code=code,
            name=f"{municipality} teachers",
            country="BG",
            region="Sliven",
            municipality=municipality,
            locale="bg",
        )
        session.add(cohort)
        await session.commit()
        return cohort.id


async def _rows(
    session_maker: async_sessionmaker[AsyncSession], *rows: dict[str, Any]
) -> list[int]:
    """Activity rows as written, with chosen times (``at`` minutes after T0)."""
    async with session_maker() as session:
        added = []
        for row in rows:
            values = dict(row)
            values["occurred_at"] = T0 + timedelta(minutes=values.pop("at", 0))
            activity = Activity(**values)
            session.add(activity)
            added.append(activity)
        await session.commit()
        return [activity.id for activity in added]


async def _take_every_kind_lesson(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path, learner: User
) -> None:
    """A learner opens the sample lesson, reads it and answers every question (real services)."""
    await import_sample_curriculum(
        session_maker, tmp_path, {"01-every-kind.yaml": every_kind_lesson()}
    )
    async with session_maker() as session:
        person = await session.get(User, learner.id)
        assert person is not None
        lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == "every-kind"))
        assert lesson_id is not None
        view = await player.open_lesson(session, learner=person, lesson_id=lesson_id, chain=["en"])
        view = await player.go_to_step(
            session,
            learner=person,
            progress_id=view.progress_id,
            version_id=view.version_id,
            index=1,
            chain=["en"],
        )
        question = await quizzes.start_attempt(
            session,
            learner=person,
            progress_id=view.progress_id,
            version_id=view.version_id,
            chain=["en"],
        )
        for index, chosen in enumerate(([1], [0, 2], [1], [4], [])):
            await quizzes.answer(
                session,
                learner=person,
                attempt_id=question.attempt_id,
                index=index,
                chosen=chosen,
                text="Mix the groups." if index == 4 else None,
                chain=["en"],
            )
        await session.commit()


async def test_a_lesson_taken_through_the_services_exports_as_valid_statements(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _cohort(session_maker, "SLV1", "Sliven")
    learner = await create_learner(session_maker, 7_001, cohort="SLV1", locale="bg")
    await _take_every_kind_lesson(session_maker, tmp_path, learner)
    statements = await _export(session_maker)
    for statement in statements:
        assert Statement.model_validate_json(statement.to_json()) == statement
    verbs = [statement.verb.display["en-US"] for statement in statements]
    # Two of three scored questions right: 67 %, over the pass score of 60; the sample track has
    # this one lesson, so it also earns the certificate.
    assert verbs == [
        "registered",
        "initialized",
        "progressed",
        *["answered"] * 5,
        "completed",
        "passed",
        "earned",
    ]
    by_verb = {statement.verb.display["en-US"]: statement for statement in statements}
    joined = by_verb["registered"]
    assert joined.context is not None
    assert joined.context.extensions is not None
    cohort_id = joined.context.extensions[f"{HOME}/xapi/extensions/cohort"]
    assert joined.object_.id == f"{HOME}/xapi/cohorts/{cohort_id}"
    started = by_verb["initialized"]
    assert started.object_.id == f"{HOME}/xapi/lessons/every-kind"
    assert started.context is not None
    assert started.context.language == "bg"
    assert started.context.revision == "1"
    assert started.context.context_activities is not None
    assert [a.id for a in started.context.context_activities.parent or []] == [
        f"{HOME}/xapi/tracks/demo"
    ]
    step = by_verb["progressed"]
    assert step.result is not None
    assert step.result.extensions == {exports.PROGRESS_EXTENSION: 100}


async def test_answers_carry_the_question_and_whether_it_was_right(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    learner = await create_learner(session_maker, 7_002)
    await _take_every_kind_lesson(session_maker, tmp_path, learner)
    answered = [s for s in await _export(session_maker) if s.verb.id.endswith("/answered")]
    lesson = f"{HOME}/xapi/lessons/every-kind"
    assert [(s.object_.id, s.result.success if s.result else None) for s in answered] == [
        (f"{lesson}/questions/one", True),
        (f"{lesson}/questions/many", True),
        (f"{lesson}/questions/tf", False),
        (f"{lesson}/questions/feel", None),
        (f"{lesson}/questions/think", None),
    ]
    kinds = [s.object_.definition.interaction_type for s in answered if s.object_.definition]
    assert kinds == ["choice", "choice", "true-false", "likert", "long-fill-in"]
    for statement in answered:
        assert statement.context is not None
        assert statement.context.context_activities is not None
        assert [a.id for a in statement.context.context_activities.parent or []] == [lesson]
        assert "Mix the groups" not in statement.to_json()


async def test_actor_is_a_keyed_pseudonym_never_a_name_or_telegram_id(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 987_654_321, first_name="Zlatka")
    statements = await _export(session_maker)
    text = "\n".join(statement.to_json() for statement in statements)
    assert "987654321" not in text
    assert "Zlatka" not in text
    account = statements[0].actor.account
    expected = hmac.new(SECRET.encode(), f"user:{learner.id}".encode(), hashlib.sha256)
    assert (account.home_page, account.name) == (HOME, expected.hexdigest()[:32])
    assert account.name != str(learner.id)
    other_key = await _export(
        session_maker, settings=_settings(pseudonym_secret="another-key-x" * 3)
    )
    assert other_key[0].actor.account.name != account.name


async def test_statement_ids_are_the_same_in_every_export(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_learner(session_maker, 1)
    await create_learner(session_maker, 2)
    first = [statement.id for statement in await _export(session_maker)]
    again = [statement.id for statement in await _export(session_maker, page_size=1)]
    assert first == again
    assert len(set(first)) == 2


async def test_without_public_url_the_reserved_platform_iri_is_used(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_learner(session_maker, 1)
    [statement] = await _export(session_maker, settings=_settings(public_url=None))
    assert statement.actor.account.home_page == exports.DEFAULT_HOME_PAGE
    assert statement.object_.id == exports.DEFAULT_HOME_PAGE  # joined, no cohort: the platform


async def test_export_without_a_pseudonym_key_is_refused(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        with pytest.raises(ExportNotConfigured, match="LT_PSEUDONYM_SECRET"):
            await exports.plan_xapi_page(
                session, actor=ADMIN, settings=_settings(pseudonym_secret=None)
            )


async def test_scores_become_scaled_results_and_certificates_are_earned(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(
        session_maker,
        {"user_id": learner.id, "verb": Verb.PASSED, "score": 80.0, "at": 1},
        {"user_id": learner.id, "verb": Verb.FAILED, "score": 40.0, "at": 2},
        {"user_id": learner.id, "verb": Verb.PASSED, "at": 3},  # a survey: nothing scored
    )
    passed, failed, survey = [s for s in await _export(session_maker) if s.result]
    assert passed.result is not None
    assert passed.result.model_dump(exclude_none=True) == {
        "score": {"scaled": 0.8, "raw": 80.0, "min": 0.0, "max": 100.0},
        "success": True,
        "completion": True,
    }
    assert failed.result is not None
    assert (failed.result.success, failed.verb.id) == (False, f"{exports.ADL}/verbs/failed")
    assert survey.result is not None
    assert (survey.result.score, survey.result.success) == (None, True)


async def test_attended_workshop_and_assisted_flag_are_in_the_statement(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    cohort_id = await _cohort(session_maker, "SLV1", "Sliven")
    learner = await create_learner(session_maker, 1, cohort="SLV1")
    await _rows(
        session_maker,
        {
            "user_id": learner.id,
            "verb": Verb.ATTENDED,
            "cohort_id": cohort_id,
            "assisted": True,
            "role": Role.PARENT,
            "municipality": "Sliven",
            "data": {"event_id": 12},
            "at": 5,
        },
    )
    attended = (await _export(session_maker))[-1]
    assert attended.verb.id == f"{exports.ADL}/verbs/attended"
    assert attended.object_.id == f"{HOME}/xapi/events/12"
    assert attended.context is not None
    extensions = attended.context.extensions or {}
    assert extensions[f"{HOME}/xapi/extensions/assisted"] is True
    assert extensions[f"{HOME}/xapi/extensions/role"] == "parent"
    assert extensions[f"{HOME}/xapi/extensions/municipality"] == "Sliven"
    assert extensions[f"{HOME}/xapi/extensions/cohort"] == cohort_id
    grouping = attended.context.context_activities
    assert grouping is not None
    assert [a.id for a in grouping.parent or []] == [f"{HOME}/xapi/cohorts/{cohort_id}"]
    assert "SLV1" not in attended.to_json()  # the invite code never leaves


async def test_reminders_and_nudges_are_left_out(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(
        session_maker,
        {"user_id": learner.id, "verb": Verb.REMINDED, "at": 1},
        {"user_id": learner.id, "verb": Verb.NUDGED, "at": 2},
    )
    assert [s.verb.display["en-US"] for s in await _export(session_maker)] == ["registered"]


async def test_mediator_gets_only_its_cohorts_rows(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    sliven = await _cohort(session_maker, "SLV1", "Sliven")
    await _cohort(session_maker, "PLV1", "Plovdiv")
    await create_learner(session_maker, 1, cohort="SLV1")
    await create_learner(session_maker, 2, cohort="PLV1")
    await create_learner(session_maker, 3)
    mediator = Actor.token(
        token_id=3, name="sliven", role=TokenRole.MEDIATOR, cohort_ids=frozenset({sliven})
    )
    mine = await _export(session_maker, mediator)
    assert len(mine) == 1
    assert mine[0].object_.id == f"{HOME}/xapi/cohorts/{sliven}"
    assert len(await _export(session_maker, VIEWER)) == 3


async def test_window_since_is_inclusive_and_until_exclusive(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    ids = await _rows(
        session_maker,
        *({"user_id": learner.id, "verb": Verb.STARTED, "at": minute} for minute in range(4)),
    )
    window = await _export(
        session_maker, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)
    )
    vocabulary = exports.XapiVocabulary.from_settings(_settings())
    assert [s.id for s in window] == [vocabulary.statement_id(i) for i in ids[1:3]]
    assert [s.timestamp for s in window] == [T0 + timedelta(minutes=m) for m in (1, 2)]


async def test_window_ending_before_it_starts_is_invalid(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        with pytest.raises(InvalidInput) as error:
            await exports.plan_xapi_page(
                session, actor=ADMIN, settings=_settings(), since=T0, until=T0
            )
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("query.until", "must be later than since")
    ]


async def test_pages_return_every_row_exactly_once_in_id_order(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(
        session_maker,
        *(
            {"user_id": learner.id, "verb": Verb.STEP, "at": m, "data": {"step": m}}
            for m in range(9)
        ),
    )
    async with session_maker() as session:
        plan = (await exports.plan_xapi_page(session, actor=ADMIN, settings=_settings())).export
        expected = list(await session.scalars(select(Activity.id).order_by(Activity.id)))
    pages = [page async for page in exports.stream_statements(session_maker, plan, page_size=4)]
    assert [len(page) for page in pages] == [4, 4, 2]
    vocabulary = plan.vocabulary
    assert [s.id for page in pages for s in page] == [vocabulary.statement_id(i) for i in expected]


async def test_rows_written_after_the_export_started_wait_for_the_next_one(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    async with session_maker() as session:
        plan = (await exports.plan_xapi_page(session, actor=ADMIN, settings=_settings())).export
    await _rows(session_maker, {"user_id": learner.id, "verb": Verb.STARTED, "at": 1})
    streamed = [s async for page in exports.stream_statements(session_maker, plan) for s in page]
    assert len(streamed) == 1


async def test_an_empty_database_exports_nothing(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        plan = (await exports.plan_xapi_page(session, actor=ADMIN, settings=_settings())).export
    assert plan == XapiExport(plan.vocabulary, 0, 0, None, None, None)
    assert await _export(session_maker) == []


async def test_erased_learner_keeps_the_pseudonym_and_loses_the_data(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1, first_name="Zlatka")
    await _rows(
        session_maker, {"user_id": learner.id, "verb": Verb.STEP, "data": {"step": 1}, "at": 1}
    )
    before = await _export(session_maker)
    async with session_maker() as session:
        person = await session.get(User, learner.id)
        assert person is not None
        await learners.erase(session, learner=person)
        await session.commit()
    after = await _export(session_maker)
    assert [s.actor for s in after] == [s.actor for s in before]
    assert after[-1].result is None  # the step number went with the data


async def _pages(
    session_maker: async_sessionmaker[AsyncSession],
    actor: Actor = ADMIN,
    *,
    limit: int,
    between_pages: Callable[[], Awaitable[object]] | None = None,
) -> list[list[int]]:
    """Every page of an export, followed by its cursors, as activity ids."""
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        async with session_maker() as session:
            page = await exports.plan_xapi_page(
                session, actor=actor, settings=_settings(), cursor=cursor, limit=limit
            )
        statements = [
            s
            async for chunk in exports.stream_statements(session_maker, page.export)
            for s in chunk
        ]
        async with session_maker() as session:
            ids = await session.scalars(select(Activity.id))
            by_statement = {page.export.vocabulary.statement_id(i): i for i in ids}
        pages.append([by_statement[s.id] for s in statements])
        if page.next_cursor is None:
            return pages
        assert len(pages) < 100, "the cursor does not move on"
        cursor = page.next_cursor
        if between_pages is not None:
            await between_pages()


async def test_cursor_pages_give_every_row_once_in_order_while_rows_are_written(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    step = {"user_id": learner.id, "verb": Verb.STEP, "data": {"step": 0}}
    await _rows(session_maker, *({**step, "at": m} for m in range(9)))
    async with session_maker() as session:
        existing = list(await session.scalars(select(Activity.id).order_by(Activity.id)))

    pages = await _pages(
        session_maker, limit=4, between_pages=lambda: _rows(session_maker, {**step, "at": 99})
    )
    assert [len(page) for page in pages] == [4, 4, 2]
    # Rows written meanwhile wait for the next export: no page shifts, repeats or skips.
    assert [i for page in pages for i in page] == existing


async def test_a_page_looks_at_a_bounded_window_of_rows_and_may_be_empty(
    session_maker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "WINDOW_ROWS", 3)
    sliven = await _cohort(session_maker, "SLV1", "Sliven")
    plovdiv = await _cohort(session_maker, "PLV1", "Plovdiv")
    learner = await create_learner(session_maker, 1)
    mine = {"user_id": learner.id, "verb": Verb.STARTED, "cohort_id": sliven}
    theirs = {"user_id": learner.id, "verb": Verb.STARTED, "cohort_id": plovdiv}
    ids = await _rows(session_maker, mine, *([theirs] * 6), mine)
    mediator = Actor.token(
        token_id=3, name="sliven", role=TokenRole.MEDIATOR, cohort_ids=frozenset({sliven})
    )
    pages = await _pages(session_maker, mediator, limit=10)
    # Each request looks at three rows from where the last one ended: the mediator's first,
    # then three of another cohort's (an empty page that still leads on), then its last.
    assert pages == [[ids[0]], [], [ids[7]]]


def _with_payload(cursor: str) -> str:
    """The cursor's signature on another position: the last row moved far on."""
    payload = base64.urlsafe_b64encode(b"[0,99999,null,null]").rstrip(b"=").decode()
    return payload + cursor[cursor.index(".") :]


def _with_signature_changed(cursor: str) -> str:
    return cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda cursor: "not a cursor", id="garbage"),
        pytest.param(lambda cursor: cursor.split(".")[0], id="unsigned"),
        pytest.param(_with_payload, id="payload"),
        pytest.param(_with_signature_changed, id="signature"),
    ],
)
async def test_a_forged_or_malformed_cursor_is_invalid_input_naming_the_cursor(
    session_maker: async_sessionmaker[AsyncSession], forge: Callable[[str], str]
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(session_maker, *({"user_id": learner.id, "verb": Verb.STARTED} for _ in range(3)))
    async with session_maker() as session:
        first = await exports.plan_xapi_page(session, actor=ADMIN, settings=_settings(), limit=1)
        assert first.next_cursor is not None
        with pytest.raises(InvalidInput) as error:
            await exports.plan_xapi_page(
                session, actor=ADMIN, settings=_settings(), cursor=forge(first.next_cursor)
            )
    assert [p.path for p in error.value.problems] == ["query.cursor"]


async def test_a_cursor_signed_under_another_key_is_refused(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(session_maker, *({"user_id": learner.id, "verb": Verb.STARTED} for _ in range(3)))
    async with session_maker() as session:
        first = await exports.plan_xapi_page(
            session, actor=ADMIN, settings=_settings(pseudonym_secret="another-key-" * 4), limit=1
        )
        with pytest.raises(InvalidInput):
            await exports.plan_xapi_page(
                session, actor=ADMIN, settings=_settings(), cursor=first.next_cursor
            )


async def test_a_cursor_carries_the_window_and_refuses_another(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    learner = await create_learner(session_maker, 1)
    await _rows(
        session_maker, *({"user_id": learner.id, "verb": Verb.STARTED, "at": m} for m in range(5))
    )
    # Five rows from since on: the four after T0 and the learner's joining (now).
    async with session_maker() as session:
        first = await exports.plan_xapi_page(
            session, actor=ADMIN, settings=_settings(), since=T0 + timedelta(minutes=1), limit=3
        )
        second = await exports.plan_xapi_page(
            session, actor=ADMIN, settings=_settings(), cursor=first.next_cursor, limit=3
        )
        with pytest.raises(InvalidInput) as error:
            await exports.plan_xapi_page(
                session, actor=ADMIN, settings=_settings(), cursor=first.next_cursor, since=T0
            )
    assert second.export.since == T0 + timedelta(minutes=1)
    assert second.next_cursor is None
    assert [p.path for p in error.value.problems] == ["query.since"]


async def test_a_mediator_following_an_admins_cursor_still_gets_only_its_cohorts(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    sliven = await _cohort(session_maker, "SLV1", "Sliven")
    plovdiv = await _cohort(session_maker, "PLV1", "Plovdiv")
    learner = await create_learner(session_maker, 1)
    ids = await _rows(
        session_maker,
        *(
            {"user_id": learner.id, "verb": Verb.STARTED, "cohort_id": c}
            for c in (sliven, plovdiv) * 3
        ),
    )
    mediator = Actor.token(
        token_id=3, name="sliven", role=TokenRole.MEDIATOR, cohort_ids=frozenset({sliven})
    )
    async with session_maker() as session:
        # The learner's joining and the first Sliven row.
        first = await exports.plan_xapi_page(session, actor=ADMIN, settings=_settings(), limit=2)
        rest = await exports.plan_xapi_page(
            session, actor=mediator, settings=_settings(), cursor=first.next_cursor
        )
    streamed = [
        s async for chunk in exports.stream_statements(session_maker, rest.export) for s in chunk
    ]
    vocabulary = rest.export.vocabulary
    assert [s.id for s in streamed] == [vocabulary.statement_id(i) for i in (ids[2], ids[4])]


async def test_a_finished_review_is_reviewed_of_the_lesson(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    learner = await create_learner(session_maker, 1)
    await import_sample_curriculum(
        session_maker, tmp_path, {"01-every-kind.yaml": every_kind_lesson()}
    )
    async with session_maker() as session:
        lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == "every-kind"))
    await _rows(
        session_maker,
        {"user_id": learner.id, "verb": Verb.REVIEWED, "lesson_id": lesson_id, "at": 1},
    )
    reviewed = (await _export(session_maker))[-1]
    assert reviewed.verb.id == "http://id.tincanapi.com/verb/reviewed"
    assert reviewed.object_.id == f"{HOME}/xapi/lessons/every-kind"
