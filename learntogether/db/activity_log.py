"""The activity record's one writer: the append-only participation record and its counts.

Every activity is written here, one (``record``) or many at once (``record_many``), so every row
gets the same snapshot: the learner's role, locale and place as they are at that moment, and the
cohort they joined last unless the caller names one. Reports then need no joins and stay right
after a learner moves or erases their data.

Each counted activity is also added, in the same transaction, to ``participation_counts``: the
record summed per learner and quarter hour, which the participation report reads instead of
every activity row (two million of them are a second of work; a learner's few minutes in the bot
are one row there). The counts of quarter hours far enough from a month's ends to be in that
month on every clock are also summed per month (UTC) in ``participation_months``, which reports
by month read instead, with the counts near month boundaries; likewise per week (Monday to
Sunday, UTC) in ``participation_weeks``; and in all per learner in ``participation_totals``,
which all-time figures read. Starts, steps, completions and passes also go to ``lesson_reach``
(how far a learner got in a lesson, per quarter hour), which the funnel reads. ``rebuild``
computes these tables from ``activities`` (``learntogether db recount``, the benchmark's bulk
seed), ``rebuild_if_missing`` after the migration that created one.

A counted activity is written on every press, so its writes are few and cheap: SQL text built
once per process, the learner's newest cohort a subquery of the activity's INSERT, and each
roll-up's UPDATE of the key's row (or INSERT when there is none) in the same statement as the
activity on PostgreSQL (data-modifying CTEs: one round trip); on SQLite one statement after
another (``bench.records`` measures them).

What is counted, per row:

- ``joined``, ``certificates``, ``attended``, ``lessons_completed``, ``reviewed``, ``listened``:
  those records;
- ``active``: records of what learners did themselves (reminders and nudges they only received,
  and certificates, are not activity of their own); ``assisted``: those made with help;
- ``lessons_started``: a learner's first start of a lesson (reading it again is not a new start);
- ``tracks_completed``: the completion after which every lesson published in the track is
  completed, once per learner and track; judged against the lessons published at that moment
  (``rebuild`` judges against those published now, so an archived or newly published lesson can
  make the two differ for learners who finished before the change).

Only models are imported here: the services, ``db upgrade`` and the seed all build on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import groupby
from typing import Any, Protocol, TypedDict, Unpack

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    TextClause,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Lesson,
    LessonReach,
    LessonStatus,
    Membership,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    ParticipationWeek,
    Role,
    Verb,
)
from learntogether.db.models.activity import (
    PARTICIPATION_FIGURES,
    PERIOD_MARGINS,
    QUARTER_HOUR_SECONDS,
    REACH_FIGURES,
)

SNAPSHOT = ("role", "locale", "country", "region", "municipality")
"""What each row copies from the learner as they are when it is written."""

# What a learner does themselves.
ACTIVE_VERBS = (
    Verb.JOINED,
    Verb.STARTED,
    Verb.STEP,
    Verb.ANSWERED,
    Verb.COMPLETED,
    Verb.PASSED,
    Verb.FAILED,
    Verb.ATTENDED,
    Verb.REVIEWED,
)
# A step heard is counted, but is not activity of its own: moving to the step was (``step``).
COUNTED_VERBS = (*ACTIVE_VERBS, Verb.CERTIFIED, Verb.LISTENED)
"""Verbs that move a figure; reminders and nudges leave the counts alone."""

KEY_COLUMNS = ("user_id", "track_id", "cohort_id", *SNAPSHOT)
"""What ``participation_counts`` sums by, besides the quarter hour."""
LEARNER_KEY_COLUMNS = tuple(name for name in KEY_COLUMNS if name != "track_id")
"""What ``participation_months`` and ``participation_weeks`` (besides the month or week) and
``participation_totals`` sum by."""

REACH_VERBS = (Verb.STARTED, Verb.STEP, Verb.COMPLETED, Verb.PASSED)
"""Verbs that say how far a learner got in a lesson (``lesson_reach``)."""
REACH_KEY_COLUMNS = ("user_id", "lesson_id", "track_id", "cohort_id", *SNAPSHOT)
"""What ``lesson_reach`` keeps apart, besides the quarter hour."""


class Learner(Protocol):
    """Whom an activity is about: a ``User``, or anything that knows the same (a delivery's
    recipient, the benchmark seed's simulated learner)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> Role | None: ...
    @property
    def locale(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def municipality(self) -> str | None: ...


class Details(TypedDict, total=False):
    """What an activity may say besides who did what (each None, or False, when left out)."""

    track_id: int | None
    lesson_id: int | None
    lesson_version_id: int | None
    question_key: str | None
    score: float | None
    assisted: bool
    """Recorded by a mediator on the learner's behalf."""
    data: dict[str, Any] | None


_NO_DETAILS: Details = {
    "track_id": None,
    "lesson_id": None,
    "lesson_version_id": None,
    "question_key": None,
    "score": None,
    "assisted": False,
    "data": None,
}


@dataclass(frozen=True)
class Entry:
    """One activity for ``record_many``."""

    learner: Learner
    verb: Verb
    cohort_id: int | None = None
    """None: the cohort the learner joined last."""
    details: Details = field(default_factory=lambda: Details())


def row_values(
    learner: Learner,
    verb: Verb,
    *,
    cohort_id: int | None,
    occurred_at: datetime | None = None,
    **details: Unpack[Details],
) -> dict[str, Any]:
    """Every column of the activity as written, with the learner's snapshot as it is now.

    ``occurred_at`` None leaves the time to the column's default (now).
    """
    values: dict[str, Any] = {"user_id": learner.id, "verb": verb, "cohort_id": cohort_id}
    values.update(_NO_DETAILS, **details)
    values.update({name: getattr(learner, name) for name in SNAPSHOT})
    if occurred_at is not None:
        values["occurred_at"] = occurred_at
    return values


@dataclass(frozen=True)
class Alongside:
    """A write of the caller's that goes with a counted record: inside the record's one
    statement on PostgreSQL (one more data-modifying CTE, no round trip of its own), right after
    it on SQLite; in the same transaction either way.

    ``statement`` is SQL text built once (an UPDATE or INSERT), its parameters typed and named
    apart from the record's (``row_values``'s columns and the roll-ups' own). ``returning``: it
    ends in ``RETURNING`` one column of one row, which ``record`` returns. ``then``: more such
    writes (a quiz's answer is a row written and its attempt moved on), their parameters in
    ``params`` too; each a CTE of its own on PostgreSQL (on a table apart from the others': the
    CTEs share one snapshot), one after another on SQLite.
    """

    statement: TextClause
    params: Mapping[str, Any]
    returning: bool = False
    then: tuple[TextClause, ...] = ()

    @property
    def statements(self) -> tuple[TextClause, ...]:
        return (self.statement, *self.then)


async def record(
    session: AsyncSession,
    learner: Learner,
    verb: Verb,
    *,
    cohort_id: int | None = None,
    occurred_at: datetime | None = None,
    alongside: Alongside | None = None,
    **details: Unpack[Details],
) -> Any:
    """Record what ``learner`` did or received, with who they are now, and count it.

    ``cohort_id`` defaults to the cohort the learner joined last; ``occurred_at`` to now.
    ``alongside``: the caller's write that goes with a counted record (see ``Alongside``); what
    it returns is returned (else None).
    """
    if alongside is None:
        await record_many(
            session, [Entry(learner, verb, cohort_id, details)], occurred_at=occurred_at
        )
        return None
    if verb not in COUNTED_VERBS:
        raise ValueError(f"only a counted record takes a write alongside, not {verb}")
    row = row_values(
        learner, verb, cohort_id=cohort_id, occurred_at=occurred_at or utcnow(), **details
    )
    return await _write_counted(
        session,
        row,
        postgresql=session.get_bind().dialect.name == "postgresql",
        alongside=alongside,
    )


async def record_many(
    session: AsyncSession, entries: Sequence[Entry], *, occurred_at: datetime | None = None
) -> None:
    """Record ``entries`` in order, all at ``occurred_at`` (default now), and count them.

    A counted activity is written and added to every roll-up in one statement on PostgreSQL
    (one, then one or two a roll-up, on SQLite); those not counted (reminders, nudges) are
    written together.
    """
    when = occurred_at or utcnow()
    postgresql = session.get_bind().dialect.name == "postgresql"
    for counted, run in groupby(entries, key=lambda entry: entry.verb in COUNTED_VERBS):
        rows = [
            row_values(
                entry.learner,
                entry.verb,
                cohort_id=entry.cohort_id,
                occurred_at=when,
                **entry.details,
            )
            for entry in run
        ]
        if not counted:
            await session.execute(_activity_insert(returning=False), rows)
            continue
        for row in rows:
            await _write_counted(session, row, postgresql=postgresql)


# Counting as it is written ---------------------------------------------------------------------


def quarter_of(moment: datetime) -> datetime:
    """The start (UTC) of the quarter hour ``moment`` falls in."""
    seconds = int(moment.timestamp()) // QUARTER_HOUR_SECONDS * QUARTER_HOUR_SECONDS
    return datetime.fromtimestamp(seconds, UTC)


def month_of(moment: datetime) -> date:
    """The first day of the month (UTC) ``moment`` falls in."""
    return moment.astimezone(UTC).date().replace(day=1)


def week_of(moment: datetime) -> date:
    """The Monday of the week (UTC) ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def following_month(month: date) -> date:
    return (month + timedelta(days=31)).replace(day=1)


def following_week(week: date) -> date:
    return week + timedelta(weeks=1)


def month_interior(month: date) -> tuple[datetime, datetime]:
    """The part of ``month`` (its first day, UTC) that is in the same month on every clock:
    what its roll-up holds (``PERIOD_MARGINS``)."""
    return _interior("month", month, following_month(month))


def week_interior(week: date) -> tuple[datetime, datetime]:
    """The part of ``week`` (its Monday, UTC) that is in the same week on the programme's clocks
    (UTC to UTC+3): what its roll-up holds (``PERIOD_MARGINS``)."""
    return _interior("week", week, following_week(week))


def _interior(unit: str, first_day: date, following_day: date) -> tuple[datetime, datetime]:
    after, before = PERIOD_MARGINS[unit]
    start = datetime.combine(first_day, datetime.min.time(), UTC)
    end = datetime.combine(following_day, datetime.min.time(), UTC)
    return start + timedelta(seconds=after), end - timedelta(seconds=before)


def _inside(quarter: datetime, interior: tuple[datetime, datetime]) -> bool:
    return interior[0] <= quarter < interior[1]


def step_of(row: Activity) -> int | None:
    """The step index a ``step`` record moved to (as the funnel reads ``data``)."""
    return _step(row.verb, row.data)


def _step(verb: Verb, data: Mapping[str, Any] | None) -> int | None:
    step = (data or {}).get("step") if verb is Verb.STEP else None
    return int(step) if isinstance(step, int | str) and str(step).lstrip("-").isdigit() else None


async def _write_counted(
    session: AsyncSession,
    row: dict[str, Any],
    *,
    postgresql: bool,
    alongside: Alongside | None = None,
) -> Any:
    """Write the activity ``row`` and add it to its quarter hour's participation count, its
    month's and its week's (when the quarter is inside the month or week as their roll-ups hold
    them, see ``month_interior`` and ``week_interior``), the learner's totals and, for a lesson's
    start, step, completion or pass, its lesson reach."""
    verb: Verb = row["verb"]
    quarter = quarter_of(row["occurred_at"])
    month, week = month_of(quarter), week_of(quarter)
    rolled = _Periods(
        month=_inside(quarter, month_interior(month)), week=_inside(quarter, week_interior(week))
    )
    reached = verb in REACH_VERBS and row["lesson_id"] is not None
    # Whether a start is the learner's first of the lesson is asked inside the statement on
    # PostgreSQL (it sees the records before this one): no statement of its own.
    first_start = postgresql and verb is Verb.STARTED and row["lesson_id"] is not None
    figures = await _figures(session, row, first_start_in_sql=first_start)
    params = {
        **row,
        "quarter": quarter,
        "month": month,
        "week": week,
        **{f"add_{name}": value for name, value in figures.items()},
        "reach_started": int(verb is Verb.STARTED),
        "reach_finished": int(verb is Verb.COMPLETED),
        "reach_passed": int(verb is Verb.PASSED),
        "reach_furthest": _step(verb, row["data"]),
    }
    if postgresql:
        also = alongside.statements if alongside is not None else ()
        returning = alongside is not None and alongside.returning
        if alongside is not None:
            params.update(alongside.params)
        statement = _write_and_count_postgresql(
            rolled, reached, also, first_start=first_start, returning=returning
        )
        result = await session.execute(statement, params)
        return result.scalar_one() if returning else None
    params["cohort_id"] = (
        await session.execute(_activity_insert(returning=True), params)
    ).scalar_one()
    for added, new in _rollup_statements(rolled, reached):
        if getattr(await session.execute(added, params), "rowcount", 0) == 0:
            await session.execute(new, params)
    if alongside is None:
        return None
    result = await session.execute(alongside.statement, alongside.params)
    for more in alongside.then:
        await session.execute(more, alongside.params)
    return result.scalar_one() if alongside.returning else None


async def _figures(
    session: AsyncSession, row: Mapping[str, Any], *, first_start_in_sql: bool = False
) -> dict[str, int]:
    """What the activity ``row`` (not written yet) adds to each participation figure.

    ``first_start_in_sql``: the statement decides whether a start is the first (``lessons_started``
    is then 1, to be taken back there when it is not)."""
    verb, assisted = row["verb"], row["assisted"]
    own = verb in ACTIVE_VERBS
    first = (
        verb in (Verb.STARTED, Verb.COMPLETED)
        and row["lesson_id"] is not None
        and (first_start_in_sql or not await _done_before(session, row))
    )
    return {
        "joined": int(verb is Verb.JOINED),
        "active": int(own),
        "assisted": int(own and assisted),
        "lessons_started": int(verb is Verb.STARTED and first),
        "lessons_completed": int(verb is Verb.COMPLETED),
        "tracks_completed": int(
            verb is Verb.COMPLETED and first and await _completes_track(session, row)
        ),
        "certificates": int(verb is Verb.CERTIFIED),
        "attended": int(verb is Verb.ATTENDED),
        "assisted_lessons_completed": int(verb is Verb.COMPLETED and assisted),
        "assisted_attended": int(verb is Verb.ATTENDED and assisted),
        "reviewed": int(verb is Verb.REVIEWED),
        "listened": int(verb is Verb.LISTENED),
    }


async def _done_before(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Whether the learner already has a record of the same verb for the same lesson."""
    earlier = await session.scalar(
        select(
            exists().where(
                Activity.user_id == row["user_id"],
                Activity.lesson_id == row["lesson_id"],
                Activity.verb == row["verb"],
            )
        )
    )
    return bool(earlier)


async def _completes_track(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Whether completing the lesson of ``row`` completes every lesson published in its track,
    for the first time."""
    lesson = await session.get(Lesson, row["lesson_id"])
    if lesson is None or lesson.status is not LessonStatus.PUBLISHED or lesson.track_id is None:
        return False
    completed = (
        select(Activity.lesson_id)
        .where(
            Activity.user_id == row["user_id"],
            Activity.verb == Verb.COMPLETED,
            Activity.lesson_id.is_not(None),
        )
        .scalar_subquery()
    )
    counted_before = await session.scalar(
        select(
            exists().where(
                ParticipationCount.user_id == row["user_id"],
                ParticipationCount.track_id == lesson.track_id,
                ParticipationCount.tracks_completed > 0,
            )
        )
    )
    if counted_before:
        return False
    missing = await session.scalar(
        select(
            exists().where(
                Lesson.track_id == lesson.track_id,
                Lesson.status == LessonStatus.PUBLISHED,
                Lesson.id != lesson.id,
                Lesson.id.not_in(completed),
            )
        )
    )
    return not missing


# The statements, written once per process ------------------------------------------------------
#
# Plain SQL text with typed parameters: built once, they cost SQLAlchemy no compiling and no
# cache key per press (an ORM flush and four Core upserts a press were a sixth of the bot's CPU).

_ACTIVITY_COLUMNS = tuple(
    column.name for column in Activity.__table__.columns if column.name != "id"
)
_COHORT_JOINED_LAST = (
    f"COALESCE(:cohort_id, (SELECT cohort_id FROM {Membership.__tablename__}"  # noqa: S608 (model names)
    " WHERE user_id = :user_id ORDER BY joined_at DESC, id DESC LIMIT 1))"
)
_TYPES: dict[str, TypeEngine[Any]] = {
    **{column.name: column.type for column in Activity.__table__.columns},
    "quarter": ParticipationCount.__table__.c.occurred_at.type,
    "month": ParticipationMonth.__table__.c.month.type,
    "week": ParticipationWeek.__table__.c.week.type,
    **{f"add_{name}": Integer() for name in PARTICIPATION_FIGURES},
    **{f"reach_{name}": Integer() for name in REACH_FIGURES},
}


@dataclass(frozen=True)
class _Rollup:
    """Adding a counted activity to one roll-up: its row of ``key`` takes ``changes``, or a row
    of ``key`` and ``new`` is written. Values are SQL; ``COHORT`` stands for the activity's."""

    table: str
    key: Mapping[str, str]
    changes: Mapping[str, str]
    new: Mapping[str, str]

    def added(self, same: str, cohort: str) -> str:
        """The UPDATE of the key's first row (rows are partial sums or maxima: a second row of
        the key that a concurrent writer added changes no figure)."""
        # IS NOT DISTINCT FROM takes no index in PostgreSQL: the learner's equality finds rows.
        where = " AND ".join(
            f"{name} = {value}" if name == "user_id" else f"{name} {same} {value}"
            for name, value in self.key.items()
        )
        changes = ", ".join(f"{name} = {value}" for name, value in self.changes.items())
        return (
            f"UPDATE {self.table} SET {changes} WHERE id = (SELECT min(id) FROM {self.table}"  # noqa: S608 (model names)
            f" WHERE {where})"
        ).replace("COHORT", cohort)

    def columns(self) -> str:
        return ", ".join([*self.key, *self.new])

    def values(self, cohort: str) -> str:
        return ", ".join([*self.key.values(), *self.new.values()]).replace("COHORT", cohort)


def _learner_key() -> dict[str, str]:
    return {"user_id": ":user_id", "cohort_id": "COHORT"} | {name: f":{name}" for name in SNAPSHOT}


_ADD_FIGURES = {name: f"{name} + :add_{name}" for name in PARTICIPATION_FIGURES}
_NEW_FIGURES = {name: f":add_{name}" for name in PARTICIPATION_FIGURES}
_COUNTS = _Rollup(
    ParticipationCount.__tablename__,
    {"occurred_at": ":quarter", "track_id": ":track_id", **_learner_key()},
    _ADD_FIGURES,
    _NEW_FIGURES,
)
_MONTHS = _Rollup(
    ParticipationMonth.__tablename__,
    {"month": ":month", **_learner_key()},
    _ADD_FIGURES,
    _NEW_FIGURES,
)
_WEEKS = _Rollup(
    ParticipationWeek.__tablename__,
    {"week": ":week", **_learner_key()},
    _ADD_FIGURES,
    _NEW_FIGURES,
)
_TOTALS = _Rollup(ParticipationTotal.__tablename__, _learner_key(), _ADD_FIGURES, _NEW_FIGURES)
_REACH = _Rollup(
    LessonReach.__tablename__,
    {
        "occurred_at": ":quarter",
        "lesson_id": ":lesson_id",
        "track_id": ":track_id",
        **_learner_key(),
    },
    # The flags are 0 or 1: OR keeps one that is set.
    {
        "started": "started | :reach_started",
        "finished": "finished | :reach_finished",
        "passed": "passed | :reach_passed",
        "furthest": (
            "CASE WHEN furthest IS NULL OR furthest < :reach_furthest"
            " THEN :reach_furthest ELSE furthest END"
        ),
    },
    {name: f":reach_{name}" for name in REACH_FIGURES},
)


@dataclass(frozen=True)
class _Periods:
    """Whether a quarter hour is inside its month, and its week, on every clock."""

    month: bool
    week: bool


def _rollups(rolled: _Periods, reached: bool) -> list[_Rollup]:
    return [
        _COUNTS,
        *([_MONTHS] if rolled.month else []),
        *([_WEEKS] if rolled.week else []),
        _TOTALS,
        *([_REACH] if reached else []),
    ]


def _typed(sql: str, typed: Mapping[str, BindParameter[Any]] | None = None) -> TextClause:
    """``sql`` with its parameters typed as the columns they go to (times, JSON, enums), or as
    ``typed`` has them."""
    names = dict.fromkeys(re.findall(r"(?<![:\w]):(\w+)", sql))
    given = typed or {}
    return text(sql).bindparams(
        *(given[name] if name in given else bindparam(name, type_=_TYPES[name]) for name in names)
    )


@cache
def _activity_insert(*, returning: bool) -> TextClause:
    """The activity's INSERT, its cohort the one named or the learner's joined last."""
    values = ", ".join(
        _COHORT_JOINED_LAST if name == "cohort_id" else f":{name}" for name in _ACTIVITY_COLUMNS
    )
    sql = f"INSERT INTO {Activity.__tablename__} ({', '.join(_ACTIVITY_COLUMNS)}) VALUES ({values})"  # noqa: S608 (model names)
    return _typed(sql + (" RETURNING cohort_id" if returning else ""))


@cache
def _rollup_statements(rolled: _Periods, reached: bool) -> list[tuple[TextClause, TextClause]]:
    """Per roll-up, for SQLite: the UPDATE, and the INSERT when it found no row."""
    return [
        (
            _typed(rollup.added("IS", ":cohort_id")),
            _typed(
                f"INSERT INTO {rollup.table} ({rollup.columns()})"  # noqa: S608 (model names)
                f" VALUES ({rollup.values(':cohort_id')})"
            ),
        )
        for rollup in _rollups(rolled, reached)
    ]


@cache
def _write_and_count_postgresql(
    rolled: _Periods,
    reached: bool,
    also: tuple[TextClause, ...] = (),
    *,
    first_start: bool = False,
    returning: bool = False,
) -> TextClause:
    """The activity's INSERT and every roll-up's UPDATE, or INSERT when it found no row, as one
    statement: data-modifying CTEs (PostgreSQL runs each once, in one snapshot); ``also``, the
    caller's writes alongside (``Alongside``), one more each, the first's RETURNING the
    statement's row when ``returning`` (else it returns 1). ``first_start``: a lesson's start adds to
    ``lessons_started`` only when the learner has no start of it recorded before (the snapshot
    does not see the row this statement writes)."""
    cohort = "(SELECT cohort_id FROM written)"
    steps = [
        f"alongside{'' if number == 0 else f'_{number}'} AS ({write.text})"
        for number, write in enumerate(also)
    ]
    steps.append(f"written AS ({_activity_insert(returning=True).text})")
    added_started = ":add_lessons_started"
    if first_start:
        steps.append(
            "first_start AS (SELECT CASE WHEN EXISTS (SELECT FROM"  # noqa: S608 (model names)
            f" {Activity.__tablename__} WHERE user_id = :user_id AND lesson_id = :lesson_id"
            f" AND verb = :verb) THEN 0 ELSE {added_started} END AS added)"
        )
    for rollup in _rollups(rolled, reached):
        added = rollup.added("IS NOT DISTINCT FROM", cohort)
        new = (
            f"INSERT INTO {rollup.table} ({rollup.columns()})"  # noqa: S608 (model names)
            f" SELECT {rollup.values(cohort)}"
            f" WHERE NOT EXISTS (SELECT FROM {rollup.table}_added)"
        )
        if first_start:
            added, new = (
                sql.replace(added_started, "(SELECT added FROM first_start)")
                for sql in (added, new)
            )
        steps.append(f"{rollup.table}_added AS ({added} RETURNING 1)")
        steps.append(f"{rollup.table}_new AS ({new})")
    result = "SELECT * FROM alongside" if returning else "SELECT 1"
    typed = {name: param for write in also for name, param in write._bindparams.items()}
    return _typed(f"WITH {', '.join(steps)} {result}", typed)


# Rebuilding ----------------------------------------------------------------------------------


def _quarter_sql(dialect: str) -> ColumnElement[Any]:
    """``activities.occurred_at`` down to its quarter hour, stored as the column stores times."""
    seconds = literal(QUARTER_HOUR_SECONDS)
    if dialect == "postgresql":
        epoch = func.extract("epoch", Activity.occurred_at)
        return func.to_timestamp(func.floor(epoch / seconds) * seconds)
    # SQLite keeps times as text, "YYYY-MM-DD HH:MM:SS.ffffff".
    seconds_since = cast(func.strftime("%s", Activity.occurred_at), Integer)
    return func.strftime(
        "%Y-%m-%d %H:%M:%S", seconds_since // seconds * seconds, "unixepoch"
    ).concat(".000000")


def _firsts() -> Select[Any]:
    """The id of each learner's first start and first completion of each lesson."""
    return (
        select(func.min(Activity.id).label("id"))
        .where(Activity.verb.in_((Verb.STARTED, Verb.COMPLETED)), Activity.lesson_id.is_not(None))
        .group_by(Activity.user_id, Activity.lesson_id, Activity.verb)
    )


def _track_completions() -> Select[Any]:
    """The id of the completion after which a learner had every published lesson of a track."""
    published = (
        select(Lesson.track_id, func.count().label("lessons"))
        .where(Lesson.status == LessonStatus.PUBLISHED, Lesson.track_id.is_not(None))
        .group_by(Lesson.track_id)
        .subquery()
    )
    per_lesson = (
        select(Activity.user_id, Activity.lesson_id, func.min(Activity.id).label("id"))
        .where(Activity.verb == Verb.COMPLETED)
        .group_by(Activity.user_id, Activity.lesson_id)
        .subquery()
    )
    return (
        select(func.max(per_lesson.c.id).label("id"))
        .join(Lesson, Lesson.id == per_lesson.c.lesson_id)
        .join(published, published.c.track_id == Lesson.track_id)
        .where(Lesson.status == LessonStatus.PUBLISHED)
        .group_by(per_lesson.c.user_id, Lesson.track_id, published.c.lessons)
        .having(func.count() == published.c.lessons)
    )


async def rebuild(connection: AsyncConnection | AsyncSession) -> int:
    """Replace every count with one computed from ``activities``; returns the rows written."""
    dialect = (
        connection.get_bind().dialect.name
        if isinstance(connection, AsyncSession)
        else connection.dialect.name
    )
    await _lock(connection, dialect)
    firsts, tracks = _firsts(), _track_completions()
    verb, assisted = Activity.verb, Activity.assisted.is_(True)
    own = verb.in_(ACTIVE_VERBS)
    # Non-correlated IN: both databases build the set once (joins made SQLite loop).
    first = Activity.id.in_(firsts)

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    figures: Mapping[str, ColumnElement[Any]] = {
        "joined": total(verb == Verb.JOINED),
        "active": total(own),
        "assisted": total(own & assisted),
        "lessons_started": total((verb == Verb.STARTED) & first),
        "lessons_completed": total(verb == Verb.COMPLETED),
        "tracks_completed": total(Activity.id.in_(tracks)),
        "certificates": total(verb == Verb.CERTIFIED),
        "attended": total(verb == Verb.ATTENDED),
        "assisted_lessons_completed": total((verb == Verb.COMPLETED) & assisted),
        "assisted_attended": total((verb == Verb.ATTENDED) & assisted),
        "reviewed": total(verb == Verb.REVIEWED),
        "listened": total(verb == Verb.LISTENED),
    }
    quarter = _quarter_sql(dialect).label("occurred_at")
    keys = [getattr(Activity, name) for name in KEY_COLUMNS]
    summed = (
        select(quarter, *keys, *(value.label(name) for name, value in figures.items()))
        .select_from(Activity)
        .where(verb.in_(COUNTED_VERBS), Activity.user_id.is_not(None))
        .group_by(quarter, *keys)
    )
    await connection.execute(delete(ParticipationCount))
    await connection.execute(
        insert(ParticipationCount).from_select(["occurred_at", *KEY_COLUMNS, *figures], summed)
    )
    await _rebuild_from_counts(connection, dialect)
    await _rebuild_reach(connection, dialect)
    return int(await connection.scalar(select(func.count()).select_from(ParticipationCount)) or 0)


_FromCounts = type[ParticipationMonth] | type[ParticipationWeek] | type[ParticipationTotal]
_FROM_COUNTS: dict[_FromCounts, str | None] = {
    ParticipationMonth: "month",
    ParticipationWeek: "week",
    ParticipationTotal: None,
}
"""The roll-ups built from the participation counts, each with its period (None: all time)."""


def _period_bounds_sql(
    dialect: str, unit: str
) -> tuple[ColumnElement[Any], list[ColumnElement[bool]]]:
    """The ``unit`` (month: its first day; week: its Monday; UTC) of each participation count,
    and the conditions that keep the counts inside their period as its roll-up holds them
    (``month_interior``, ``week_interior`` in SQL)."""
    when = ParticipationCount.occurred_at
    after, before = (f"{seconds} seconds" for seconds in PERIOD_MARGINS[unit])
    if dialect == "postgresql":
        utc = func.timezone("UTC", when)
        start = func.date_trunc(unit, utc)
        end = start + text(f"interval '1 {unit}'")
        return cast(start, Date), [
            utc >= start + text(f"interval '{after}'"),
            utc < end - text(f"interval '{before}'"),
        ]
    # SQLite keeps UTC times as text, "YYYY-MM-DD HH:MM:SS.ffffff", which compares in order;
    # "weekday 0" moves on to the Sunday that ends the week (or stays on it).
    first = ["start of month"] if unit == "month" else ["start of day", "weekday 0", "-6 days"]
    following = "+1 month" if unit == "month" else "+7 days"
    start_sql = func.datetime(when, *first, f"+{after}")
    end_sql = func.datetime(when, *first, following, f"-{before}")
    return func.date(when, *first), [when >= start_sql, when < end_sql]


def inside_period_sql(dialect: str, unit: str) -> ColumnElement[bool]:
    """Whether a participation count is what the roll-up by ``unit`` (month or week) holds:
    inside its period on the clocks the roll-up serves."""
    return and_(*_period_bounds_sql(dialect, unit)[1])


async def _rebuild_from_counts(
    connection: AsyncConnection | AsyncSession,
    dialect: str,
    tables: Sequence[_FromCounts] = tuple(_FROM_COUNTS),
) -> None:
    """Replace ``tables`` (default: every roll-up of the counts) with the participation counts
    summed by month or week (those inside their period as the roll-up holds them), or in all."""
    keys = [getattr(ParticipationCount, name) for name in LEARNER_KEY_COLUMNS]
    figures = [func.sum(getattr(ParticipationCount, name)) for name in PARTICIPATION_FIGURES]
    columns = [*LEARNER_KEY_COLUMNS, *PARTICIPATION_FIGURES]
    for table in tables:
        unit = _FROM_COUNTS[table]
        summed = select(*keys, *figures).group_by(*keys)
        if unit is not None:
            start, inside = _period_bounds_sql(dialect, unit)
            summed = select(start.label(unit), *keys, *figures).where(*inside)
            summed = summed.group_by(start, *keys)
        await connection.execute(delete(table))
        names = [*([unit] if unit is not None else []), *columns]
        await connection.execute(insert(table).from_select(names, summed))


async def _rebuild_reach(connection: AsyncConnection | AsyncSession, dialect: str) -> None:
    """Replace ``lesson_reach`` with one computed from ``activities``."""
    verb = Activity.verb

    def flag(which: Verb) -> ColumnElement[int]:
        return func.max(case((verb == which, 1), else_=0))

    quarter = _quarter_sql(dialect).label("occurred_at")
    keys = [getattr(Activity, name) for name in REACH_KEY_COLUMNS]
    figures: Mapping[str, ColumnElement[Any]] = {
        "started": flag(Verb.STARTED),
        "furthest": func.max(case((verb == Verb.STEP, Activity.data["step"].as_integer()))),
        "finished": flag(Verb.COMPLETED),
        "passed": flag(Verb.PASSED),
    }
    reached = (
        select(quarter, *keys, *(value.label(name) for name, value in figures.items()))
        .select_from(Activity)
        .where(
            verb.in_(REACH_VERBS), Activity.user_id.is_not(None), Activity.lesson_id.is_not(None)
        )
        .group_by(quarter, *keys)
    )
    await connection.execute(delete(LessonReach))
    await connection.execute(
        insert(LessonReach).from_select(["occurred_at", *REACH_KEY_COLUMNS, *figures], reached)
    )


async def _lock(connection: AsyncConnection | AsyncSession, dialect: str) -> None:
    """Hold writers (and another rebuild) off the counts until this transaction ends.

    SQLite has one writer at a time anyway.
    """
    if dialect == "postgresql":
        for table in (
            ParticipationCount.__tablename__,
            ParticipationMonth.__tablename__,
            ParticipationWeek.__tablename__,
            ParticipationTotal.__tablename__,
            LessonReach.__tablename__,
        ):
            await connection.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))


async def rebuild_if_missing(connection: AsyncConnection) -> bool:
    """Build the counts (and the tables derived from them) when there are activities but no
    counts, or a derived table is missing (a database that just got the table); True when it
    did. Processes starting together build them once."""
    dialect = connection.dialect.name
    await _lock(connection, dialect)
    recorded = await connection.scalar(select(exists().select_from(Activity)))
    if not recorded:
        return False
    if not await connection.scalar(select(exists().select_from(ParticipationCount))):
        await rebuild(connection)
        return True
    missing = [
        table
        for table, unit in _FROM_COUNTS.items()
        if not await connection.scalar(select(exists().select_from(table)))
        # A period's roll-up is empty, rightly, when every count is near its period's ends.
        and (
            unit is None
            or await connection.scalar(
                select(exists().where(*_period_bounds_sql(dialect, unit)[1]))
            )
        )
    ]
    await _rebuild_from_counts(connection, dialect, missing)
    built = bool(missing)
    lessons_recorded = await connection.scalar(
        select(exists().where(Activity.verb.in_(REACH_VERBS), Activity.lesson_id.is_not(None)))
    )
    if lessons_recorded and not await connection.scalar(select(exists().select_from(LessonReach))):
        await _rebuild_reach(connection, dialect)
        built = True
    return built
