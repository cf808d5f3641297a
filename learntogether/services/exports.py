"""Exporting the participation record as xAPI 1.0.3 statements for a Learning Record Store.

Each activity row becomes one statement. The actor is an account on this platform named by a
pseudonym, an HMAC of the internal user id under ``LT_PSEUDONYM_SECRET``: stable across exports, so
an LRS follows a learner over time, yet it leads back to nobody without the key and the database
(names and Telegram ids are never read here). Statement ids are derived from the row id, so
importing the same rows twice gives the LRS the same statements, not duplicates.

The export is paged: one request answers at most ``MAX_LIMIT`` statements and looks at no more
than ``WINDOW_ROWS`` rows, and a signed cursor leads to the next page (keyset by id, so rows
written meanwhile neither shift nor repeat a page). The id range is fixed by the first request, so
rows written meanwhile wait for the next export (``since`` picks up where the last one ended).
A page streams in chunks by id, each in a short transaction of its own: no long transaction holds
SQLite's lock or an old PostgreSQL snapshot while it is sent.

Reminders and nudges the platform sent are not learning experiences and are left out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.content.schema import LessonDocument
from learntogether.db.models import Activity, Cohort, Lesson, LessonVersion, Track, Verb
from learntogether.i18n import SOURCE_LOCALE
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, FieldProblem, InvalidInput
from learntogether.xapi import (
    Account,
    ActivityDefinition,
    Agent,
    Context,
    ContextActivities,
    InteractionType,
    Result,
    Score,
    Statement,
    is_language_tag,
)
from learntogether.xapi import Activity as XapiActivity
from learntogether.xapi import Verb as XapiVerb

PAGE_SIZE = 1000
"""Rows read per chunk (and per short transaction) while streaming a page."""
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
"""Statements one answer holds by default, and at most."""
WINDOW_ROWS = 100_000
"""Row ids one answer looks at, at most: a page's query costs little however sparse its rows."""
CACHE_SIZE = 50_000
"""Actors and contexts kept for reuse while streaming."""
PLATFORM = "To Learn Together"
DEFAULT_HOME_PAGE = "https://learntogether.invalid"
"""Used without ``LT_PUBLIC_URL``: a reserved name (RFC 2606) that can never be someone else's."""
UNDETERMINED_LANGUAGE = "und"
SENT_BY_PLATFORM = (Verb.REMINDED, Verb.NUDGED)

ADL = "http://adlnet.gov/expapi"
VERBS: dict[Verb, tuple[str, str]] = {
    Verb.JOINED: (f"{ADL}/verbs/registered", "registered"),
    Verb.STARTED: (f"{ADL}/verbs/initialized", "initialized"),
    Verb.STEP: (f"{ADL}/verbs/progressed", "progressed"),
    Verb.ANSWERED: (f"{ADL}/verbs/answered", "answered"),
    Verb.COMPLETED: (f"{ADL}/verbs/completed", "completed"),
    Verb.PASSED: (f"{ADL}/verbs/passed", "passed"),
    Verb.FAILED: (f"{ADL}/verbs/failed", "failed"),
    Verb.ATTENDED: (f"{ADL}/verbs/attended", "attended"),
    Verb.CERTIFIED: ("http://id.tincanapi.com/verb/earned", "earned"),
    Verb.REVIEWED: ("http://id.tincanapi.com/verb/reviewed", "reviewed"),
    Verb.LISTENED: ("http://activitystrea.ms/schema/1.0/listen", "listened"),
}
LESSON_VERBS = (
    Verb.STARTED,
    Verb.STEP,
    Verb.COMPLETED,
    Verb.PASSED,
    Verb.FAILED,
    Verb.REVIEWED,
    Verb.LISTENED,
)
COURSE_TYPE = f"{ADL}/activities/course"
LESSON_TYPE = f"{ADL}/activities/lesson"
QUESTION_TYPE = f"{ADL}/activities/cmi.interaction"
MEETING_TYPE = f"{ADL}/activities/meeting"
GROUP_TYPE = "http://activitystrea.ms/schema/1.0/group"
APPLICATION_TYPE = "http://activitystrea.ms/schema/1.0/application"
# cmi5's progress extension: the percent of the lesson's steps reached.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"
INTERACTION_TYPES: dict[str, InteractionType] = {
    "single": "choice",
    "multiple": "choice",
    "true_false": "true-false",
    "likert": "likert",
    "open": "long-fill-in",
}


class ExportNotConfigured(Conflict):
    title = "Export not configured"


@dataclass(frozen=True)
class XapiVocabulary:
    """The IRIs this deployment names things by, and the key of its learner pseudonyms."""

    home_page: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> XapiVocabulary:
        if settings.pseudonym_secret is None or not settings.pseudonym_secret.get_secret_value():
            raise ExportNotConfigured(
                "Set LT_PSEUDONYM_SECRET (a long random string, kept for good) to export xAPI: "
                "learners appear in the LRS under pseudonyms derived from it."
            )
        return cls(
            home_page=settings.public_url or DEFAULT_HOME_PAGE,
            secret=settings.pseudonym_secret.get_secret_value().encode(),
        )

    def pseudonym(self, user_id: int | None) -> str:
        """A stable id for the learner that leads back to nobody without the key."""
        if user_id is None:
            return "anonymous"
        return hmac.new(self.secret, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def iri(self, *parts: str | int) -> str:
        return "/".join([self.home_page, "xapi", *(str(part) for part in parts)])

    def extension(self, name: str) -> str:
        return self.iri("extensions", name)

    def sign(self, payload: bytes) -> bytes:
        """A signature of the export's cursors, under a key of its own derived from the secret."""
        key = hmac.new(self.secret, b"xapi export cursor", hashlib.sha256).digest()
        return hmac.new(key, payload, hashlib.sha256).digest()[:16]

    def statement_id(self, activity_id: int) -> uuid.UUID:
        """The same row always gives the same statement id, so a re-import adds nothing."""
        return uuid.uuid5(uuid.NAMESPACE_URL, self.iri("activities", activity_id))


@dataclass(frozen=True)
class XapiExport:
    """What one export covers: fixed when it starts, streamed afterwards."""

    vocabulary: XapiVocabulary
    after_id: int
    """Rows with a greater id …"""
    last_id: int
    """… up to and including this one."""
    cohort_ids: frozenset[int] | None
    """A mediator's cohorts; None for every row."""
    since: datetime | None
    until: datetime | None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Activity.verb.not_in(SENT_BY_PLATFORM)]
        if self.since is not None:
            where.append(Activity.occurred_at >= self.since)
        if self.until is not None:
            where.append(Activity.occurred_at < self.until)
        if self.cohort_ids is not None:
            where.append(Activity.cohort_id.in_(self.cohort_ids))
        return where


@dataclass(frozen=True)
class XapiPage:
    """One answer of the paged export: the rows to stream, and where the next answer starts."""

    export: XapiExport
    next_cursor: str | None
    """None on the last page."""


async def plan_xapi_page(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> XapiPage:
    """Check the request and fix the rows one page of the export covers, before anything is sent.

    The first request (no ``cursor``) fixes the export's range of rows: those that exist then,
    ``since`` inclusive and ``until`` exclusive, so consecutive windows never overlap; rows
    written later wait for the next export. Each page holds at most ``limit`` statements and looks
    at no more than WINDOW_ROWS rows of the record, so it may be short, even empty, and still have
    a next page; the cursor (signed, so it cannot be forged) carries the position and the window.
    A mediator gets the rows of its own cohorts only, whoever made the cursor. Raises
    ExportNotConfigured without a pseudonym key, InvalidInput for an empty window, a cursor this
    export did not give, or ``since``/``until`` sent with a cursor.
    """
    vocabulary = XapiVocabulary.from_settings(settings)
    if cursor is not None:
        given = [
            f"query.{name}"
            for name, value in (("since", since), ("until", until))
            if value is not None
        ]
        if given:
            raise InvalidInput(
                "A cursor carries its export's window: send it without since and until.",
                [FieldProblem(path, "must be left out with a cursor") for path in given],
            )
        after_id, last_id, since, until = _read_cursor(vocabulary, cursor)
    else:
        if since is not None and until is not None and until <= since:
            raise InvalidInput(
                "The export window is empty.",
                [FieldProblem("query.until", "must be later than since")],
            )
        whole = XapiExport(vocabulary, 0, 0, actor.cohort_ids, since, until)
        first, last = (
            await session.execute(
                select(func.min(Activity.id), func.max(Activity.id)).where(*whole.conditions())
            )
        ).one()
        if first is None:
            return XapiPage(whole, None)
        after_id, last_id = first - 1, last
    window_end = min(after_id + WINDOW_ROWS, last_id)
    scope = XapiExport(vocabulary, after_id, window_end, actor.cohort_ids, since, until)
    ids = list(
        await session.scalars(
            select(Activity.id)
            .where(Activity.id > after_id, Activity.id <= window_end, *scope.conditions())
            .order_by(Activity.id)
            .limit(limit + 1)
        )
    )
    # One row more than the page holds: the page ends before it, and another page follows.
    page_end = ids[limit - 1] if len(ids) > limit else window_end
    page = XapiExport(vocabulary, after_id, page_end, actor.cohort_ids, since, until)
    if page_end >= last_id:
        return XapiPage(page, None)
    return XapiPage(page, _write_cursor(vocabulary, (page_end, last_id, since, until)))


_Position = tuple[int, int, datetime | None, datetime | None]
"""After which row a page starts, the export's last row, and its window."""
_BAD_CURSOR = "is not a cursor this export gave; start again without one"


def _write_cursor(vocabulary: XapiVocabulary, position: _Position) -> str:
    after_id, last_id, since, until = position
    window = [None if moment is None else moment.isoformat() for moment in (since, until)]
    payload = json.dumps([after_id, last_id, *window], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(vocabulary.sign(payload))}"


def _read_cursor(vocabulary: XapiVocabulary, cursor: str) -> _Position:
    """The position a cursor holds; InvalidInput for one this export did not sign."""
    try:
        encoded, _, signature = cursor.partition(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), vocabulary.sign(payload)):
            raise ValueError("not signed with this deployment's key")
        after_id, last_id, since, until = json.loads(payload)
        if not (isinstance(after_id, int) and isinstance(last_id, int)):
            raise ValueError("positions must be row ids")
        return (
            after_id,
            last_id,
            None if since is None else datetime.fromisoformat(since),
            None if until is None else datetime.fromisoformat(until),
        )
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            f"The cursor is not valid: {error}", [FieldProblem("query.cursor", _BAD_CURSOR)]
        ) from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def stream_statements(
    session_maker: async_sessionmaker[AsyncSession],
    export: XapiExport,
    *,
    page_size: int | None = None,
) -> AsyncIterator[list[Statement]]:
    """The export's statements, one page (in id order) at a time, each read in its own session."""
    catalogue = _Catalogue(export.vocabulary)
    after_id = export.after_id
    while after_id < export.last_id:
        async with session_maker() as session:
            rows = list(
                await session.execute(
                    select(*_COLUMNS)
                    .where(
                        Activity.id > after_id, Activity.id <= export.last_id, *export.conditions()
                    )
                    .order_by(Activity.id)
                    .limit(page_size or PAGE_SIZE)
                )
            )
            await catalogue.load(session, rows)
        if not rows:
            return
        after_id = rows[-1].id
        yield [catalogue.statement(row) for row in rows]


async def ndjson_pages(
    session_maker: async_sessionmaker[AsyncSession], export: XapiExport
) -> AsyncIterator[bytes]:
    """The export as newline-delimited JSON: one statement a line, one chunk a page."""
    async for page in stream_statements(session_maker, export):
        yield "".join(statement.to_json() + "\n" for statement in page).encode()


_COLUMNS = (
    Activity.id,
    Activity.occurred_at,
    Activity.user_id,
    Activity.verb,
    Activity.cohort_id,
    Activity.track_id,
    Activity.lesson_id,
    Activity.lesson_version_id,
    Activity.question_key,
    Activity.score,
    Activity.assisted,
    Activity.role,
    Activity.locale,
    Activity.country,
    Activity.region,
    Activity.municipality,
    Activity.data,
)
_CONTEXT_EXTENSIONS = ("role", "locale", "country", "region", "municipality", "cohort", "assisted")


@dataclass(frozen=True)
class _Version:
    number: int
    title: dict[str, str]
    steps: int
    kinds: dict[str, str]


class _Catalogue:
    """What the rows point at, read once per export as pages first need it, as xAPI objects.

    The same lesson, track or cohort appears in many statements: each is built (and validated)
    once and shared, so two million statements cost little more than their own parts.
    """

    def __init__(self, vocabulary: XapiVocabulary) -> None:
        self.vocabulary = vocabulary
        self.extensions = {name: vocabulary.extension(name) for name in _CONTEXT_EXTENSIONS}
        self.verbs = {
            verb: XapiVerb(id=iri, display={"en-US": name}) for verb, (iri, name) in VERBS.items()
        }
        self.platform = XapiActivity(
            id=vocabulary.home_page,
            definition=ActivityDefinition(name={SOURCE_LOCALE: PLATFORM}, type=APPLICATION_TYPE),
        )
        self.cohorts: dict[int, XapiActivity] = {}
        self.tracks: dict[int, XapiActivity] = {}
        self.lesson_slugs: dict[int, str] = {}
        self.versions: dict[int, _Version] = {}
        self._built: dict[tuple[str, int, int | str | None], XapiActivity] = {}
        # Statements repeat actors and contexts: recently built ones are shared (bounded).
        self._actors: dict[int | None, Agent] = {}
        self._contexts: dict[tuple[Any, ...], Context] = {}

    async def load(self, session: AsyncSession, rows: Iterable[Row[Any]]) -> None:
        cohorts, lessons, tracks, versions = set(), set(), set(), set()
        for row in rows:
            cohorts.add(row.cohort_id)
            lessons.add(row.lesson_id)
            tracks.add(row.track_id)
            versions.add(row.lesson_version_id)
        if wanted := _missing(cohorts, self.cohorts):
            for cohort_id, name, locale in await session.execute(
                select(Cohort.id, Cohort.name, Cohort.locale).where(Cohort.id.in_(wanted))
            ):
                # By id, never by code: the code is the invite that lets anyone join the cohort.
                self.cohorts[cohort_id] = XapiActivity(
                    id=self.vocabulary.iri("cohorts", cohort_id),
                    definition=ActivityDefinition(
                        name={locale if is_language_tag(locale) else UNDETERMINED_LANGUAGE: name},
                        type=GROUP_TYPE,
                    ),
                )
        if wanted := _missing(lessons, self.lesson_slugs):
            for lesson_id, slug in await session.execute(
                select(Lesson.id, Lesson.slug).where(Lesson.id.in_(wanted))
            ):
                self.lesson_slugs[lesson_id] = slug
        if wanted := _missing(tracks, self.tracks):
            for track_id, slug, title in await session.execute(
                select(Track.id, Track.slug, Track.title).where(Track.id.in_(wanted))
            ):
                self.tracks[track_id] = XapiActivity(
                    id=self.vocabulary.iri("tracks", slug),
                    definition=ActivityDefinition(name=dict(title) or None, type=COURSE_TYPE),
                )
        if wanted := _missing(versions, self.versions):
            for version_id, number, document in await session.execute(
                select(LessonVersion.id, LessonVersion.number, LessonVersion.document).where(
                    LessonVersion.id.in_(wanted)
                )
            ):
                lesson = LessonDocument.model_validate(document)
                self.versions[version_id] = _Version(
                    number=number,
                    title=dict(lesson.title),
                    steps=len(lesson.steps),
                    kinds={question.key: question.kind.value for question in lesson.questions()},
                )

    def _once(
        self, kind: str, key: int, detail: int | str | None, build: Callable[[], XapiActivity]
    ) -> XapiActivity:
        found = self._built.get((kind, key, detail))
        if found is None:
            found = self._built[kind, key, detail] = build()
        return found

    def lesson(self, row: Row[Any]) -> XapiActivity | None:
        """The lesson, named as the version the row was on names it."""
        slug = self.lesson_slugs.get(row.lesson_id)
        if slug is None:
            return None
        version = self.versions.get(row.lesson_version_id)
        return self._once(
            "lesson",
            row.lesson_id,
            row.lesson_version_id,
            lambda: XapiActivity(
                id=self.vocabulary.iri("lessons", slug),
                definition=ActivityDefinition(
                    name=dict(version.title) if version else None, type=LESSON_TYPE
                ),
            ),
        )

    def question(self, row: Row[Any], lesson: XapiActivity) -> XapiActivity:
        version = self.versions.get(row.lesson_version_id)
        kind = version.kinds.get(row.question_key) if version is not None else None
        return self._once(
            "question",
            row.lesson_version_id or 0,
            f"{lesson.id}/questions/{row.question_key}",
            lambda: XapiActivity(
                id=f"{lesson.id}/questions/{row.question_key}",
                definition=ActivityDefinition(
                    type=QUESTION_TYPE, interaction_type=INTERACTION_TYPES.get(kind or "")
                ),
            ),
        )

    def certificate(self, track_id: int, track: XapiActivity) -> XapiActivity:
        return self._once(
            "certificate",
            track_id,
            None,
            lambda: XapiActivity(
                id=f"{track.id}/certificate",
                definition=ActivityDefinition(
                    name=track.definition.name if track.definition else None
                ),
            ),
        )

    def reference(self, activity: XapiActivity) -> XapiActivity:
        """The activity by id and type only, for a statement's context."""
        kind = activity.definition.type if activity.definition else None
        return self._once(
            "reference",
            0,
            activity.id,
            lambda: XapiActivity(id=activity.id, definition=ActivityDefinition(type=kind)),
        )

    def event(self, event_id: int) -> XapiActivity:
        return self._once(
            "event",
            event_id,
            None,
            lambda: XapiActivity(
                id=self.vocabulary.iri("events", event_id),
                definition=ActivityDefinition(type=MEETING_TYPE),
            ),
        )

    def statement(self, row: Row[Any]) -> Statement:
        """The statement for one activity row (the columns of ``_COLUMNS``)."""
        verb: Verb = row.verb
        version = self.versions.get(row.lesson_version_id)
        track = self.tracks.get(row.track_id)
        cohort = self.cohorts.get(row.cohort_id)
        target, parent = self._object_and_parent(row, track, cohort)
        # Context names only what it points at (the objects of other statements carry the
        # names); a track is never an object, so it keeps its name.
        grouping = [
            activity if activity is track else self.reference(activity)
            for activity in (track, cohort)
            if activity is not None and activity is not target and activity is not parent
        ]
        if parent is not None and parent is not track:
            parent = self.reference(parent)
        return Statement(
            id=self.vocabulary.statement_id(row.id),
            actor=self.actor(row.user_id),
            verb=self.verbs[verb],
            object_=target,
            result=_result(row, version),
            context=self.context(row, version, parent, grouping),
            timestamp=row.occurred_at,
        )

    def actor(self, user_id: int | None) -> Agent:
        found = self._actors.get(user_id)
        if found is None:
            account = Account(
                home_page=self.vocabulary.home_page, name=self.vocabulary.pseudonym(user_id)
            )
            found = _remember(self._actors, user_id, Agent(account=account))
        return found

    def context(
        self,
        row: Row[Any],
        version: _Version | None,
        parent: XapiActivity | None,
        grouping: list[XapiActivity],
    ) -> Context:
        """Who the learner was at the time, as the row recorded it; never who they are."""
        snapshot = (
            row.role.value if row.role is not None else None,
            row.locale,
            row.country,
            row.region,
            row.municipality,
            row.cohort_id,
            bool(row.assisted),
        )
        number = version.number if version is not None else None
        key = (snapshot, number, parent.id if parent else None, *(a.id for a in grouping))
        found = self._contexts.get(key)
        if found is None:
            found = _remember(
                self._contexts,
                key,
                Context(
                    platform=PLATFORM,
                    language=row.locale if is_language_tag(row.locale) else None,
                    revision=str(number) if number is not None else None,
                    context_activities=ContextActivities(
                        parent=[parent] if parent is not None else None,
                        grouping=grouping or None,
                    )
                    if parent is not None or grouping
                    else None,
                    extensions={
                        self.extensions[name]: value
                        for name, value in zip(_CONTEXT_EXTENSIONS, snapshot, strict=True)
                        if value is not None
                    },
                ),
            )
        return found

    def _object_and_parent(
        self, row: Row[Any], track: XapiActivity | None, cohort: XapiActivity | None
    ) -> tuple[XapiActivity, XapiActivity | None]:
        """What the statement is about, and the activity it is directly part of."""
        verb: Verb = row.verb
        lesson = self.lesson(row)
        if verb is Verb.ANSWERED and lesson is not None and row.question_key:
            return self.question(row, lesson), lesson
        if verb in LESSON_VERBS and lesson is not None:
            return lesson, track
        if verb is Verb.CERTIFIED and track is not None:
            return self.certificate(row.track_id, track), track
        if verb is Verb.ATTENDED:
            event_id = (row.data or {}).get("event_id")
            if isinstance(event_id, int):
                return self.event(event_id), cohort
        if cohort is not None:
            return cohort, None
        return self.platform, None


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    """Keep ``value`` for ``key``; a full cache starts afresh, so memory stays bounded."""
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _missing(ids: set[int | None], known: dict[int, Any]) -> list[int]:
    return sorted(id_ for id_ in ids if id_ is not None and id_ not in known)


def _result(row: Row[Any], version: _Version | None) -> Result | None:
    verb: Verb = row.verb
    data: dict[str, Any] = row.data or {}
    if verb is Verb.ANSWERED:
        correct = data.get("correct")
        return Result(success=correct) if isinstance(correct, bool) else None
    if verb is Verb.STEP:
        step = data.get("step")
        if not isinstance(step, int) or version is None or version.steps == 0:
            return None
        percent = min(100, round(100 * (step + 1) / version.steps))
        return Result(extensions={PROGRESS_EXTENSION: percent})
    if verb is Verb.COMPLETED:
        return _COMPLETED
    if verb in (Verb.PASSED, Verb.FAILED):
        score = (
            Score(scaled=max(0.0, min(1.0, row.score / 100)), raw=row.score, min=0, max=100)
            if row.score is not None
            else None
        )
        return Result(score=score, success=verb is Verb.PASSED, completion=True)
    if verb is Verb.CERTIFIED:
        return _EARNED
    return None


_COMPLETED = Result(completion=True)
_EARNED = Result(success=True, completion=True)
