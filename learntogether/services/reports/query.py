"""What every report shares: who may see which rows, filters, date windows, periods, the result.

Reports read the append-only ``activities`` record, whose rows carry the learner's role, locale,
country, region, municipality and cohort as they were when the row was written. Filters and groups
therefore use those snapshots: a report keeps describing the past after a learner moves or has
their personal data erased, and no report needs a join to ``users``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    SQLColumnExpression,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.activity_log import (
    following_month,
    following_week,
    month_interior,
    week_interior,
)
from learntogether.db.base import UTCDateTime
from learntogether.db.models import (
    Activity,
    Answer,
    Cohort,
    Lesson,
    LessonReach,
    LessonVersion,
    Membership,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    ParticipationWeek,
    Role,
    Track,
    VersionStatus,
)
from learntogether.db.models.activity import period_clocks
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import N_, FieldProblem, InvalidInput, Text
from learntogether.services.inputs import zone_problem

Cell = str | int | float | bool | None
"""One value of a report row: what JSON and CSV can both carry."""


@dataclass(frozen=True)
class ReportTable:
    """A report's result: rows of plain values under the same columns, in order.

    The API answers ``{"columns": [...], "rows": [...]}`` or the same table as CSV, and the
    charts draw from it.
    """

    name: str
    columns: list[str]
    rows: list[dict[str, Cell]]


class GroupBy(StrEnum):
    """What a report groups learners' records by (their snapshot when the record was written)."""

    COHORT = "cohort"
    MUNICIPALITY = "municipality"
    REGION = "region"
    COUNTRY = "country"
    ROLE = "role"
    LOCALE = "locale"


Source = type[Activity] | type[ParticipationCount] | type[LessonReach]
"""What a report reads: the activity record, or its roll-ups (the same snapshot columns)."""
PeriodRollup = type[ParticipationMonth] | type[ParticipationWeek]
Snapshot = Source | PeriodRollup | type[ParticipationTotal]
"""Anything with the snapshot columns (the months' and weeks' roll-ups have no moment, the
totals no time)."""

GROUP_NAMES: dict[GroupBy, str] = {
    GroupBy.COHORT: "cohort_id",
    GroupBy.MUNICIPALITY: "municipality",
    GroupBy.REGION: "region",
    GroupBy.COUNTRY: "country",
    GroupBy.ROLE: "role",
    GroupBy.LOCALE: "locale",
}


def group_column(group_by: GroupBy, source: Snapshot = Activity) -> ColumnElement[Any]:
    column: ColumnElement[Any] = getattr(source, GROUP_NAMES[group_by]).expression
    return column


class Period(StrEnum):
    WEEK = "week"
    """Monday to Sunday."""
    MONTH = "month"


def cohort_condition(
    actor: Actor, cohort_column: SQLColumnExpression[int | None]
) -> ColumnElement[bool]:
    """Records of the actor's cohorts (every record, with a cohort or not, for no limit)."""
    if actor.cohort_ids is None:
        return true()
    return cohort_column.in_(sorted(actor.cohort_ids))


def member_condition(actor: Actor, user_column: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Learners who are members of one of the actor's cohorts (for tables without a cohort)."""
    if actor.cohort_ids is None:
        return true()
    members = select(Membership.user_id).where(Membership.cohort_id.in_(sorted(actor.cohort_ids)))
    return user_column.in_(members)


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def wrong(field: str, message: Text) -> InvalidInput:
    """A report's input that names nothing known; ``field`` is the parameter's name, ``message``
    marked with ``N_``: the API says it in English, the console in the reader's language."""
    return InvalidInput(message, [FieldProblem(f"$.{field}", message)])


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; InvalidInput (``tz``) for an unknown one."""
    if zone_problem(name) is not None:
        raise wrong(
            "tz",
            N_("unknown time zone {name!r} (an IANA name, e.g. Europe/Sofia)", name=name[:64]),
        )
    return ZoneInfo(name)


@dataclass(frozen=True)
class Window:
    """From ``since`` (inclusive) to ``until`` (exclusive); None leaves that side open."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of_dates(cls, start: date | None, end: date | None, zone: ZoneInfo) -> Window:
        """Whole days from ``start`` through ``end`` (both included) as midnights in ``zone``."""
        if start is not None and end is not None and end < start:
            raise wrong("to", N_("{end} is before the start {start}", end=end, start=start))

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

        return cls(
            since=midnight(start) if start is not None else None,
            until=midnight(end + timedelta(days=1)) if end is not None else None,
        )

    def conditions(self, column: SQLColumnExpression[datetime]) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(column >= self.since)
        if self.until is not None:
            found.append(column < self.until)
        return found


@dataclass(frozen=True)
class Calendar:
    """A period's roll-up of the participation counts and its periods (UTC)."""

    period: Period
    rollup: PeriodRollup
    column: ColumnElement[date]
    """The period's first day in ``rollup``."""
    interior: Callable[[date], tuple[datetime, datetime]]
    """What of a period (its first day) the roll-up holds: what is in that period on every clock
    it serves (``clocks``)."""
    following: Callable[[date], date]

    @property
    def clocks(self) -> tuple[int, int]:
        """The UTC offsets (seconds, east positive; from, to) the roll-up serves."""
        return period_clocks(self.period.value)

    def serves(self, zone: ZoneInfo, first: date, last: date) -> bool:
        """Whether the periods ``first`` to ``last`` (first days, UTC) of the roll-up are whole
        periods in ``zone``: its offsets over them are among the roll-up's ``clocks``."""
        since = datetime.combine(first, time(), UTC)
        until = datetime.combine(self.following(last), time(), UTC)
        lowest, highest = self.clocks
        return all(lowest <= offset <= highest for _, offset in offset_changes(zone, since, until))


CALENDARS = {
    Period.MONTH: Calendar(
        Period.MONTH,
        ParticipationMonth,
        ParticipationMonth.month.expression,
        month_interior,
        following_month,
    ),
    Period.WEEK: Calendar(
        Period.WEEK,
        ParticipationWeek,
        ParticipationWeek.week.expression,
        week_interior,
        following_week,
    ),
}


@dataclass(frozen=True)
class PeriodSplit:
    """Where a report over a window reads its rows: a period's roll-up, the counts, or both."""

    periods: tuple[date, date] | None
    """The first and last period (first days, UTC) read from the roll-up; None: no period."""
    ranges: list[tuple[datetime | None, datetime | None]]
    """The stretches of time read from the counts instead, each [since, until) (None: open)."""


def split_periods(
    window: Window, calendar: Calendar, first: date | None, last: date | None, *, zone: ZoneInfo
) -> PeriodSplit:
    """Which of the periods ``first`` to ``last`` (the roll-up's) a report over ``window`` in
    ``zone`` reads from the ``calendar``'s roll-up: those whose inside (``calendar.interior``) is
    in the window, when the roll-up serves ``zone``'s clock (``Calendar.serves``), else none.
    The counts give the rest of the window: its edges and the hours near the periods' ends."""
    whole = PeriodSplit(None, [(window.since, window.until)])
    if first is None or last is None or not calendar.serves(zone, first, last):
        return whole
    inside: list[tuple[date, datetime, datetime]] = []
    period = first
    while period <= last:
        start, end = calendar.interior(period)
        if (window.since is None or window.since <= start) and (
            window.until is None or end <= window.until
        ):
            inside.append((period, start, end))
        period = calendar.following(period)
    if not inside:
        return whole
    # A window is one stretch of time, so the periods inside it follow one another.
    ranges: list[tuple[datetime | None, datetime | None]] = [(window.since, inside[0][1])]
    ranges += [(before[2], after[1]) for before, after in pairwise(inside)]
    ranges.append((inside[-1][2], window.until))
    return PeriodSplit((inside[0][0], inside[-1][0]), ranges)


@dataclass(frozen=True)
class Filters:
    """Which records count, by the learner's snapshot when the record was written.

    ``cohort`` is a cohort code and ``track`` a track slug; the rest compare as stored.
    """

    country: str | None = None
    region: str | None = None
    municipality: str | None = None
    role: Role | None = None
    cohort: str | None = None
    track: str | None = None


@dataclass(frozen=True)
class Criteria:
    """Filters with codes and slugs resolved to ids, a window and the reader: ready for SQL."""

    country: str | None = None
    region: str | None = None
    municipality: str | None = None
    role: Role | None = None
    cohort_id: int | None = None
    track_id: int | None = None
    window: Window = field(default_factory=Window)
    actor: Actor = SYSTEM

    def conditions(self, source: Snapshot = Activity) -> list[ColumnElement[bool]]:
        """The WHERE clause on ``activities`` (or on their counts); on the months' and totals'
        roll-ups, which have no moments, all but the window."""
        # No "WHERE true" for a reader of every cohort: PostgreSQL reads a roll-up with any
        # WHERE in a UNION ALL (``participation._counted``) in its own subquery, not in the
        # order of its index.
        found: list[ColumnElement[bool]] = []
        if self.actor.cohort_ids is not None:
            found.append(cohort_condition(self.actor, source.cohort_id))
        moment = getattr(source, "occurred_at", None)
        if moment is not None:
            found.extend(self.window.conditions(moment))
        for name, value in (
            ("country", self.country),
            ("region", self.region),
            ("municipality", self.municipality),
            ("role", self.role),
            ("cohort_id", self.cohort_id),
            ("track_id", self.track_id),
        ):
            if value is not None:
                found.append(getattr(source, name) == value)
        return found


async def find_track_id(session: AsyncSession, slug: str) -> int:
    """The id of the track; InvalidInput (``track``) for an unknown slug."""
    track_id = await session.scalar(select(Track.id).where(Track.slug == slug))
    if track_id is None:
        raise wrong("track", N_("no track '{slug}'", slug=slug))
    return track_id


async def find_cohort_id(session: AsyncSession, code: str, actor: Actor = SYSTEM) -> int:
    """The id of the cohort; InvalidInput (``cohort``) for an unknown code, and for an actor
    limited to some cohorts the same refusal for an unknown code as for another's cohort."""
    cohort_id = await session.scalar(select(Cohort.id).where(Cohort.code == code))
    if actor.cohort_ids is not None and cohort_id not in actor.cohort_ids:
        raise actor.out_of_reach(
            missing=N_("no cohort with code '{code}'", code=code),
            not_yours=N_("Cohort '{code}' is not one of your cohorts.", code=code),
        )
    if cohort_id is None:
        raise wrong("cohort", N_("no cohort with code '{code}'", code=code))
    return cohort_id


async def resolve(
    session: AsyncSession,
    filters: Filters,
    *,
    window: Window | None = None,
    actor: Actor = SYSTEM,
) -> Criteria:
    """Look up the cohort and track the filters name; InvalidInput for either that does not
    exist."""
    return Criteria(
        country=filters.country,
        region=filters.region,
        municipality=filters.municipality,
        role=filters.role,
        cohort_id=await find_cohort_id(session, filters.cohort, actor) if filters.cohort else None,
        track_id=await find_track_id(session, filters.track) if filters.track else None,
        window=window or Window(),
        actor=actor,
    )


async def cohort_codes(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    """The codes of the cohorts with these ids (grouped rows name cohorts by code)."""
    wanted = sorted({cohort_id for cohort_id in ids if cohort_id is not None})
    if not wanted:
        return {}
    rows = await session.execute(select(Cohort.id, Cohort.code).where(Cohort.id.in_(wanted)))
    return {cohort_id: code for cohort_id, code in rows}


async def group_labels(
    session: AsyncSession, group_by: GroupBy | None, values: Iterable[Any]
) -> dict[Any, Cell]:
    """How each grouped value is shown: cohorts by code, roles by name, the rest as stored."""
    values = list(values)
    if group_by is GroupBy.COHORT:
        codes = await cohort_codes(session, values)
        return {value: codes.get(value) if value is not None else None for value in values}
    return {value: value.value if isinstance(value, StrEnum) else value for value in values}


def sort_key(value: Cell) -> tuple[bool, str]:
    """Groups in order of their label, the group without a value last."""
    return (value is None, "" if value is None else str(value))


# Periods -------------------------------------------------------------------------------------


async def period_start(
    session: AsyncSession, period: Period, zone: ZoneInfo, window: Window, source: Source = Activity
) -> ColumnElement[date]:
    """The first day of the week or month (in ``zone``) each row of ``source`` falls in, as an
    SQL date.

    PostgreSQL truncates the local time (``date_trunc`` over ``timezone(zone, occurred_at)``).
    SQLite has no time zone data, so the UTC offsets in force over the activities' time span are
    looked up here and applied with a CASE on the instant each offset starts.
    """
    if dialect_name(session) == "postgresql":
        local = func.timezone(
            bindparam("report_zone", zone.key, literal_execute=True), source.occurred_at
        )
        unit = bindparam("report_period", period.value, String, literal_execute=True)
        return cast(func.date_trunc(unit, local), Date)
    shifted: list[ColumnElement[Any]] = [source.occurred_at.expression]
    offsets = await _offsets_in_use(session, zone, window, source)
    if offsets != [(None, 0)]:
        shifted.append(_sqlite_offset(offsets, source))
    modifiers = ["start of month"] if period is Period.MONTH else ["weekday 0", "-6 days"]
    return type_coerce(func.date(*shifted, *modifiers), Date)


def _utc_offset(zone: ZoneInfo, instant: int) -> int:
    moment = datetime.fromtimestamp(instant, UTC).astimezone(zone)
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_changes(
    zone: ZoneInfo, since: datetime, until: datetime
) -> list[tuple[int | None, int]]:
    """The UTC offsets of ``zone`` from ``since`` to ``until``: [(from epoch second, seconds)].

    The first entry starts at None (any earlier time). Days are probed for a change and each
    change is then bisected to the second; zones change their offset at most once a day.
    """
    day = 86_400
    first, last = int(since.timestamp()) - day, int(until.timestamp()) + day
    offsets: list[tuple[int | None, int]] = [(None, _utc_offset(zone, first))]
    probe = first
    while probe < last:
        following = probe + day
        offset = _utc_offset(zone, following)
        if offset != offsets[-1][1]:
            before, after = probe, following
            while after - before > 1:
                middle = (before + after) // 2
                if _utc_offset(zone, middle) == offsets[-1][1]:
                    before = middle
                else:
                    after = middle
            offsets.append((after, offset))
        probe = following
    return offsets


async def _offsets_in_use(
    session: AsyncSession, zone: ZoneInfo, window: Window, source: Source
) -> list[tuple[int | None, int]]:
    since, until = window.since, window.until
    if since is None or until is None:
        earliest, latest = (
            await session.execute(
                select(func.min(source.occurred_at), func.max(source.occurred_at)).where(
                    *window.conditions(source.occurred_at)
                )
            )
        ).one()
        since = since or earliest
        until = until or latest
    if since is None or until is None:
        return [(None, _utc_offset(zone, 0))]
    return offset_changes(zone, since, until)


def _sqlite_offset(offsets: Sequence[tuple[int | None, int]], source: Source) -> ColumnElement[str]:
    """A SQLite date modifier ('+7200 seconds') chosen by the instant a row happened at."""

    def modifier(seconds: int) -> str:
        return f"{seconds:+d} seconds"

    if len(offsets) == 1:
        return literal(modifier(offsets[0][1]))
    whens = [
        (
            source.occurred_at < literal(datetime.fromtimestamp(start, UTC), UTCDateTime),
            modifier(previous),
        )
        for (_, previous), (start, _) in pairwise(offsets)
        if start is not None
    ]
    return case(*whens, else_=modifier(offsets[-1][1]))


# Answers -------------------------------------------------------------------------------------


def first_choice(answer: type[Answer] = Answer) -> ColumnElement[int]:
    """The first chosen option index (or the likert point) of an answer."""
    value: ColumnElement[int] = answer.choice[0].as_integer()
    return value


# Lessons -------------------------------------------------------------------------------------


async def newest_documents(
    session: AsyncSession, lesson_ids: Sequence[int]
) -> dict[int, tuple[int, dict[str, Any]]]:
    """Each lesson's newest published version (else newest version): (version id, document)."""
    if not lesson_ids:
        return {}
    rows = await session.execute(
        select(
            LessonVersion.lesson_id,
            LessonVersion.id,
            LessonVersion.document,
            LessonVersion.status,
            LessonVersion.number,
        ).where(LessonVersion.lesson_id.in_(lesson_ids))
    )
    best: dict[int, tuple[tuple[bool, int], int, dict[str, Any]]] = {}
    for lesson_id, version_id, document, status, number in rows:
        rank = (status is VersionStatus.PUBLISHED, number)
        if lesson_id not in best or rank > best[lesson_id][0]:
            best[lesson_id] = (rank, version_id, document)
    return {
        lesson_id: (version_id, document) for lesson_id, (_, version_id, document) in best.items()
    }


def lessons_of_track(track_id: int | None) -> Select[int, str, str]:
    """The id and slug of the lessons of a track (every track: None) and the track's slug, in
    curriculum order."""
    query = select(Lesson.id, Lesson.slug, Track.slug).join(Track, Track.id == Lesson.track_id)
    if track_id is not None:
        query = query.where(Lesson.track_id == track_id)
    return query.order_by(Track.position, Track.slug, Lesson.position, Lesson.slug)


def rounded(value: float | None, digits: int = 3) -> float | None:
    return round(value, digits) if value is not None else None


def share(part: int, whole: int) -> float | None:
    return rounded(part / whole) if whole else None
