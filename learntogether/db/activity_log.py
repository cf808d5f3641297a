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
by month read instead, with the counts near month boundaries, and in all per learner in
``participation_totals``, which all-time figures read. Starts, steps, completions and
passes also go to ``lesson_reach`` (how far a learner got in a lesson, per quarter hour), which
the funnel reads. ``rebuild`` computes these tables from ``activities`` (``learntogether db
recount``, the benchmark's bulk seed), ``rebuild_if_missing`` after the migration that created
one.

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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypedDict, Unpack

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from learntogether.db.models import (
    Activity,
    Lesson,
    LessonReach,
    LessonStatus,
    Membership,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    Role,
    Verb,
)
from learntogether.db.models.activity import (
    MONTH_MARGIN_SECONDS,
    PARTICIPATION_FIGURES,
    QUARTER_HOUR_SECONDS,
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
"""What ``participation_months`` (besides the month) and ``participation_totals`` sum by."""

REACH_VERBS = (Verb.STARTED, Verb.STEP, Verb.COMPLETED, Verb.PASSED)
"""Verbs that say how far a learner got in a lesson (``lesson_reach``)."""
REACH_FLAGS = {Verb.STARTED: "started", Verb.COMPLETED: "finished", Verb.PASSED: "passed"}
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


async def latest_cohort_ids(session: AsyncSession, user_ids: Collection[int]) -> dict[int, int]:
    """Each learner's cohort joined last (the latest join; the later membership on a tie)."""
    if not user_ids:
        return {}
    memberships = await session.execute(
        select(Membership.user_id, Membership.cohort_id)
        .where(Membership.user_id.in_(user_ids))
        .order_by(Membership.joined_at, Membership.id)
    )
    return {user_id: cohort_id for user_id, cohort_id in memberships}


async def latest_cohort_id(session: AsyncSession, user_id: int) -> int | None:
    """The cohort the learner joined last, or None."""
    return (await latest_cohort_ids(session, [user_id])).get(user_id)


async def record(
    session: AsyncSession,
    learner: Learner,
    verb: Verb,
    *,
    cohort_id: int | None = None,
    occurred_at: datetime | None = None,
    **details: Unpack[Details],
) -> Activity:
    """Record what ``learner`` did or received, with who they are now, and count it.

    ``cohort_id`` defaults to the cohort the learner joined last; ``occurred_at`` to now.
    """
    (written,) = await record_many(
        session, [Entry(learner, verb, cohort_id, details)], occurred_at=occurred_at
    )
    return written


async def record_many(
    session: AsyncSession, entries: Sequence[Entry], *, occurred_at: datetime | None = None
) -> list[Activity]:
    """Record ``entries`` in one flush, in order, all at ``occurred_at`` (default now), and
    count them."""
    latest = await latest_cohort_ids(
        session, {entry.learner.id for entry in entries if entry.cohort_id is None}
    )
    written = [
        Activity(
            **row_values(
                entry.learner,
                entry.verb,
                cohort_id=entry.cohort_id
                if entry.cohort_id is not None
                else latest.get(entry.learner.id),
                occurred_at=occurred_at,
                **entry.details,
            )
        )
        for entry in entries
    ]
    session.add_all(written)
    await session.flush()
    for activity in written:
        await _count(session, activity)
        await _reach(session, activity)
    return written


# Counting as it is written ---------------------------------------------------------------------


def quarter_of(moment: datetime) -> datetime:
    """The start (UTC) of the quarter hour ``moment`` falls in."""
    seconds = int(moment.timestamp()) // QUARTER_HOUR_SECONDS * QUARTER_HOUR_SECONDS
    return datetime.fromtimestamp(seconds, UTC)


async def _count(session: AsyncSession, row: Activity) -> None:
    """Count the activity ``row`` (already flushed, so it has its id) in its learner's quarter."""
    if row.verb not in COUNTED_VERBS or row.user_id is None:
        return
    figures = {name: value for name, value in (await _figures(session, row)).items() if value != 0}
    key = {name: getattr(row, name) for name in KEY_COLUMNS}
    key["occurred_at"] = quarter_of(row.occurred_at)
    await _add_to(session, ParticipationCount, key, figures)
    await _count_month(session, key, figures)
    learner = {name: key[name] for name in LEARNER_KEY_COLUMNS}
    await _add_to(session, ParticipationTotal, learner, figures)


def month_of(moment: datetime) -> date:
    """The first day of the month (UTC) ``moment`` falls in."""
    return moment.astimezone(UTC).date().replace(day=1)


def month_interior(month: date) -> tuple[datetime, datetime]:
    """The part of ``month`` (its first day, UTC) that is in the same month on every clock:
    from ``MONTH_MARGIN_SECONDS`` after it begins to as long before it ends."""
    margin = timedelta(seconds=MONTH_MARGIN_SECONDS)
    following = (month + timedelta(days=31)).replace(day=1)
    start = datetime.combine(month, datetime.min.time(), UTC)
    end = datetime.combine(following, datetime.min.time(), UTC)
    return start + margin, end - margin


async def _count_month(
    session: AsyncSession, key: Mapping[str, Any], figures: Mapping[str, int]
) -> None:
    """Add a quarter hour's ``figures`` to its learner's month, when it is inside the month on
    every clock (see ``month_interior``)."""
    quarter: datetime = key["occurred_at"]
    month = month_of(quarter)
    start, end = month_interior(month)
    if not start <= quarter < end:
        return
    month_key = {name: key[name] for name in LEARNER_KEY_COLUMNS} | {"month": month}
    await _add_to(session, ParticipationMonth, month_key, figures)


async def _add_to(
    session: AsyncSession,
    model: type[ParticipationCount] | type[ParticipationMonth] | type[ParticipationTotal],
    key: Mapping[str, Any],
    figures: Mapping[str, int],
) -> None:
    """Add ``figures`` to the row of ``model`` with ``key``, or write one."""
    same_key = [getattr(model, name).is_not_distinct_from(value) for name, value in key.items()]
    # IS NOT DISTINCT FROM takes no index in PostgreSQL: the learner's equality finds the rows.
    same_key.append(model.user_id == key["user_id"])
    # One row of the key takes the figures (rows are partial sums: a second row that a
    # concurrent writer added for the same key changes no total).
    target = select(func.min(model.id)).where(*same_key).scalar_subquery()
    updated = await session.execute(
        update(model)
        .where(model.id == target)
        .values({name: getattr(model, name) + value for name, value in figures.items()})
        .execution_options(synchronize_session=False)
    )
    if getattr(updated, "rowcount", 0) == 0:
        await session.execute(insert(model).values(**key, **figures))


def step_of(row: Activity) -> int | None:
    """The step index a ``step`` record moved to (as the funnel reads ``data``)."""
    step = (row.data or {}).get("step") if row.verb is Verb.STEP else None
    return int(step) if isinstance(step, int | str) and str(step).lstrip("-").isdigit() else None


async def _reach(session: AsyncSession, row: Activity) -> None:
    """Note how far the learner of ``row`` got in its lesson, in their quarter hour's row."""
    if row.verb not in REACH_VERBS or row.user_id is None or row.lesson_id is None:
        return
    key = {name: getattr(row, name) for name in REACH_KEY_COLUMNS}
    key["occurred_at"] = quarter_of(row.occurred_at)
    same_key = [
        getattr(LessonReach, name).is_not_distinct_from(value) for name, value in key.items()
    ]
    target = select(func.min(LessonReach.id)).where(*same_key).scalar_subquery()
    flag = REACH_FLAGS.get(row.verb)
    step = step_of(row)
    changes: dict[str, Any] = {flag: 1} if flag is not None else {}
    if step is not None:
        further = LessonReach.furthest.is_(None) | (LessonReach.furthest < step)
        changes["furthest"] = case((further, step), else_=LessonReach.furthest)
    updated = await session.execute(
        update(LessonReach)
        .where(LessonReach.id == target)
        # No figure to raise still finds out whether the row is there.
        .values(changes or {"started": LessonReach.started})
        .execution_options(synchronize_session=False)
    )
    if getattr(updated, "rowcount", 0) == 0:
        figures = {"started": 0, "finished": 0, "passed": 0, "furthest": step}
        if flag is not None:
            figures[flag] = 1
        await session.execute(insert(LessonReach).values(**key, **figures))


async def _figures(session: AsyncSession, row: Activity) -> dict[str, int]:
    verb, assisted = row.verb, row.assisted
    own = verb in ACTIVE_VERBS
    first = (
        verb in (Verb.STARTED, Verb.COMPLETED)
        and row.lesson_id is not None
        and not await _done_before(session, row)
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


async def _done_before(session: AsyncSession, row: Activity) -> bool:
    """Whether the learner has an earlier record of the same verb for the same lesson."""
    earlier = await session.scalar(
        select(
            exists().where(
                Activity.user_id == row.user_id,
                Activity.lesson_id == row.lesson_id,
                Activity.verb == row.verb,
                Activity.id < row.id,
            )
        )
    )
    return bool(earlier)


async def _completes_track(session: AsyncSession, row: Activity) -> bool:
    """Whether every lesson published in the completed lesson's track is now completed, for the
    first time."""
    lesson = await session.get(Lesson, row.lesson_id)
    if lesson is None or lesson.status is not LessonStatus.PUBLISHED or lesson.track_id is None:
        return False
    completed = (
        select(Activity.lesson_id)
        .where(
            Activity.user_id == row.user_id,
            Activity.verb == Verb.COMPLETED,
            Activity.lesson_id.is_not(None),
            Activity.id <= row.id,
        )
        .scalar_subquery()
    )
    counted_before = await session.scalar(
        select(
            exists().where(
                ParticipationCount.user_id == row.user_id,
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
                Lesson.id.not_in(completed),
            )
        )
    )
    return not missing


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


def _month_bounds_sql(dialect: str) -> tuple[ColumnElement[Any], list[ColumnElement[bool]]]:
    """The month (its first day, UTC) of each participation count, and the conditions that keep
    the counts inside their month on every clock (``month_interior`` in SQL)."""
    when = ParticipationCount.occurred_at
    margin = f"{MONTH_MARGIN_SECONDS} seconds"
    if dialect == "postgresql":
        utc = func.timezone("UTC", when)
        start = func.date_trunc("month", utc)
        interval = text(f"interval '{margin}'")
        end = start + text("interval '1 month'")
        return cast(start, Date), [utc >= start + interval, utc < end - interval]
    # SQLite keeps UTC times as text, "YYYY-MM-DD HH:MM:SS.ffffff", which compares in order.
    start_sql = func.datetime(when, "start of month", f"+{margin}")
    end_sql = func.datetime(when, "start of month", "+1 month", f"-{margin}")
    return func.date(when, "start of month"), [when >= start_sql, when < end_sql]


async def _rebuild_from_counts(connection: AsyncConnection | AsyncSession, dialect: str) -> None:
    """Replace ``participation_months`` and ``participation_totals`` with the participation
    counts summed by month (those inside their month on every clock) and in all."""
    month, inside = _month_bounds_sql(dialect)
    keys = [getattr(ParticipationCount, name) for name in LEARNER_KEY_COLUMNS]
    figures = [func.sum(getattr(ParticipationCount, name)) for name in PARTICIPATION_FIGURES]
    columns = [*LEARNER_KEY_COLUMNS, *PARTICIPATION_FIGURES]
    by_month = select(month.label("month"), *keys, *figures).where(*inside).group_by(month, *keys)
    await connection.execute(delete(ParticipationMonth))
    await connection.execute(insert(ParticipationMonth).from_select(["month", *columns], by_month))
    in_all = select(*keys, *figures).group_by(*keys)
    await connection.execute(delete(ParticipationTotal))
    await connection.execute(insert(ParticipationTotal).from_select(columns, in_all))


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
    built = False
    if not await connection.scalar(select(exists().select_from(ParticipationTotal))):
        await _rebuild_from_counts(connection, dialect)
        built = True
    lessons_recorded = await connection.scalar(
        select(exists().where(Activity.verb.in_(REACH_VERBS), Activity.lesson_id.is_not(None)))
    )
    if lessons_recorded and not await connection.scalar(select(exists().select_from(LessonReach))):
        await _rebuild_reach(connection, dialect)
        built = True
    return built
