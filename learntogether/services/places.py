"""Places (municipalities): one spelling per place, so reports group by place, not by spelling.

A typed municipality is compared with the places already known (cohorts' municipalities and
learners' stored ones) by a key that ignores case, spacing, diacritics and script: "Сливен",
"SLIVEN", " sliven " and "Slivén" are one place. When it matches, the spelling already in use is
stored. Spellings that the key cannot join ("Slivn") an admin merges: every learner, cohort and
report row (activities' snapshots, participation counts, lesson reach) and goal filter then says
the canonical one.

Cyrillic is written in Latin letters by the official Bulgarian streamlined system (the law on
transliteration of 2009): "Щ" is "sht", "Ъ" is "a", "Ц" is "ts". A small table, because the
packaged transliterators do not do it: ``transliterate`` (last release 2018) and ``Unidecode``
(GPL) both write Russian-style ("Shch", "Kh", "" for "Ъ"), ``anyascii`` a generic romanisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import (
    Activity,
    Cohort,
    Goal,
    LessonReach,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    TokenRole,
    User,
)
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import FieldProblem, InvalidInput

MAX_PLACE_LENGTH = 128

BULGARIAN_TO_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sht",
    "ъ": "a",
    "ь": "y",
    "ю": "yu",
    "я": "ya",
    # Letters of neighbouring Cyrillic alphabets a learner may type (Serbian, Macedonian,
    # Russian, Ukrainian), so their places still compare with the Latin spelling.
    "ё": "yo",
    "ы": "y",
    "э": "e",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ј": "j",
    "љ": "lj",
    "њ": "nj",
    "ђ": "dj",
    "ћ": "c",
    "џ": "dz",
    "ѓ": "gj",
    "ќ": "kj",
    "ѕ": "dz",
}
_TO_LATIN = str.maketrans(BULGARIAN_TO_LATIN)
_SPACES = re.compile(r"\s+")
# Latin letters that NFKD does not split into a letter and a mark.
_LATIN_LETTERS = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe"})


def place_key(name: str) -> str:
    """The key two spellings of one place share: casefolded, trimmed, spaces collapsed,
    Cyrillic in Latin letters (Bulgarian streamlined system), diacritics dropped."""
    text = unicodedata.normalize("NFC", name).casefold().translate(_TO_LATIN)
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    return _SPACES.sub(" ", text.translate(_LATIN_LETTERS)).strip()


def clean_place(name: str | None) -> str | None:
    """A typed place as it may be stored: trimmed, inner spaces collapsed, at most 128
    characters; blank is None."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", name or "")).strip()
    return text[:MAX_PLACE_LENGTH].rstrip() or None


@dataclass(frozen=True)
class KnownPlace:
    """One spelling in use, and how many learners and cohorts use it (both none: only report
    rows have it)."""

    name: str
    key: str
    """Spellings with one key are one place (see ``place_key``)."""
    learners: int
    cohorts: int


async def _spelling_counts(
    session: AsyncSession, *, except_learner: int | None = None
) -> tuple[Counter[str], Counter[str]]:
    learners_query = (
        select(User.municipality, func.count())
        .where(User.municipality.is_not(None))
        .group_by(User.municipality)
    )
    if except_learner is not None:
        learners_query = learners_query.where(User.id != except_learner)
    cohorts_query = (
        select(Cohort.municipality, func.count())
        .where(Cohort.municipality.is_not(None))
        .group_by(Cohort.municipality)
    )
    learners = Counter(
        {name: count for name, count in await session.execute(learners_query) if name}
    )
    cohorts = Counter({name: count for name, count in await session.execute(cohorts_query) if name})
    return learners, cohorts


async def list_places(
    session: AsyncSession, *, actor: Actor, limit: int | None = None, offset: int = 0
) -> tuple[list[KnownPlace], int]:
    """Every spelling learners, cohorts or report rows use, ordered by place (key), then
    spelling; a page of them and how many there are. Counts span every cohort: admins and
    viewers only."""
    actor.check_role(TokenRole.VIEWER)
    learners, cohorts = await _spelling_counts(session)
    # Spellings only the past still has (the learners moved or erased their data) are listed
    # too, so that they can be merged.
    in_reports = await session.scalars(
        select(ParticipationCount.municipality)
        .where(ParticipationCount.municipality.is_not(None))
        .distinct()
    )
    places = sorted(
        (
            KnownPlace(
                name=name, key=place_key(name), learners=learners[name], cohorts=cohorts[name]
            )
            for name in {*learners, *cohorts, *(name for name in in_reports if name)}
        ),
        key=lambda place: (place.key, place.name),
    )
    end = None if limit is None else offset + limit
    return places[offset:end], len(places)


async def canonical_place(
    session: AsyncSession, *, name: str | None, except_learner: int | None = None
) -> str | None:
    """The spelling to store for a typed place: the known spelling of the same place (a
    cohort's first, then the one most learners use), else the typed one, cleaned.

    ``except_learner`` leaves that learner's own stored spelling out, so retyping a place
    correctly is not matched back to their own misspelling."""
    typed = clean_place(name)
    if typed is None:
        return None
    key = place_key(typed)
    learners, cohorts = await _spelling_counts(session, except_learner=except_learner)
    same = [known for known in set(learners) | set(cohorts) if place_key(known) == key]
    if not same:
        return typed
    return min(same, key=lambda known: (-cohorts[known], -learners[known], known != typed, known))


Spelling = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PLACE_LENGTH)
]


class PlaceMerge(BaseModel):
    """Two spellings of one place: every ``from`` becomes ``into``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Spelling = Field(alias="from", description="The spelling to retire, exactly as used")
    into: Spelling = Field(description="The spelling to keep")


class MergedPlace(BaseModel):
    """What a merge rewrote, row by row."""

    source: str = Field(serialization_alias="from")
    into: str
    learners: int
    cohorts: int
    activities: int
    participation_counts: int
    participation_months: int
    participation_totals: int
    lesson_reach: int
    goals: int


@dataclass(frozen=True)
class MergePlan:
    """A merge checked and not yet done: the spelling retired, as known now, and the one kept."""

    source: KnownPlace
    into: str


async def plan_merge(session: AsyncSession, *, merge: PlaceMerge, actor: Actor) -> MergePlan:
    """Check a merge (admins only; ``from`` in use, ``into`` another spelling) and say what it
    would rewrite, for a confirmation; raises InvalidInput naming the field."""
    actor.check_role()
    into = clean_place(merge.into) or merge.into
    if merge.source == into:
        problem = "'from' and 'into' are the same spelling"
        raise InvalidInput(problem, [FieldProblem("$.into", problem)])
    learners, cohorts = await _spelling_counts(session)
    reported = await session.scalar(
        select(Activity.id).where(Activity.municipality == merge.source).limit(1)
    )
    if merge.source not in learners and merge.source not in cohorts and reported is None:
        problem = f"No learner, cohort or report row has the municipality '{merge.source}'"
        raise InvalidInput(problem, [FieldProblem("$.from", problem)])
    known = KnownPlace(
        name=merge.source,
        key=place_key(merge.source),
        learners=learners[merge.source],
        cohorts=cohorts[merge.source],
    )
    return MergePlan(source=known, into=into)


async def merge_places(session: AsyncSession, *, merge: PlaceMerge, actor: Actor) -> MergedPlace:
    """Rewrite one spelling into another everywhere reports read places from; audited.

    Report rows keep their snapshot of where a learner was, so they are rewritten too: only a
    spelling changes, never which place a row counts for. Checked as ``plan_merge``."""
    plan = await plan_merge(session, merge=merge, actor=actor)
    source, into = plan.source.name, plan.into
    rows: dict[str, int] = {}
    for label, table in (
        ("learners", User),
        ("cohorts", Cohort),
        ("activities", Activity),
        ("participation_counts", ParticipationCount),
        ("participation_months", ParticipationMonth),
        ("participation_totals", ParticipationTotal),
        ("lesson_reach", LessonReach),
    ):
        result: Any = await session.execute(
            update(table).where(table.municipality == source).values(municipality=into)
        )
        rows[label] = result.rowcount
    goals = 0
    for goal in (await session.scalars(select(Goal))).all():
        if (goal.filters or {}).get("municipality") == source:
            goal.filters = {**goal.filters, "municipality": into}
            goals += 1
    merged = MergedPlace(source=source, into=into, goals=goals, **rows)
    await record_change(
        session,
        actor=actor,
        action="merge",
        entity="place",
        entity_id=into[:64],
        before={"municipality": source},
        after={"municipality": into, **rows, "goals": goals},
    )
    await session.flush()
    return merged
