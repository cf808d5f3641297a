"""Awareness before and after: a track's likert pre-survey against its post-survey.

The items are the likert statements both surveys ask (validation makes them the same). Only
learners who answered an item in both surveys count for it: their **first** answer to the
pre-survey (before any lesson could change it) against their **latest** answer to the
post-survey. Points run 1–5; a ``reverse`` statement (agreeing means less awareness) is flipped
(6 − point) so that higher always means more aware.

Rows: per group, first the overall row (``item`` null: every paired answer of the group's
learners, each learner–item pair weighing the same), then one row per item in the survey's
order. Each row has ``learners`` (the learners behind its figures), ``pre_mean``, ``post_mean``
and ``shift`` (post − pre). A row with fewer learners than ``min_group`` is suppressed: its means
are null and ``suppressed`` is true, so no small group's answers can be read off.

Groups are the learner's snapshot when they last answered the post-survey (cohort, region,
role, …); a mediator reading it keeps to learners whose snapshot is in its cohorts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    String,
    Subquery,
    case,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from learntogether.content.schema import LessonDocument, Survey
from learntogether.db.models import Activity, Answer, LessonVersion, QuestionKind, QuizAttempt, Verb
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import N_
from learntogether.services.quizzes import LIKERT_POINTS
from learntogether.services.reports.query import (
    Cell,
    GroupBy,
    ReportTable,
    cohort_condition,
    find_track_id,
    first_choice,
    group_column,
    group_labels,
    lessons_of_track,
    newest_documents,
    rounded,
    sort_key,
    wrong,
)

NAME = "awareness"
FIGURES = ["item", "learners", "pre_mean", "post_mean", "shift", "suppressed"]
PRIVACY_FLOOR = 5
"""The fewest learners a row may show figures for: below, one person's answers could be read."""


async def awareness(
    session: AsyncSession,
    *,
    track: str,
    group_by: GroupBy | None = None,
    min_group: int | None = None,
    floor: int = PRIVACY_FLOOR,
    actor: Actor = SYSTEM,
) -> ReportTable:
    """The shift in awareness over ``track`` (a slug), overall or by ``group_by``.

    A row with fewer than ``min_group`` learners (by default the deployment's ``floor``) shows no
    figures; a reader may ask for more, never for fewer than ``floor``. Raises InvalidInput naming
    the field for an unknown track, a track without both surveys or a ``min_group`` below it.
    """
    min_group = floor if min_group is None else min_group
    if min_group < floor:
        raise wrong(
            "min_group", N_("must be at least {floor}, this platform's privacy floor", floor=floor)
        )
    track_id = await find_track_id(session, track)
    lessons = (await session.execute(lessons_of_track(track_id))).all()
    documents = await newest_documents(session, [lesson_id for lesson_id, _, _ in lessons])
    surveys: dict[Survey, tuple[int, LessonDocument]] = {}
    for lesson_id, (_, data) in documents.items():
        document = LessonDocument.model_validate(data)
        if document.survey is not None:
            surveys[document.survey] = (lesson_id, document)
    if Survey.PRE not in surveys or Survey.POST not in surveys:
        raise wrong(
            "track",
            N_("track '{track}' has no pre-survey and post-survey to compare", track=track),
        )
    (pre_id, pre), (post_id, post) = surveys[Survey.PRE], surveys[Survey.POST]
    asked_before = {q.key for q in pre.questions() if q.kind is QuestionKind.LIKERT}
    items = [
        q.key for q in post.questions() if q.kind is QuestionKind.LIKERT and q.key in asked_before
    ]
    reverse = {q.key for q in [*pre.questions(), *post.questions()] if q.reverse}
    pairs = await _pairs(session, pre_id, post_id, items, reverse, group_by, actor)
    # One statement: the pairs (a CTE read twice, which PostgreSQL computes once) by group and
    # item, and by group over every item.
    per_item = select(
        pairs.c.group,
        pairs.c.item,
        func.count(),
        func.avg(pairs.c.before),
        func.avg(pairs.c.after),
    ).group_by(pairs.c.group, pairs.c.item)
    overall = select(
        pairs.c.group,
        literal(None, String).label("item"),
        func.count(distinct(pairs.c.user_id)),
        func.avg(pairs.c.before),
        func.avg(pairs.c.after),
    ).group_by(pairs.c.group)
    figures: dict[Any, dict[str | None, tuple[int, Any, Any]]] = {}
    for group, item, count, before, after in await session.execute(union_all(overall, per_item)):
        figures.setdefault(group, {})[item] = (int(count), before, after)
    labels = await group_labels(session, group_by, figures)
    rows: list[dict[str, Cell]] = []
    for group in sorted(figures, key=lambda value: sort_key(labels[value])):
        for item in [None, *items]:
            if item not in figures[group]:
                continue
            learners, before, after = figures[group][item]
            row: dict[str, Cell] = {group_by.value: labels[group]} if group_by is not None else {}
            rows.append(row | _figures(item, learners, before, after, min_group))
    columns = [*([group_by.value] if group_by is not None else []), *FIGURES]
    return ReportTable(NAME, columns, rows)


def _figures(
    item: str | None, learners: int, before: Any, after: Any, min_group: int
) -> dict[str, Cell]:
    if learners < min_group:
        return {
            "item": item,
            "learners": learners,
            "pre_mean": None,
            "post_mean": None,
            "shift": None,
            "suppressed": True,
        }
    return {
        "item": item,
        "learners": learners,
        "pre_mean": rounded(float(before)),
        "post_mean": rounded(float(after)),
        "shift": rounded(float(after) - float(before)),
        "suppressed": False,
    }


async def _pairs(
    session: AsyncSession,
    pre_id: int,
    post_id: int,
    items: list[str],
    reverse: set[str],
    group_by: GroupBy | None,
    actor: Actor,
) -> CTE:
    """(user_id, item, before, after, group) for every learner who answered an item in both.

    The two surveys' chosen answers are paired by (learner, item) before their points are read:
    joined the other way round, SQLite scanned the whole post-survey once per pre-survey answer.
    """
    post_versions = await _versions(session, post_id)
    after = _chosen(post_versions, items, first=False)
    # Most learners take the pre-survey and few the post-survey yet: only theirs are paired.
    answered_after = select(QuizAttempt.user_id).where(
        QuizAttempt.lesson_version_id.in_(post_versions)
    )
    before = _chosen(await _versions(session, pre_id), items, first=True, among=answered_after)
    before_answer, after_answer = aliased(Answer), aliased(Answer)
    last_answer = (
        select(Activity.user_id, func.max(Activity.id).label("id"))
        .where(Activity.verb == Verb.ANSWERED, Activity.lesson_id == post_id)
        .group_by(Activity.user_id)
        .subquery()
    )
    group: ColumnElement[Any] = group_column(group_by) if group_by is not None else literal(None)
    return (
        select(
            before.c.user_id,
            before.c.item,
            _point(before_answer, reverse).label("before"),
            _point(after_answer, reverse).label("after"),
            group.label("group"),
        )
        .select_from(before)
        .join(after, (after.c.user_id == before.c.user_id) & (after.c.item == before.c.item))
        .join(before_answer, before_answer.id == before.c.id)
        .join(after_answer, after_answer.id == after.c.id)
        .outerjoin(last_answer, last_answer.c.user_id == before.c.user_id)
        .outerjoin(Activity, Activity.id == last_answer.c.id)
        .where(cohort_condition(actor, Activity.cohort_id))
        .cte("pairs")
    )


async def _versions(session: AsyncSession, lesson_id: int) -> list[int]:
    return list(
        await session.scalars(select(LessonVersion.id).where(LessonVersion.lesson_id == lesson_id))
    )


def _chosen(
    versions: list[int],
    items: list[str],
    *,
    first: bool,
    among: Select[int] | None = None,
) -> Subquery:
    """(user_id, item, id): each learner's first (or latest) likert answer per item in the
    survey (of these ``versions``), of the learners ``among`` when given."""
    pick = func.min if first else func.max
    learners = [QuizAttempt.user_id.in_(among)] if among is not None else []
    return (
        select(
            QuizAttempt.user_id.label("user_id"),
            Answer.question_key.label("item"),
            pick(Answer.id).label("id"),
        )
        .join(QuizAttempt, QuizAttempt.id == Answer.attempt_id)
        .where(
            QuizAttempt.lesson_version_id.in_(versions),
            *learners,
            Answer.kind == QuestionKind.LIKERT,
            Answer.question_key.in_(items),
        )
        .group_by(QuizAttempt.user_id, Answer.question_key)
        .subquery()
    )


def _point(answer: type[Answer], reverse: set[str]) -> ColumnElement[int]:
    """An answer's likert point, flipped (6 − point) for a ``reverse`` statement."""
    point = first_choice(answer)
    if not reverse:
        return point
    flipped: ColumnElement[int] = case(
        (answer.question_key.in_(sorted(reverse)), LIKERT_POINTS + 1 - point), else_=point
    )
    return flipped
