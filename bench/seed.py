"""Fill a database with a year of synthetic participation, for timing reports and exports.

    .venv/bin/python -m bench.seed --database-url URL --learners 100000 --activities 2000000

The database is migrated first and must hold no learners yet. The shipped curriculum
(``lessons/``) is imported through the real import, then cohorts in Bulgarian, Spanish and Belgian
regions, their workshops, and learners who join, read lessons step by step, answer quizzes and
pre/post surveys, fail and retry, finish tracks and earn certificates, check in to workshops, get
help from a mediator (``assisted``), block the bot or erase their data.

Rows carry exactly what the services write (``learners``, ``player``, ``quizzes``,
``certificates``, ``events``, ``assisted``): the activity snapshot of role, locale and place at the
time and the latest cohort; ``{"step": n}`` and ``{"correct": …}`` in ``data`` (JSON ``null``
otherwise, as the ORM stores it); answers with option indexes or the likert point; progress,
attempts and certificates consistent with the activities; erased learners with their personal data
removed as ``learners.erase`` removes it.

The same ``--seed`` and ``--end`` give the same data. PostgreSQL loads with ``COPY`` (asyncpg's
``copy_records_to_table``), SQLite with ``executemany``. Activities get ids in time order, as an
append-only table does, and the statistics are refreshed (``ANALYZE``) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import random
import sys
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from learntogether.config import Settings
from learntogether.content.files import load_curriculum
from learntogether.content.schema import LessonDocument, PassRule
from learntogether.db import activity_log, question_sums
from learntogether.db.base import Base
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.db.models import (
    AttendanceMethod,
    Lesson,
    LessonStatus,
    LessonVersion,
    ProgressStatus,
    QuestionKind,
    Role,
    Track,
    User,
    UserStatus,
    Verb,
    VersionStatus,
)
from learntogether.services import certificates
from learntogether.services.actors import Actor
from learntogether.services.certificates import CODE_ALPHABET, CODE_LENGTH
from learntogether.services.curriculum import import_curriculum
from learntogether.services.learners import COUNTRY_TIMEZONES, PRIVACY_VERSION
from learntogether.services.quizzes import LIKERT_POINTS, QuizResult, decide

SEED_ACTOR = Actor.system("bench-seed")
DAYS = 365
FLUSH_ROWS = 20_000
LEARNERS_PER_COHORT = 40
TELEGRAM_ID_BASE = 1_000_000_000
STAGING = "seed_activities"
# The big tables: PostgreSQL loads them without foreign keys and secondary indexes, then
# rebuilds those once.
LOADED_TABLES = (
    "users",
    "memberships",
    "lesson_progress",
    "quiz_attempts",
    "answers",
    "certificates",
    "attendance",
    "activities",
)
SEQUENCED_TABLES = (
    "cohorts",
    "events",
    "users",
    "memberships",
    "lesson_progress",
    "quiz_attempts",
    "answers",
    "certificates",
    "activities",
)

# Countries of the programme, their regions and municipalities (weights: share of cohorts).
PLACES: dict[str, tuple[float, dict[str, tuple[str, ...]]]] = {
    "BG": (
        0.45,
        {
            "Sliven": ("Sliven", "Nova Zagora", "Kotel"),
            "Plovdiv": ("Plovdiv", "Asenovgrad", "Rakovski"),
            "Sofia City": ("Sofia",),
            "Pleven": ("Pleven", "Levski"),
            "Stara Zagora": ("Stara Zagora", "Kazanlak", "Radnevo"),
            "Montana": ("Lom", "Montana", "Berkovitsa"),
            "Shumen": ("Shumen", "Novi Pazar"),
            "Vidin": ("Vidin",),
        },
    ),
    "ES": (
        0.35,
        {
            "Andalucía": ("Sevilla", "Granada", "Almería", "Jerez de la Frontera", "Málaga"),
            "Catalunya": ("Barcelona", "Badalona", "L'Hospitalet de Llobregat"),
            "Comunidad de Madrid": ("Madrid", "Fuenlabrada", "Parla"),
            "Comunitat Valenciana": ("València", "Alacant", "Castelló de la Plana"),
            "Región de Murcia": ("Murcia", "Lorca"),
        },
    ),
    "BE": (
        0.20,
        {
            "Brussels-Capital": ("Anderlecht", "Molenbeek-Saint-Jean", "Schaerbeek"),
            "Vlaanderen": ("Gent", "Antwerpen", "Sint-Niklaas"),
            "Wallonie": ("Charleroi", "Liège", "Namur"),
        },
    ),
}
REGION_LOCALES = {"Vlaanderen": "nl", "Wallonie": "fr", "Brussels-Capital": "fr"}
COUNTRY_LOCALES = {"BG": "bg", "ES": "es", "BE": "fr"}
FIRST_NAMES = {
    "BG": (
        "Иван",
        "Мария",
        "Георги",
        "Елена",
        "Димитър",
        "Йорданка",
        "Петър",
        "Десислава",
        "Асен",
        "Фатме",
        "Мустафа",
        "Росица",
        "Христо",
        "Гергана",
        "Стефан",
        "Радка",
    ),
    "ES": (
        "Antonio",
        "Carmen",
        "José",
        "Dolores",
        "Manuel",
        "Rocío",
        "Juan",
        "Lucía",
        "Francisco",
        "Pilar",
        "Rafael",
        "Remedios",
        "Samuel",
        "Esperanza",
        "Jesús",
        "Sara",
    ),
    "BE": (
        "Sofie",
        "Jan",
        "Marie",
        "Luc",
        "Fatima",
        "Pieter",
        "Nathalie",
        "Mehmet",
        "Elif",
        "Thomas",
        "Lotte",
        "Julien",
        "Amira",
        "Koen",
        "Camille",
        "Dragan",
    ),
}
OTHER_FIRST_NAMES = ("Alex", "Maria", "Nikola", "Ana", "Daniel", "Elena", "Marko", "Sara")
REFLECTIONS = (
    "I want to understand the families in my school better.",
    "Talk with parents more often, not only when there is a problem.",
    "Mix the groups in my class and watch my own expectations.",
    "Find out why some children stop coming in winter.",
    "Ask the mediator to visit the class together with me.",
)
# Who a cohort is for, its share of cohorts, and the roles of its learners (weights).
COHORT_KINDS: dict[str, tuple[float, dict[Role, float]]] = {
    "school": (
        0.5,
        {
            Role.TEACHER: 0.70,
            Role.SCHOOL_STAFF: 0.14,
            Role.PRINCIPAL: 0.06,
            Role.MEDIATOR: 0.04,
            Role.OFFICIAL: 0.03,
            Role.PARENT: 0.03,
        },
    ),
    "families": (
        0.3,
        {
            Role.PARENT: 0.78,
            Role.COMMUNITY_LEADER: 0.08,
            Role.MEDIATOR: 0.06,
            Role.TEACHER: 0.05,
            Role.NGO_WORKER: 0.03,
        },
    ),
    "mediators": (
        0.2,
        {
            Role.MEDIATOR: 0.55,
            Role.NGO_WORKER: 0.2,
            Role.COMMUNITY_LEADER: 0.1,
            Role.OFFICIAL: 0.1,
            Role.TEACHER: 0.05,
        },
    ),
}
COHORT_LABELS = {"school": "school staff", "families": "families", "mediators": "mediators"}
# Engagement: share of learners and relative activity (scaled so the total is what was asked).
ENGAGEMENT = {"drop_in": (0.45, 1.0), "regular": (0.35, 4.0), "committed": (0.20, 14.0)}
ENGAGEMENT_GAP_DAYS = {"drop_in": 9.0, "regular": 4.0, "committed": 2.0}
ATTEND_RATES = {"drop_in": 0.15, "regular": 0.35, "committed": 0.6}
REVIEW_SHARE = 0.3
"""Quizzes with a wrong answer whose first spaced review (a day later) the learner takes."""
WORKSHOP_TOPICS = ("meeting families", "mixed classes", "enrolment day", "homework club")
# When learners open the bot (UTC hours; the programme's countries are UTC+1 to UTC+3).
HOUR_WEIGHTS = [0.2] * 5 + [0.5, 1, 2, 3, 3, 3, 3, 4, 4, 3, 3, 3, 4, 6, 7, 7, 5, 3, 1]


class SeedError(Exception):
    """The seed cannot run as asked; the message says why."""


class _Exhausted(Exception):
    """The learner's share of activities is used up: they stop here."""


@dataclass(frozen=True)
class SeedReport:
    counts: dict[str, int]
    seconds: float


# --- the curriculum, as the simulation needs it -------------------------------------------------


@dataclass(frozen=True)
class QuestionPlan:
    key: str
    kind: QuestionKind
    options: int
    correct: tuple[int, ...]
    reverse: bool
    difficulty: float


@dataclass(frozen=True)
class LessonPlan:
    lesson_id: int
    version_id: int
    track_id: int
    steps: int
    questions: tuple[QuestionPlan, ...]
    pass_score: int | None
    survey: str | None


@dataclass(frozen=True)
class TrackPlan:
    track_id: int
    audience: frozenset[Role]
    lessons: tuple[LessonPlan, ...]
    rule: PassRule


async def _import_curriculum(engine: AsyncEngine, lessons_dir: Path) -> None:
    curriculum = load_curriculum([lessons_dir])
    if curriculum.problems:
        raise SeedError(
            f"the curriculum in {lessons_dir} has problems: "
            + "; ".join(str(problem) for problem in curriculum.problems[:5])
        )
    if not curriculum.lessons:
        raise SeedError(f"no lessons found in {lessons_dir}")
    async with create_session_maker(engine)() as session:
        await import_curriculum(
            session,
            track_documents=[loaded.document for loaded in curriculum.tracks],
            lesson_documents=[loaded.document for loaded in curriculum.lessons],
            actor=SEED_ACTOR,
        )
        await session.commit()


async def _curriculum(connection: AsyncConnection, rng: random.Random) -> list[TrackPlan]:
    """Published tracks and lessons, each lesson on its newest published version."""
    versions = {
        lesson_id: (version_id, document)
        for lesson_id, version_id, document, _number in sorted(
            await connection.execute(
                select(
                    LessonVersion.lesson_id,
                    LessonVersion.id,
                    LessonVersion.document,
                    LessonVersion.number,
                ).where(LessonVersion.status == VersionStatus.PUBLISHED)
            ),
            key=lambda row: (row[0], row[3]),
        )
    }
    lessons = list(
        await connection.execute(
            select(Lesson.id, Lesson.track_id)
            .where(Lesson.status == LessonStatus.PUBLISHED, Lesson.track_id.is_not(None))
            .order_by(Lesson.track_id, Lesson.position, Lesson.id)
        )
    )
    tracks = []
    for track_id, audience, pass_rule in await connection.execute(
        select(Track.id, Track.audience, Track.pass_rule)
        .where(Track.archived_at.is_(None))
        .order_by(Track.position, Track.id)
    ):
        plans = []
        for lesson_id, lesson_track in lessons:
            if lesson_track != track_id or lesson_id not in versions:
                continue
            version_id, document = versions[lesson_id]
            lesson = LessonDocument.model_validate(document)
            questions = tuple(
                QuestionPlan(
                    key=question.key,
                    kind=question.kind,
                    options=len(question.options),
                    correct=tuple(i for i, option in enumerate(question.options) if option.correct),
                    reverse=question.reverse,
                    difficulty=rng.gauss(0, 0.8),
                )
                for question in lesson.questions()
            )
            plans.append(
                LessonPlan(
                    lesson_id=lesson_id,
                    version_id=version_id,
                    track_id=track_id,
                    steps=len(lesson.steps),
                    questions=questions,
                    pass_score=lesson.quiz.pass_score if lesson.quiz else None,
                    survey=lesson.survey.value if lesson.survey else None,
                )
            )
        if plans:
            tracks.append(
                TrackPlan(
                    track_id=track_id,
                    audience=frozenset(Role(role) for role in audience),
                    lessons=tuple(plans),
                    rule=PassRule.model_validate(pass_rule or {}),
                )
            )
    if not tracks:
        raise SeedError("the curriculum has no published track with lessons")
    return tracks


# --- cohorts, workshops, learners ----------------------------------------------------------------


@dataclass
class EventSeed:
    id: int
    cohort_id: int
    starts_at: datetime


@dataclass
class CohortSeed:
    id: int
    code: str
    name: str
    country: str
    region: str
    municipality: str
    locale: str
    kind: str
    created_at: datetime
    track_ids: list[int]
    events: list[EventSeed] = field(default_factory=list)


@dataclass
class LearnerSeed:
    id: int
    joined_at: datetime
    role: Role
    locale: str
    first_name: str
    cohorts: list[tuple[CohortSeed, datetime]]
    """Memberships in the order joined."""
    typed_municipality: str | None
    """What the learner typed after joining (None: skipped, keeping the cohort's)."""
    engagement: str
    skill: float
    awareness: float
    assisted_only: bool
    """Enrolled by a mediator, without Telegram: everything is recorded for them."""
    help_rate: float
    """How often a mediator records a quiz for them (parents who read little)."""

    @property
    def country(self) -> str | None:
        return self.cohorts[0][0].country if self.cohorts else None

    @property
    def region(self) -> str | None:
        return self.cohorts[0][0].region if self.cohorts else None

    @property
    def municipality(self) -> str | None:
        if self.typed_municipality is not None:
            return self.typed_municipality
        return self.cohorts[0][0].municipality if self.cohorts else None

    def cohort_at(self, moment: datetime) -> int | None:
        """The newest cohort joined by then (what ``activity_log.record`` stamps on each row)."""
        latest = None
        for cohort, joined in self.cohorts:
            if joined <= moment:
                latest = cohort.id
        return latest


def _weighted(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _at_hour(rng: random.Random, moment: datetime) -> datetime:
    """The same day at an hour people use the bot; never earlier than ``moment``."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    at = datetime.combine(moment.date(), time(hour, rng.randrange(60), rng.randrange(60)), UTC)
    return at if at >= moment else at + timedelta(days=1)


def _cohorts(
    rng: random.Random, count: int, tracks: list[TrackPlan], start: datetime, end: datetime
) -> list[CohortSeed]:
    cohorts = []
    event_id = 0
    for index in range(1, count + 1):
        country = _weighted(rng, {code: weight for code, (weight, _) in PLACES.items()})
        regions = PLACES[country][1]
        region = rng.choice(list(regions))
        municipality = rng.choice(regions[region])
        kind = _weighted(rng, {name: weight for name, (weight, _) in COHORT_KINDS.items()})
        roles = set(COHORT_KINDS[kind][1])
        # Most cohorts start in the first months of the programme year.
        created_at = start + timedelta(days=300 * rng.random() ** 1.5, hours=rng.randrange(8, 18))
        cohort = CohortSeed(
            id=index,
            code=f"{country}{index:05d}",
            name=f"{municipality} {COHORT_LABELS[kind]} {index}",
            country=country,
            region=region,
            municipality=municipality,
            locale=REGION_LOCALES.get(region, COUNTRY_LOCALES[country]),
            kind=kind,
            created_at=created_at,
            track_ids=[track.track_id for track in tracks if track.audience & roles],
        )
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            starts_at = created_at + timedelta(days=rng.uniform(14, 320))
            if starts_at < end - timedelta(days=1):
                event_id += 1
                starts_at = datetime.combine(
                    starts_at.date(), time(rng.choice((9, 10, 14, 16, 17)), 0), UTC
                )
                cohort.events.append(EventSeed(event_id, cohort.id, starts_at))
        cohorts.append(cohort)
    return cohorts


def _learners(
    rng: random.Random, count: int, cohorts: list[CohortSeed], end: datetime
) -> list[LearnerSeed]:
    drafts = []
    for _ in range(count):
        cohort = rng.choice(cohorts) if rng.random() > 0.04 else None
        if cohort is not None:
            role = _weighted(rng, COHORT_KINDS[cohort.kind][1])
            wait = timedelta(days=rng.expovariate(1 / 25))
            joined_at = min(cohort.created_at + wait, end - timedelta(hours=rng.uniform(1, 200)))
            joined_at = max(joined_at, cohort.created_at + timedelta(minutes=5))
        else:
            role = rng.choice(list(Role))
            joined_at = end - timedelta(days=DAYS * rng.random())
        country = cohort.country if cohort else None
        locale = cohort.locale if cohort else "en"
        draw = rng.random()
        if draw < 0.06 and country in ("BG", "ES"):
            locale = "rom"
        elif draw < 0.12:
            locale = "en"
        elif draw < 0.14 and country == "BE":
            locale = "nl" if locale == "fr" else "fr"
        elif draw < 0.15:
            locale = "ro"
        memberships = [(cohort, joined_at)] if cohort else []
        if cohort is not None and rng.random() < 0.03:
            others = [c for c in cohorts if c.country == cohort.country and c is not cohort]
            second = rng.choice(others) if others else None
            if second is not None:
                at = max(joined_at, second.created_at) + timedelta(days=rng.uniform(3, 90))
                if at < end:
                    memberships.append((second, at))
        typed = None
        if cohort is None and rng.random() < 0.5:
            _, regions = PLACES[rng.choice(list(PLACES))]
            typed = rng.choice(rng.choice(list(regions.values())))
        elif cohort is not None and rng.random() < 0.05:
            typed = rng.choice(PLACES[cohort.country][1][cohort.region])
        names = FIRST_NAMES.get(country or "", OTHER_FIRST_NAMES)
        assisted_only = role is Role.PARENT and cohort is not None and rng.random() < 0.08
        drafts.append(
            LearnerSeed(
                id=0,
                joined_at=joined_at,
                role=role,
                locale=cohort.locale if assisted_only and cohort else locale,
                first_name=rng.choice(names),
                cohorts=memberships,
                typed_municipality=typed,
                engagement=_weighted(rng, {name: share for name, (share, _) in ENGAGEMENT.items()}),
                skill=rng.gauss(0, 1),
                awareness=rng.gauss(0, 1),
                assisted_only=assisted_only,
                help_rate=0.12 if role in (Role.PARENT, Role.COMMUNITY_LEADER) else 0.0,
            )
        )
    # Ids in the order people joined, as the database hands them out.
    drafts.sort(key=lambda learner: learner.joined_at)
    for number, learner in enumerate(drafts, start=1):
        learner.id = number
    return drafts


# --- rows ----------------------------------------------------------------------------------------

ACTIVITY_COLUMNS = (
    "seq",
    "occurred_at",
    "user_id",
    "verb",
    "cohort_id",
    "track_id",
    "lesson_id",
    "lesson_version_id",
    "question_key",
    "score",
    "assisted",
    "role",
    "locale",
    "country",
    "region",
    "municipality",
    "data",
)
PROGRESS_COLUMNS = (
    "id",
    "user_id",
    "lesson_id",
    "lesson_version_id",
    "step_index",
    "status",
    "started_at",
    "updated_at",
    "completed_at",
    "best_score",
    "passed",
)
ATTEMPT_COLUMNS = (
    "id",
    "user_id",
    "lesson_version_id",
    "progress_id",
    "question_index",
    "started_at",
    "finished_at",
    "score",
    "max_score",
    "passed",
)
ANSWER_COLUMNS = (
    "id",
    "attempt_id",
    "question_key",
    "kind",
    "choice",
    "text",
    "correct",
    "answered_at",
)
USER_COLUMNS = (
    "id",
    "telegram_id",
    "first_name",
    "locale",
    "role",
    "country",
    "region",
    "municipality",
    "timezone",
    "reminder_time",
    "reminders_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "consent_version",
    "consented_at",
    "status",
    "created_at",
    "updated_at",
    "last_active_at",
    "blocked_at",
    "erased_at",
)


TABLES = Base.metadata.tables
STAGING_METADATA = MetaData()


def _staging_table() -> Table:
    """A temporary table the activities go to first, to be numbered in time order.

    ``data`` arrives as JSON text (a handful of distinct values, encoded once each).
    """
    columns = [Column("seq", BigInteger, nullable=False)] + [
        Column(
            column.name,
            Text().with_variant(JSONB(), "postgresql") if column.name == "data" else column.type,
        )
        for column in TABLES["activities"].columns
        if column.name != "id"
    ]
    return Table(STAGING, STAGING_METADATA, *columns, prefixes=["TEMPORARY"])


@functools.cache
def _json_text(items: tuple[tuple[str, Any], ...] | None) -> str:
    """JSON as SQLAlchemy's JSON type writes it (``null`` for None, as the ORM stores it)."""
    return json.dumps(dict(items) if items is not None else None)


STAGING_TABLE = _staging_table()


class Loader:
    """Buffers rows per table and writes them in foreign-key order, in bulk.

    PostgreSQL: ``COPY`` through asyncpg (JSON columns as text); SQLite: ``executemany`` through
    SQLAlchemy Core, so every value is stored exactly as the ORM stores it.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.tables: dict[str, tuple[Table, tuple[str, ...], tuple[int, ...]]] = {}
        self.buffers: dict[str, list[tuple[Any, ...]]] = {}
        self.counts: dict[str, int] = {}
        self.held: set[str] = set()
        self._driver: Any = None

    def register(self, table: Table, columns: Sequence[str], *, held: bool = False) -> None:
        """Tables are written in the order registered: referenced tables first.

        ``held``: rows wait for the last flush (they refer to learners not yet written).
        """
        json_columns = tuple(
            index for index, name in enumerate(columns) if isinstance(table.c[name].type, JSON)
        )
        self.tables[table.name] = (table, tuple(columns), json_columns)
        self.buffers[table.name] = []
        self.counts[table.name] = 0
        if held:
            self.held.add(table.name)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)

    async def flush_if_full(self) -> None:
        if any(
            len(rows) >= FLUSH_ROWS for name, rows in self.buffers.items() if name not in self.held
        ):
            await self.flush()

    async def flush(self, *, everything: bool = False) -> None:
        for name, (table, columns, json_columns) in self.tables.items():
            rows = self.buffers[name]
            if rows and (everything or name not in self.held):
                await self._write(table, columns, json_columns, rows)
                self.counts[name] += len(rows)
                self.buffers[name] = []

    async def _write(
        self,
        table: Table,
        columns: tuple[str, ...],
        json_columns: tuple[int, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        if not self.postgres:
            await self.connection.execute(
                table.insert(), [dict(zip(columns, row, strict=True)) for row in rows]
            )
            return
        if self._driver is None:
            raw = await self.connection.get_raw_connection()
            self._driver = raw.driver_connection
        for index in json_columns:
            # The ORM stores None as JSON null, not SQL NULL; json.dumps(None) does the same.
            rows = [(*row[:index], json.dumps(row[index]), *row[index + 1 :]) for row in rows]
        await self._driver.copy_records_to_table(table.name, records=rows, columns=columns)


@dataclass
class _Progress:
    id: int
    lesson: LessonPlan
    started_at: datetime
    updated_at: datetime
    step_index: int = 0
    completed_at: datetime | None = None
    best_score: float | None = None
    passed: bool | None = None

    def row(self, user_id: int) -> tuple[Any, ...]:
        status = (
            ProgressStatus.IN_PROGRESS if self.completed_at is None else ProgressStatus.COMPLETED
        )
        return (
            self.id,
            user_id,
            self.lesson.lesson_id,
            self.lesson.version_id,
            self.step_index,
            status.value,
            self.started_at,
            self.updated_at,
            self.completed_at,
            self.best_score,
            self.passed,
        )


@dataclass
class _Returning:
    """A learner who may come back to read again a lesson they finished."""

    learner: LearnerSeed
    last: datetime
    finished: list[_Progress]


class Simulation:
    """Learners' journeys through the curriculum, row by row, within a total of activities.

    Each learner has a budget of activities. A service's unit of work (an answer that finishes a
    quiz writes ANSWERED, COMPLETED, PASSED and maybe CERTIFIED together) is taken whole or not at
    all; when the budget cannot pay for the next unit, the learner stops there, as people do.
    """

    def __init__(
        self,
        rng: random.Random,
        loader: Loader,
        tracks: list[TrackPlan],
        mediators: dict[int, int],
        end: datetime,
    ) -> None:
        self.rng = rng
        self.loader = loader
        self.tracks = tracks
        self.mediators = mediators
        """Each cohort's mediator, who checks people in to its workshops."""
        self.end = end
        self.seq = 0
        self.ids = {"progress": 0, "attempt": 0, "answer": 0, "certificate": 0, "membership": 0}
        self.codes: set[str] = set()
        self.returning: list[_Returning] = []
        self.moved: list[tuple[int, int, int, datetime]] = []
        """Re-reads after the first pass: (user id, progress id, step reached, when)."""
        # The learner being simulated.
        self.learner: LearnerSeed  # set by run_learner and reread
        self.budget = 0
        self.erased = False
        self.progress: dict[int, _Progress] = {}
        self.certified: set[int] = set()
        self.last = end

    def _next(self, name: str) -> int:
        self.ids[name] += 1
        return self.ids[name]

    def take(self, count: int) -> None:
        """Pay for one unit of work of ``count`` activities, or stop the learner here."""
        if self.budget < count:
            raise _Exhausted
        self.budget -= count

    def activity(
        self,
        verb: Verb,
        at: datetime,
        *,
        cohort_id: int | None = None,
        lesson: LessonPlan | None = None,
        track_id: int | None = None,
        question_key: str | None = None,
        score: float | None = None,
        assisted: bool = False,
        data: dict[str, Any] | None = None,
        place: tuple[str | None, str | None, str | None] | None = None,
    ) -> None:
        """One row as ``activity_log.record`` writes it: the learner's snapshot and newest cohort.

        ``place``: the learner's country, region and municipality then, when not those of now.
        """
        learner = self.learner
        self.seq += 1
        row = activity_log.row_values(
            learner,
            verb,
            cohort_id=cohort_id if cohort_id is not None else learner.cohort_at(at),
            occurred_at=at,
            track_id=lesson.track_id if lesson is not None else track_id,
            lesson_id=lesson.lesson_id if lesson is not None else None,
            lesson_version_id=lesson.version_id if lesson is not None else None,
            question_key=question_key,
            score=score,
            assisted=assisted,
        )
        if place is not None:
            row.update(zip(("country", "region", "municipality"), place, strict=True))
        # JSON as text: a handful of distinct values, encoded once each.
        row["data"] = _json_text(None if data is None else tuple(data.items()))
        self.loader.add(STAGING, (self.seq, *(row[name] for name in ACTIVITY_COLUMNS[1:])))
        self.last = max(self.last, at)

    def run_learner(self, learner: LearnerSeed, budget: int, *, erased: bool) -> list[_Progress]:
        """Everything one learner does until their budget, the content or the year runs out."""
        self.learner, self.budget, self.erased = learner, budget, erased
        self.progress, self.certified, self.last = {}, set(), learner.joined_at
        for position, (cohort, joined) in enumerate(learner.cohorts):
            self.loader.add(
                "memberships", (self._next("membership"), cohort.id, learner.id, joined)
            )
            # The first join comes before the learner types a municipality: the cohort's place.
            place = (cohort.country, cohort.region, cohort.municipality) if position == 0 else None
            self.activity(
                Verb.JOINED,
                joined,
                cohort_id=cohort.id,
                assisted=learner.assisted_only,
                place=place,
            )
        if not learner.cohorts:
            self.activity(Verb.JOINED, learner.joined_at, place=(None, None, None))
        # Workshops happen whatever the learner does online: their check-ins are paid first.
        workshops = self._workshops(learner)[: self.budget]
        self.budget -= len(workshops)
        with contextlib.suppress(_Exhausted):
            self._lessons(learner)
        self._check_in(learner, workshops)
        return list(self.progress.values())

    def _lessons(self, learner: LearnerSeed) -> None:
        rng = self.rng
        gap_days = ENGAGEMENT_GAP_DAYS[learner.engagement]
        moment = learner.joined_at + timedelta(minutes=rng.uniform(1, 20))
        for track in self._tracks_for(learner):
            for lesson in track.lessons:
                if learner.assisted_only and not lesson.questions:
                    continue  # a mediator can record quizzes only
                moment = _at_hour(rng, moment + timedelta(days=rng.expovariate(1 / gap_days)))
                if moment >= self.end:
                    return
                passed = self._lesson(learner, track, lesson, moment)
                moment = self.last
                if not passed and rng.random() < 0.5:
                    return  # discouraged

    def _tracks_for(self, learner: LearnerSeed) -> list[TrackPlan]:
        """The tracks for the learner's role (else their cohort's), now and then one more."""
        mine = [track for track in self.tracks if learner.role in track.audience]
        if not mine:
            offered = {track_id for cohort, _ in learner.cohorts for track_id in cohort.track_ids}
            mine = [track for track in self.tracks if track.track_id in offered] or self.tracks[:1]
        others = [track for track in self.tracks if track not in mine]
        if others and self.rng.random() < 0.1:
            mine.append(self.rng.choice(others))
        return mine

    def _workshops(self, learner: LearnerSeed) -> list[EventSeed]:
        """The workshops of the learner's cohorts they go to, after joining."""
        rate = ATTEND_RATES[learner.engagement]
        return [
            event
            for cohort, joined in learner.cohorts
            for event in cohort.events
            if event.starts_at >= joined and self.rng.random() < rate
        ]

    def _check_in(self, learner: LearnerSeed, workshops: list[EventSeed]) -> None:
        """Check-ins by link or by the cohort's mediator (services/events)."""
        for event in workshops:
            by_mediator = learner.assisted_only or self.rng.random() < 0.4
            at = event.starts_at + timedelta(minutes=self.rng.uniform(-20, 90))
            method = AttendanceMethod.MEDIATOR if by_mediator else AttendanceMethod.DEEP_LINK
            mediator = self.mediators.get(event.cohort_id) if by_mediator else None
            self.loader.add("attendance", (event.id, learner.id, at, method.value, mediator))
            self.activity(
                Verb.ATTENDED,
                at,
                cohort_id=event.cohort_id,
                assisted=by_mediator,
                data={"event_id": event.id},
            )

    def _lesson(
        self, learner: LearnerSeed, track: TrackPlan, lesson: LessonPlan, moment: datetime
    ) -> bool:
        """One sitting: open the lesson, read it, take its quiz, retry. True when passed."""
        rng = self.rng
        helped = learner.assisted_only or (
            bool(lesson.questions) and rng.random() < learner.help_rate
        )
        progress = _Progress(self._next("progress"), lesson, moment, moment)
        if helped:
            # A mediator records the whole quiz at once (services/assisted.record_quiz).
            return self._attempt(track, lesson, progress, moment, assisted=True)
        self.take(1)
        self._open(progress, moment, assisted=False)
        for step in range(1, lesson.steps):
            if rng.random() < 0.04:
                return False  # stopped reading
            moment += timedelta(seconds=rng.uniform(20, 150))
            self.take(1)
            self.activity(Verb.STEP, moment, lesson=lesson, data={"step": step})
            progress.step_index, progress.updated_at = step, moment
        moment += timedelta(seconds=rng.uniform(10, 60))
        if not lesson.questions:
            # quizzes.complete_without_quiz: complete and passed, perhaps the track's certificate.
            earns = self._earns(track, lesson, decide(0, 0, None))
            self.take(1 + earns)
            progress.passed = True
            progress.completed_at = progress.updated_at = moment
            self.activity(Verb.COMPLETED, moment, lesson=lesson)
            if earns:
                self._certify(track, moment)
            return True
        for attempt in range(3):
            if self._attempt(track, lesson, progress, moment, assisted=False):
                return True
            if attempt == 2 or rng.random() < 0.4:
                return False
            moment = self.last + timedelta(seconds=rng.uniform(30, 600))
            learner.skill += 0.4  # the feedback helps
        return False

    def _open(self, progress: _Progress, moment: datetime, *, assisted: bool) -> None:
        """player.open_lesson for a lesson never opened: progress on the newest version."""
        self.progress[progress.lesson.lesson_id] = progress
        self.activity(Verb.STARTED, moment, lesson=progress.lesson, assisted=assisted)

    def _attempt(
        self,
        track: TrackPlan,
        lesson: LessonPlan,
        progress: _Progress,
        moment: datetime,
        *,
        assisted: bool,
    ) -> bool:
        """One quiz attempt, question by question (services/quizzes.answer). True when passed."""
        rng = self.rng
        attempt_id = self._next("attempt")
        started = moment
        given = [self._answer(lesson, question) for question in lesson.questions]
        result = decide(
            sum(bool(correct) for _, correct, _ in given),
            sum(correct is not None for _, correct, _ in given),
            lesson.pass_score,
        )
        first_completion = progress.completed_at is None
        earns = result.passed and self._earns(track, lesson, result)
        # The last answer also writes COMPLETED (the first time), PASSED or FAILED, perhaps CERTIFIED.
        last_cost = 2 + first_completion + earns
        answers: list[tuple[Any, ...]] = []
        outcome: QuizResult | None = None
        try:
            if assisted:  # record_quiz opens the lesson and stores the quiz in one transaction
                self.take(1 + len(given) - 1 + last_cost)
                self._open(progress, moment, assisted=True)
            for index, (question, (choice, correct, written)) in enumerate(
                zip(lesson.questions, given, strict=True)
            ):
                last = index == len(given) - 1
                if not assisted:
                    if rng.random() < 0.02:
                        raise _Exhausted  # left in the middle of the quiz, for good
                    self.take(last_cost if last else 1)
                moment += timedelta(seconds=rng.uniform(3, 12) if assisted else rng.uniform(10, 70))
                self.activity(
                    Verb.ANSWERED,
                    moment,
                    lesson=lesson,
                    question_key=question.key,
                    assisted=assisted,
                    data={"correct": correct} if correct is not None else None,
                )
                answers.append(
                    (
                        self._next("answer"),
                        attempt_id,
                        question.key,
                        question.kind.value,
                        choice,
                        None if self.erased else written,
                        correct,
                        moment,
                    )
                )
                progress.updated_at = moment
            outcome = result
            self._finish(
                track, lesson, progress, outcome, moment, first_completion, earns, assisted
            )
            missed = outcome.scored - outcome.correct
            if missed and not assisted and self.rng.random() < REVIEW_SHARE:
                self._review(lesson, missed, moment)
        finally:
            # The attempt exists once the learner starts the quiz, answered or not; a mediator's
            # recording is all or nothing.
            if answers or not assisted:
                self._store_attempt(attempt_id, lesson, progress, started, moment, answers, outcome)
        return outcome.passed

    def _store_attempt(
        self,
        attempt_id: int,
        lesson: LessonPlan,
        progress: _Progress,
        started: datetime,
        moment: datetime,
        answers: list[tuple[Any, ...]],
        outcome: QuizResult | None,
    ) -> None:
        finished = outcome is not None
        self.loader.add(
            "quiz_attempts",
            (
                attempt_id,
                self.learner.id,
                lesson.version_id,
                progress.id,
                len(answers),
                started,
                moment if finished else None,
                float(outcome.correct) if outcome is not None else None,
                float(outcome.scored) if outcome is not None else None,
                outcome.passed if outcome is not None else None,
            ),
        )
        for row in answers:
            self.loader.add("answers", row)

    def _finish(
        self,
        track: TrackPlan,
        lesson: LessonPlan,
        progress: _Progress,
        outcome: QuizResult,
        moment: datetime,
        first_completion: bool,
        earns: bool,
        assisted: bool,
    ) -> None:
        """quizzes._finish: completion, the best score, pass or fail, maybe the certificate."""
        percent = float(outcome.percent) if outcome.percent is not None else None
        if first_completion:
            progress.completed_at = moment
            self.activity(Verb.COMPLETED, moment, lesson=lesson, assisted=assisted)
        if percent is not None and (progress.best_score is None or percent > progress.best_score):
            progress.best_score = percent
        progress.passed = bool(progress.passed) or outcome.passed
        verb = Verb.PASSED if outcome.passed else Verb.FAILED
        self.activity(verb, moment, lesson=lesson, score=percent, assisted=assisted)
        if earns:
            self._certify(track, moment)

    def _review(self, lesson: LessonPlan, missed: int, moment: datetime) -> None:
        """review.answer's last answer: the learner took the spaced review a day after the quiz."""
        at = moment + timedelta(days=1, minutes=self.rng.uniform(0, 180))
        if at >= self.end:
            return
        self.take(1)
        questions = min(missed, 5)
        self.activity(
            Verb.REVIEWED,
            at,
            lesson=lesson,
            data={
                "correct": self.rng.randint(0, questions),
                "questions": questions,
                "after_days": 1,
            },
        )

    def _answer(
        self, lesson: LessonPlan, question: QuestionPlan
    ) -> tuple[list[int] | None, bool | None, str | None]:
        """The learner's answer: (choice as stored, right or None, written text)."""
        rng, learner = self.rng, self.learner
        if question.kind is QuestionKind.LIKERT:
            # Awareness grows over the course: the post-survey leans further towards it.
            shift = 0.8 if lesson.survey == "post" else 0.0
            leaning = 3 + 0.9 * (learner.awareness + shift) + rng.gauss(0, 0.7)
            point = max(1, min(LIKERT_POINTS, round(leaning)))
            if question.reverse:  # agreeing shows less awareness
                point = LIKERT_POINTS + 1 - point
            return [point], None, None
        if question.kind is QuestionKind.OPEN:
            return None, None, rng.choice(REFLECTIONS) if rng.random() < 0.6 else None
        chance = 1 / (1 + math.exp(-(1.3 + 0.8 * learner.skill - question.difficulty)))
        right = rng.random() < chance
        options = list(range(question.options))
        if question.kind is QuestionKind.MULTIPLE:
            chosen = set(question.correct)
            if not right:
                chosen ^= {rng.choice(options)}
                chosen = chosen or {rng.choice(options)}
            return sorted(chosen), chosen == set(question.correct), None
        wrong = [option for option in options if option not in question.correct]
        pick = rng.choice(question.correct) if right or not wrong else rng.choice(wrong)
        return [pick], pick in question.correct, None

    def _earns(
        self,
        track: TrackPlan,
        lesson: LessonPlan | None = None,
        outcome: QuizResult | None = None,
    ) -> bool:
        """Whether the track's pass rule is met, counting an outcome about to be stored.

        The standing is the one ``certificates`` reads from the database, and the rule its own.
        """
        if track.track_id in self.certified:
            return False
        passed, scores = 0, []
        for plan in track.lessons:
            mine = self.progress.get(plan.lesson_id)
            is_passed = bool(mine and mine.passed)
            best = mine.best_score if mine else None
            if plan is lesson and outcome is not None:
                is_passed = is_passed or outcome.passed
                if outcome.percent is not None and (best is None or outcome.percent > best):
                    best = float(outcome.percent)
            passed += is_passed
            if best is not None:
                scores.append(best)
        average = sum(scores) / len(scores) if scores else None
        return certificates.meets(
            track.rule, certificates.Standing(len(track.lessons), passed, average)
        )

    def _certify(self, track: TrackPlan, moment: datetime) -> None:
        self.certified.add(track.track_id)
        code = ""
        while not code or code in self.codes:
            code = "".join(self.rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        self.codes.add(code)
        name = None if self.erased else self.learner.first_name
        self.loader.add(
            "certificates",
            (self._next("certificate"), code, self.learner.id, track.track_id, moment, name),
        )
        self.activity(Verb.CERTIFIED, moment, track_id=track.track_id)

    def reread(self, returning: _Returning, budget: int) -> int:
        """A learner opens a finished lesson again and reads on; returns the rows written.

        ``player.open_lesson`` puts them back at step 0 of the lesson (it stays completed); each
        step forward is recorded again.
        """
        rng = self.rng
        self.learner, self.erased = returning.learner, False
        progress = rng.choice(returning.finished)
        lesson = progress.lesson
        moment = _at_hour(rng, returning.last + timedelta(days=rng.expovariate(1 / 10)))
        if moment >= self.end:
            return 0
        self.activity(Verb.STARTED, moment, lesson=lesson)
        reached = 0
        for step in range(1, min(lesson.steps, budget)):
            moment += timedelta(seconds=rng.uniform(15, 90))
            self.activity(Verb.STEP, moment, lesson=lesson, data={"step": step})
            reached = step
        returning.last = moment
        self.moved.append((returning.learner.id, progress.id, reached, moment))
        return 1 + reached


def _user_row(
    rng: random.Random, learner: LearnerSeed, last: datetime, status: UserStatus, end: datetime
) -> tuple[Any, ...]:
    """The learner as ``learners.register`` and the settings leave them (or ``erase``)."""
    after = min(end, last + timedelta(days=rng.expovariate(1 / 12), hours=1))
    erased = status is UserStatus.ERASED
    # Settings a learner chose in the bot; erase() clears them, and people enrolled by a
    # mediator have no bot to choose them in.
    chose = not erased and not learner.assisted_only
    zone = COUNTRY_TIMEZONES.get(learner.country or "", "UTC") if rng.random() < 0.08 else None
    reminder = time(rng.choice((7, 17, 18, 19, 20)), rng.choice((0, 30)))
    has_reminder = rng.random() < 0.4
    quiet = rng.random() < 0.05
    reminders_on = rng.random() > 0.15
    return (
        learner.id,
        TELEGRAM_ID_BASE + learner.id * 7 if chose else None,
        None if erased else learner.first_name,
        learner.locale,
        learner.role.value,
        learner.country,
        None if erased else learner.region,
        None if erased else learner.municipality,
        zone if chose else None,
        reminder if chose and has_reminder else None,
        chose and reminders_on,
        time(22, 0) if chose and quiet else None,
        time(7, 0) if chose and quiet else None,
        PRIVACY_VERSION,
        learner.joined_at,
        status.value,
        learner.joined_at,
        last if status is UserStatus.ACTIVE else after,
        last,
        after if status is UserStatus.BLOCKED else None,
        after if erased else None,
    )


class ShareDealer:
    """Deals each learner a share of the activities so that, used, they add up to the total.

    Learners stop before their share runs out (they drop out, fail, finish the content, meet the
    end of the year), so shares are inflated by the share of what was dealt that was actually used.
    """

    def __init__(self, rng: random.Random, total: int, learners: int) -> None:
        self.rng = rng
        self.remaining = total
        self.left = learners
        self.dealt = self.used = 0
        self.mean_weight = sum(share * weight for share, weight in ENGAGEMENT.values())

    def deal(self, learner: LearnerSeed) -> int:
        if self.left == 1:
            return self.remaining
        usage = (self.used + 200) / (self.dealt + 200)
        scale = self.remaining / (self.left * self.mean_weight * max(usage, 0.2))
        weight = ENGAGEMENT[learner.engagement][1]
        return min(self.remaining, round(scale * weight * self.rng.gammavariate(2.0, 0.5)))

    def settle(self, dealt: int, used: int) -> None:
        self.left -= 1
        self.dealt += dealt
        self.used += used
        self.remaining -= used


def _cohort_row(cohort: CohortSeed) -> tuple[Any, ...]:
    school = f"School no. {cohort.id % 97 + 1}" if cohort.kind == "school" else None
    return (
        cohort.id,
        cohort.code,
        cohort.name,
        cohort.country,
        cohort.region,
        cohort.municipality,
        school,
        cohort.locale,
        cohort.created_at,
    )


def _event_row(rng: random.Random, cohort: CohortSeed, event: EventSeed) -> tuple[Any, ...]:
    return (
        event.id,
        cohort.id,
        f"w{event.id:07d}",
        f"Workshop: {rng.choice(WORKSHOP_TOPICS)}",
        event.starts_at,
        f"{cohort.municipality} community centre",
        event.starts_at - timedelta(days=rng.uniform(3, 20)),
    )


def _register_tables(loader: Loader) -> None:
    """Every table the seed writes, referenced tables first."""
    loader.register(
        TABLES["cohorts"],
        (
            "id",
            "code",
            "name",
            "country",
            "region",
            "municipality",
            "school",
            "locale",
            "created_at",
        ),
    )
    loader.register(TABLES["cohort_tracks"], ("cohort_id", "track_id"))
    loader.register(
        TABLES["events"],
        ("id", "cohort_id", "code", "title", "starts_at", "location", "created_at"),
    )
    loader.register(TABLES["users"], USER_COLUMNS)
    loader.register(TABLES["memberships"], ("id", "cohort_id", "user_id", "joined_at"))
    loader.register(TABLES["lesson_progress"], PROGRESS_COLUMNS)
    loader.register(TABLES["quiz_attempts"], ATTEMPT_COLUMNS)
    loader.register(TABLES["answers"], ANSWER_COLUMNS)
    loader.register(
        TABLES["certificates"],
        ("id", "code", "user_id", "track_id", "issued_at", "name_on_certificate"),
    )
    loader.register(
        TABLES["attendance"],
        ("event_id", "user_id", "checked_in_at", "method", "assisted_by_user_id"),
        held=True,  # the mediator who checked someone in may be written later
    )
    loader.register(TABLES["cohort_mediators"], ("cohort_id", "user_id", "added_at"), held=True)
    loader.register(STAGING_TABLE, ACTIVITY_COLUMNS)


async def _fill(
    engine: AsyncEngine,
    *,
    rng: random.Random,
    learner_count: int,
    activity_count: int,
    end: datetime,
) -> dict[str, int]:
    """Generate and load everything in one transaction; returns the rows written per table."""
    async with engine.begin() as connection:
        tracks = await _curriculum(connection, rng)
        cohort_count = max(3, round(learner_count / LEARNERS_PER_COHORT))
        cohorts = _cohorts(rng, cohort_count, tracks, end - timedelta(days=DAYS), end)
        people = _learners(rng, learner_count, cohorts, end)
        joined_rows = sum(max(1, len(learner.cohorts)) for learner in people)
        if activity_count < joined_rows:
            raise SeedError(
                f"{learner_count} learners join with {joined_rows} activities; "
                "ask for at least that many (--activities)"
            )
        loader = Loader(connection)
        _register_tables(loader)
        await connection.run_sync(STAGING_METADATA.create_all)
        restore = await _set_aside_keys_and_indexes(connection) if loader.postgres else []
        mediators = _cohort_mediators(people)
        for cohort in cohorts:
            loader.add("cohorts", _cohort_row(cohort))
            for track_id in cohort.track_ids:
                loader.add("cohort_tracks", (cohort.id, track_id))
            for event in cohort.events:
                loader.add("events", _event_row(rng, cohort, event))
            if cohort.id in mediators:
                mediator, joined = mediators[cohort.id]
                loader.add("cohort_mediators", (cohort.id, mediator.id, joined))

        simulation = Simulation(
            rng, loader, tracks, {key: value[0].id for key, value in mediators.items()}, end
        )
        order = list(people)
        rng.shuffle(order)
        dealer = ShareDealer(rng, activity_count - joined_rows, len(order))
        for learner in order:
            share = dealer.deal(learner)
            draw = rng.random()
            status = UserStatus.ACTIVE
            if draw < 0.02:
                status = UserStatus.ERASED
            elif draw < 0.08 and not learner.assisted_only:
                status = UserStatus.BLOCKED
            progress = simulation.run_learner(learner, share, erased=status is UserStatus.ERASED)
            dealer.settle(share, share - simulation.budget)
            loader.add("users", _user_row(rng, learner, simulation.last, status, end))
            for row in progress:
                loader.add("lesson_progress", row.row(learner.id))
            finished = [row for row in progress if row.completed_at is not None]
            if status is UserStatus.ACTIVE and finished and not learner.assisted_only:
                simulation.returning.append(_Returning(learner, simulation.last, finished))
            await loader.flush_if_full()
        # What the learners left unused goes to some who come back to read a lesson again.
        left = dealer.remaining
        candidates = [r for r in simulation.returning if r.last < end - timedelta(days=2)]
        while left > 0:
            if not candidates:
                raise SeedError(
                    f"{left} activities are left over: the learners have done all they can in "
                    "the year; ask for fewer activities or more learners"
                )
            pick = rng.randrange(len(candidates))
            written = simulation.reread(candidates[pick], left)
            if not written:  # no time left in the year for this one
                candidates[pick] = candidates[-1]
                candidates.pop()
            left -= written
            await loader.flush_if_full()
        await loader.flush(everything=True)
        await _number_activities(connection)
        await _move_rereaders(connection, simulation.moved)
        for statement in restore:
            await connection.execute(text(statement))
        if loader.postgres:
            await _set_sequences(connection, SEQUENCED_TABLES)
        counts = dict(loader.counts)
        counts["activities"] = counts.pop(STAGING)
    return counts


async def _set_aside_keys_and_indexes(connection: AsyncConnection) -> list[str]:
    """Drop the loaded tables' foreign keys and plain indexes; returns what recreates them.

    PostgreSQL's advice for populating a database: building an index or checking a foreign key
    once over all rows is much faster than doing it row by row. Primary keys and unique
    constraints stay. Everything happens in the load's transaction, so a failed load leaves the
    schema as it was, and a finished one has exactly the same indexes and keys again.
    """
    tables = list(LOADED_TABLES)
    keys = list(
        await connection.execute(
            text(
                "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', c.relname, k.conname), "
                "format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname, "
                "pg_get_constraintdef(k.oid)) "
                "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE k.contype = 'f' AND n.nspname = current_schema() "
                "AND c.relname = ANY(:tables) ORDER BY k.conname"
            ),
            {"tables": tables},
        )
    )
    indexes = list(
        await connection.execute(
            text(
                "SELECT format('DROP INDEX %I', i.indexname), i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname) "
                "ORDER BY i.indexname"
            ),
            {"tables": tables},
        )
    )
    for drop, _ in [*keys, *indexes]:
        await connection.execute(text(drop))
    return [create for _, create in indexes] + [create for _, create in keys]


def _cohort_mediators(people: list[LearnerSeed]) -> dict[int, tuple[LearnerSeed, datetime]]:
    """Each cohort's first member who is a mediator becomes its mediator."""
    mediators: dict[int, tuple[LearnerSeed, datetime]] = {}
    for learner in people:
        if learner.role is Role.MEDIATOR:
            for cohort, joined in learner.cohorts:
                mediators.setdefault(cohort.id, (learner, joined))
    return mediators


async def _number_activities(connection: AsyncConnection) -> None:
    """Move the staged activities into ``activities`` with ids in time order."""
    columns = ", ".join(ACTIVITY_COLUMNS[1:])
    await connection.execute(
        text(
            f"INSERT INTO activities (id, {columns}) "  # noqa: S608 (fixed column names)
            f"SELECT row_number() OVER (ORDER BY occurred_at, seq), {columns} FROM {STAGING}"
        )
    )
    await connection.execute(text(f"DROP TABLE {STAGING}"))


async def _move_rereaders(
    connection: AsyncConnection, moved: list[tuple[int, int, int, datetime]]
) -> None:
    """Re-reads after the first pass moved a progress row and the learner's last activity."""
    if not moved:
        return
    progress, users = TABLES["lesson_progress"], TABLES["users"]
    await connection.execute(
        progress.update()
        .where(progress.c.id == bindparam("progress_id"))
        .values(step_index=bindparam("step"), updated_at=bindparam("at")),
        [{"progress_id": p, "step": step, "at": at} for _, p, step, at in moved],
    )
    await connection.execute(
        users.update()
        .where(users.c.id == bindparam("user_id"))
        .values(last_active_at=bindparam("at"), updated_at=bindparam("at")),
        [{"user_id": user_id, "at": at} for user_id, _, _, at in moved],
    )


async def _set_sequences(connection: AsyncConnection, tables: Sequence[str]) -> None:
    """After explicit ids, PostgreSQL's sequences must go on after the highest one."""
    for table in tables:
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (fixed names)
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


async def seed_database(
    database_url: str,
    *,
    learners: int,
    activities: int,
    seed: int = 2026,
    end: date | None = None,
    lessons_dir: Path = Path("lessons"),
) -> SeedReport:
    """Migrate the database at ``database_url`` and fill it; returns the rows written and the time.

    The simulated year ends at midnight (UTC) starting ``end`` (default: today). Raises SeedError
    when the database already has learners, the curriculum is broken, or the numbers cannot work.
    """
    started = clock.perf_counter()
    if learners < 1:
        raise SeedError("--learners must be at least 1")
    engine = create_engine(Settings(_env_file=None, database_url=database_url).database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            existing = await connection.scalar(select(func.count()).select_from(User))
        if existing:
            raise SeedError(f"the database already has {existing} learners; seed an empty one")
        await _import_curriculum(engine, lessons_dir)
        counts = await _fill(
            engine,
            rng=random.Random(seed),  # noqa: S311 (synthetic data, not secrets)
            learner_count=learners,
            activity_count=activities,
            end=datetime.combine(end or datetime.now(UTC).date(), time(0), UTC),
        )
        async with engine.begin() as connection:
            counts["participation_counts"] = await activity_log.rebuild(connection)
            counts["question_sums"] = await question_sums.rebuild(connection)
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return SeedReport(counts=counts, seconds=clock.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed", description="Fill a database with synthetic participation."
    )
    parser.add_argument("--database-url", required=True, help="sqlite:///… or postgresql://…")
    parser.add_argument("--learners", type=int, required=True)
    parser.add_argument("--activities", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2026, help="the same seed, the same data")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="the simulated year ends when this day starts (YYYY-MM-DD, UTC; default: today)",
    )
    parser.add_argument("--lessons-dir", type=Path, default=Path("lessons"))
    arguments = parser.parse_args(argv)
    try:
        report = asyncio.run(
            seed_database(
                arguments.database_url,
                learners=arguments.learners,
                activities=arguments.activities,
                seed=arguments.seed,
                end=arguments.end,
                lessons_dir=arguments.lessons_dir,
            )
        )
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, count in sorted(report.counts.items()):
        print(f"{name:>16} {count:>10}")
    print(f"seeded in {report.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
