"""The benchmark seed at a tiny size: the counts asked for, and rows as the services write them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.seed import SeedError, main, seed_database
from learntogether.content.schema import LessonDocument
from learntogether.db.activity_log import ACTIVE_VERBS
from learntogether.db.base import Base
from learntogether.db.engine import create_engine
from learntogether.db.models import (
    Activity,
    Answer,
    LessonProgress,
    LessonVersion,
    Membership,
    QuizAttempt,
    Track,
    User,
    UserStatus,
    Verb,
)
from learntogether.services import certificates
from learntogether.services.reports import participation
from tests.conftest import TestDatabase

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
END = date(2026, 11, 1)
LEARNERS, ACTIVITIES = 200, 5000


async def test_seed_writes_the_counts_asked_for_as_the_services_would(
    database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    report = await seed_database(
        database.url, learners=LEARNERS, activities=ACTIVITIES, end=END, lessons_dir=LESSONS
    )
    assert (report.counts["users"], report.counts["activities"]) == (LEARNERS, ACTIVITIES)
    async with session_maker() as session:
        for table, count in report.counts.items():
            stored = await session.scalar(
                select(func.count()).select_from(Base.metadata.tables[table])
            )
            assert stored == count, table
        verbs = set(await session.scalars(select(Activity.verb).distinct()))
        assert verbs >= set(ACTIVE_VERBS)
        assisted = await session.scalar(select(func.count()).where(Activity.assisted))
        assert assisted
        await _check_consistency(session)
        # The participation counts were built: the report agrees with the record.
        completed = await session.scalar(
            select(func.count()).where(Activity.verb == Verb.COMPLETED)
        )
        joined = await session.scalar(
            select(func.count(Activity.user_id.distinct())).where(Activity.verb == Verb.JOINED)
        )
        (totals,) = (await participation(session)).rows
        assert (totals["lessons_completed"], totals["joined"]) == (completed, joined)


async def _check_consistency(session: AsyncSession) -> None:
    # Ids follow time, as in an append-only table.
    times = list(await session.scalars(select(Activity.occurred_at).order_by(Activity.id)))
    assert times == sorted(times)
    # Every row's cohort is one the learner had joined.
    strays = await session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(
            Activity.cohort_id.is_not(None),
            ~select(Membership.id)
            .where(
                Membership.user_id == Activity.user_id, Membership.cohort_id == Activity.cohort_id
            )
            .exists(),
        )
    )
    assert strays == 0
    # Progress stands where the learner's last reading reached: opening a lesson (again) puts
    # them at step 0, each step forward moves them (erased learners' step numbers are gone).
    where: dict[tuple[int, int], int] = {}
    for user_id, lesson_id, verb, data in await session.execute(
        select(Activity.user_id, Activity.lesson_id, Activity.verb, Activity.data)
        .join(User, User.id == Activity.user_id)
        .where(Activity.verb.in_([Verb.STARTED, Verb.STEP]), User.status != UserStatus.ERASED)
        .order_by(Activity.id)
    ):
        where[user_id, lesson_id] = data["step"] if verb is Verb.STEP else 0
    progress = list(
        await session.execute(
            select(LessonProgress.user_id, LessonProgress.lesson_id, LessonProgress.step_index)
            .join(User, User.id == LessonProgress.user_id)
            .where(User.status != UserStatus.ERASED)
        )
    )
    assert progress
    assert {(row.user_id, row.lesson_id): row.step_index for row in progress} == where
    # An attempt has as many answers as its question index says; a finished one all of them and
    # its score, an unfinished one fewer.
    questions = {
        version_id: len(LessonDocument.model_validate(document).questions())
        for version_id, document in await session.execute(
            select(LessonVersion.id, LessonVersion.document)
        )
    }
    attempts = list(
        await session.execute(
            select(
                QuizAttempt.lesson_version_id,
                QuizAttempt.question_index,
                QuizAttempt.finished_at.is_not(None),
                QuizAttempt.score,
                QuizAttempt.max_score,
                func.count(Answer.id),
                func.count(Answer.id).filter(Answer.correct.is_(True)),
                func.count(Answer.id).filter(Answer.correct.is_not(None)),
            )
            .outerjoin(Answer, Answer.attempt_id == QuizAttempt.id)
            .group_by(QuizAttempt.id)
        )
    )
    assert any(finished for _, _, finished, *_ in attempts)
    for version_id, index, finished, score, max_score, answers, right, scored in attempts:
        assert index == answers
        if finished:
            assert (answers, score, max_score) == (questions[version_id], right, scored)
        else:
            assert answers < questions[version_id]
            assert score is None
    # Every certificate the pass rules call for was issued, and no other.
    track_ids = list(await session.scalars(select(Track.id)))
    for learner in await session.scalars(select(User)):
        for track_id in track_ids:
            assert (
                await certificates.award_if_earned(session, learner=learner, track_id=track_id)
                is None
            ), (learner.id, track_id)
    await session.rollback()


async def test_same_seed_gives_the_same_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [f"sqlite:///{tmp_path / name}" for name in ("one.db", "two.db")]
    await seed_database(urls[0], learners=60, activities=1500, seed=7, end=END, lessons_dir=LESSONS)
    await seed_database(urls[1], learners=60, activities=1500, seed=7, end=END, lessons_dir=LESSONS)
    dumps = []
    for url in urls:
        engine = create_engine(url.replace("sqlite://", "sqlite+aiosqlite://"))
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT a.*, u.first_name, u.status FROM activities a "
                    "JOIN users u ON u.id = a.user_id ORDER BY a.id"
                )
            )
            dumps.append([tuple(row) for row in rows])
        await engine.dispose()
    assert len(dumps[0]) == 1500
    assert dumps[0] == dumps[1]


def test_command_line_prints_counts_and_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    arguments = ["--database-url", url, "--learners", "20", "--activities", "400"]
    code = main([*arguments, "--end", END.isoformat(), "--lessons-dir", str(LESSONS)])
    output = capsys.readouterr().out
    assert code == 0
    assert "activities        400" in output
    assert "seeded in" in output
    # The same command again: the database has learners now.
    assert main([*arguments, "--lessons-dir", str(LESSONS)]) == 1
    assert "already has 20 learners" in capsys.readouterr().err


async def test_fewer_activities_than_joins_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="at least"):
        await seed_database(
            f"sqlite:///{tmp_path / 'few.db'}", learners=50, activities=10, lessons_dir=LESSONS
        )
