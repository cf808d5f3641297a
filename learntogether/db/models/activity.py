"""The append-only record of participation: the source of every report and of xAPI export."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column
from learntogether.db.models.users import Role


class Verb(StrEnum):
    JOINED = "joined"
    STARTED = "started"
    STEP = "step"
    ANSWERED = "answered"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    ATTENDED = "attended"
    REMINDED = "reminded"
    NUDGED = "nudged"
    CERTIFIED = "certified"
    REVIEWED = "reviewed"
    """A spaced review of questions answered wrong, finished."""
    LISTENED = "listened"
    """A lesson step sent as its recording, to a learner who would rather listen."""


class Activity(Base):
    """One thing a learner did or received, with who they were at that moment.

    Role, locale and place are copied in when the row is written, so reports group millions of
    rows without joins and keep describing the past even after a learner changes or is erased.
    Rows are never updated or deleted; the foreign keys therefore have no ``ondelete`` action.
    """

    __tablename__ = "activities"
    __table_args__ = (
        enum_check("verb", Verb),
        enum_check("role", Role),
        CheckConstraint("score >= 0", name="score_not_negative"),
        # Reports: a period of everything, a period of one verb, one learner's history, one
        # cohort's period, one lesson's funnel.
        Index("ix_activities_occurred_at", "occurred_at"),
        Index("ix_activities_verb_occurred_at", "verb", "occurred_at"),
        Index("ix_activities_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_activities_cohort_id_occurred_at", "cohort_id", "occurred_at"),
        Index("ix_activities_lesson_id_verb", "lesson_id", "verb"),
        # Participation counts: a learner's first completion of a lesson, and of a track.
        Index(
            "ix_activities_completed_user_id_lesson_id",
            "user_id",
            "lesson_id",
            "id",
            postgresql_where=text("verb = 'completed'"),
            sqlite_where=text("verb = 'completed'"),
        ),
    )

    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = created_at_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verb: Mapped[Verb] = enum_column(Verb)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    lesson_version_id: Mapped[int | None] = mapped_column(ForeignKey("lesson_versions.id"))
    question_key: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None]
    assisted: Mapped[bool] = mapped_column(default=False, server_default=false())
    role: Mapped[Role | None] = enum_column(Role, nullable=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    municipality: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any] | None] = json_column(nullable=True)


QUARTER_HOUR_SECONDS = 900

PARTICIPATION_FIGURES = (
    "joined",
    "active",
    "assisted",
    "lessons_started",
    "lessons_completed",
    "tracks_completed",
    "certificates",
    "attended",
    "assisted_lessons_completed",
    "assisted_attended",
    "reviewed",
    "listened",
)
"""The figures ``participation_counts`` keeps per learner and quarter hour."""


class Counted:
    """A learner's figures summed over a stretch of time, with the snapshot they were made in:
    the columns ``participation_counts`` and its roll-ups share."""

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    role: Mapped[Role | None] = enum_column(Role, nullable=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    municipality: Mapped[str | None] = mapped_column(String(128))
    # Records (learners are counted by user_id where a figure is greater than zero).
    joined: Mapped[int] = mapped_column(default=0)
    active: Mapped[int] = mapped_column(default=0)
    assisted: Mapped[int] = mapped_column(default=0)
    """Activities of the learner's own that were assisted."""
    lessons_started: Mapped[int] = mapped_column(default=0)
    """Lessons started for the first time (reading a lesson again is not a new start)."""
    lessons_completed: Mapped[int] = mapped_column(default=0)
    tracks_completed: Mapped[int] = mapped_column(default=0)
    certificates: Mapped[int] = mapped_column(default=0)
    attended: Mapped[int] = mapped_column(default=0)
    assisted_lessons_completed: Mapped[int] = mapped_column(default=0)
    assisted_attended: Mapped[int] = mapped_column(default=0)
    reviewed: Mapped[int] = mapped_column(default=0)
    """Spaced reviews finished."""
    listened: Mapped[int] = mapped_column(default=0)
    """Lesson steps heard as recordings."""


class ParticipationCount(Counted, Base):
    """What one learner did in one quarter of an hour, with the same snapshot, counted.

    The participation report reads these instead of millions of ``activities``: a learner's few
    minutes in the bot (a dozen rows there) are one row here. Each row sums the activities of
    one learner, quarter hour (UTC; every time zone's offset is a whole number of quarter hours,
    so days, weeks and months anywhere begin on a row boundary), track and snapshot (cohort,
    role, locale, place). Rows are partial sums: two rows with the same key only mean the
    figures are split between them, so writers never need a lock to add one. Written with each
    activity (``db/activity_log.py``) and rebuilt from ``activities`` when missing.
    """

    __tablename__ = "participation_counts"
    __table_args__ = (
        enum_check("role", Role),
        # The writer finds the learner's current row; reports group by region or cohort from
        # these alone, each learner's rows in a row. The figures are key columns, not INCLUDEd,
        # so that SQLite (which has no INCLUDE) covers the query from the index too: without,
        # it looked up each of 457,000 rows in the table.
        Index("ix_participation_counts_user_id_occurred_at", "user_id", "occurred_at"),
        Index(
            "ix_participation_counts_region_user_id",
            "region",
            "user_id",
            "occurred_at",
            *PARTICIPATION_FIGURES,
            "cohort_id",
            "track_id",
        ),
        Index(
            "ix_participation_counts_cohort_id_user_id",
            "cohort_id",
            "user_id",
            "occurred_at",
            *PARTICIPATION_FIGURES,
            "track_id",
        ),
        # Reports over a window of days (the dashboard's last 7 and 30 days, its 12 weeks)
        # read the window's rows only, from the index alone.
        Index(
            "ix_participation_counts_occurred_at",
            "occurred_at",
            "user_id",
            "cohort_id",
            *PARTICIPATION_FIGURES,
            "track_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The quarter hour (its start, UTC) the counted activities occurred in."""
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))


PERIOD_MARGINS = {"month": (14 * 3600, 14 * 3600), "week": (0, 3 * 3600)}
"""For each period roll-up, how far (seconds) after its period begins (UTC) and before it ends the
quarter hours it holds are. Those quarter hours are in the same period on every clock from
``after`` hours behind UTC to ``before`` ahead, always a whole number of quarter hours off
(``period_clocks``).

Months hold every clock: since 1990 every zone of the tz database is between 12 hours behind UTC
(Etc/GMT+12; Pacific/Pago_Pago is -11) and 14 ahead (Pacific/Kiritimati); one margin of 14 hours
on both sides keeps it simple. Weeks hold the programme's clocks, from UTC to three hours ahead
(Western, Central and Eastern Europe, Turkey): from a Monday's midnight (UTC) to three hours
before the next, so a report by week in those zones reads only the three hours before each
Monday from the counts, not 28; a report by week on another clock reads the counts alone."""


def period_clocks(unit: str) -> tuple[int, int]:
    """The UTC offsets (seconds, east positive; from, to) on which the roll-up by ``unit`` (month
    or week) holds whole periods."""
    after, before = PERIOD_MARGINS[unit]
    return -after, before


def _period_indexes(table: str, period: str) -> tuple[Index, ...]:
    """The indexes of a roll-up by ``period`` (its column). The writer finds the learner's row.
    Reports by region, by cohort, or by neither, read the rows from an index alone (figures as
    key columns, for SQLite as in the counts) in the order they are grouped in (group, period,
    then learner): the database merges them with the counts near period ends, sorted apart,
    instead of sorting every row (``docs/BENCHMARKS.md``)."""
    return (
        Index(f"ix_{table}_user_id_{period}", "user_id", period),
        Index(
            f"ix_{table}_region_{period}",
            "region",
            period,
            "user_id",
            *PARTICIPATION_FIGURES,
            "cohort_id",
        ),
        Index(
            f"ix_{table}_cohort_id_{period}", "cohort_id", period, "user_id", *PARTICIPATION_FIGURES
        ),
        Index(f"ix_{table}_{period}", period, "user_id", "cohort_id", *PARTICIPATION_FIGURES),
    )


class ParticipationMonth(Counted, Base):
    """What one learner did in one month (UTC), away from the month's ends, counted.

    The same sums as ``participation_counts`` (the same key but the track, the same figures),
    but per calendar month and only for the quarter hours at least 14 hours (``PERIOD_MARGINS``)
    after the month began and before it ends: those are in the same month in every time zone,
    so a report by month in any zone reads them from here and only the quarter hours near month
    boundaries from the counts. A learner's month is a row (one per cohort and snapshot) here
    instead of dozens of quarter hours there; reports of one track read the counts. Written
    with each activity (``db/activity_log.py``) and rebuilt from the counts when missing.
    """

    __tablename__ = "participation_months"
    __table_args__ = (enum_check("role", Role), *_period_indexes(__tablename__, "month"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    """The month's first day (UTC)."""


class ParticipationWeek(Counted, Base):
    """What one learner did in one week (Monday to Sunday, UTC), away from the week's ends,
    counted.

    As ``participation_months`` for weeks, for the programme's clocks (``PERIOD_MARGINS``): the
    quarter hours from the week's Monday's midnight (UTC) to three hours before the next Monday,
    which are in the same week (Monday to Sunday) from UTC to three hours ahead, so a report by
    week in such a zone reads them from here and the three hours before each Monday from the
    counts; a report on another clock reads the counts alone.
    Written with each activity (``db/activity_log.py``) and rebuilt from the counts when missing.
    """

    __tablename__ = "participation_weeks"
    __table_args__ = (enum_check("role", Role), *_period_indexes(__tablename__, "week"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    """The week's Monday (UTC)."""


class ParticipationTotal(Counted, Base):
    """What one learner did in all, per cohort and snapshot, counted.

    The same sums as ``participation_counts`` without the time and the track: the all-time
    figures (the dashboard's totals and regions) count distinct learners over a row or two per
    learner here instead of every quarter hour they were active. Written with each activity
    (``db/activity_log.py``) and rebuilt from the counts when missing.
    """

    __tablename__ = "participation_totals"
    __table_args__ = (
        enum_check("role", Role),
        Index("ix_participation_totals_user_id", "user_id"),
        Index(
            "ix_participation_totals_region_user_id",
            "region",
            "user_id",
            *PARTICIPATION_FIGURES,
            "cohort_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


REACH_FIGURES = ("started", "furthest", "finished", "passed")
"""What ``lesson_reach`` keeps per learner, lesson and quarter hour."""


class LessonReach(Base):
    """How far one learner got in one lesson in one quarter of an hour, with the same snapshot.

    The funnel report reads these instead of every start, step, completion and pass in
    ``activities``: a lesson read in one sitting (a start, a dozen steps, a completion) is one
    row here. Each row holds, for one learner, lesson, quarter hour (UTC) and snapshot (cohort,
    track, role, locale, place), whether the learner started, finished or passed the lesson then
    (0 or 1), and the furthest step index moved to (None: no step record). Figures are maxima,
    so two rows of the same key mean the same as one. Written with each activity
    (``db/activity_log.py``) and rebuilt from ``activities`` when missing.
    """

    __tablename__ = "lesson_reach"
    __table_args__ = (
        enum_check("role", Role),
        # The writer finds the learner's current row.
        Index("ix_lesson_reach_user_id_occurred_at", "user_id", "occurred_at"),
        # The funnel walks a lesson's learners in order from the index alone (PostgreSQL), so it
        # groups them without sorting or reading the table.
        Index(
            "ix_lesson_reach_lesson_id_user_id",
            "lesson_id",
            "user_id",
            postgresql_include=["occurred_at", "cohort_id", *REACH_FIGURES],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The quarter hour (its start, UTC) the activities occurred in."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    role: Mapped[Role | None] = enum_column(Role, nullable=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    municipality: Mapped[str | None] = mapped_column(String(128))
    started: Mapped[int] = mapped_column(default=0)
    furthest: Mapped[int | None]
    finished: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
