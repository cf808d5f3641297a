"""Certificates: whether a learner has earned one for a track, and checking one by its code.

A track's pass rule (``pass_rule`` in its ``track.yaml``) asks for a number of its published
lessons to be passed, all of them unless ``lessons`` says fewer, and optionally for the average of
the learner's best scores over the track's published lessons that have a score to reach
``min_average_score`` percent. A lesson is passed when its progress says so: its quiz reached the
pass score, or a lesson without a scored quiz (a survey, a reading) was completed. Draft and
archived lessons are neither required nor counted.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import PassRule
from learntogether.db import activity_log as activity
from learntogether.db.models import (
    Certificate,
    Lesson,
    LessonProgress,
    LessonStatus,
    Track,
    User,
    UserStatus,
    Verb,
)
from learntogether.documents.certificate import CertificateTexts, Issuer, render_certificate_pdf
from learntogether.i18n import Locales
from learntogether.services import learners
from learntogether.services.errors import InvalidInput, NotFound
from learntogether.services.player import StaleButton

# No 0/O, 1/I: a code read aloud or typed from paper comes out right.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
# 32**10 codes: a clash is all but impossible, yet costs only another draw.
CODE_DRAWS = 3


@dataclass(frozen=True)
class CertificateCheck:
    """What anyone holding the code may see: name, track and date, nothing else."""

    code: str
    name: str | None
    """None once the learner had their personal data erased."""
    track_slug: str
    track_title: dict[str, str]
    issued_at: datetime


@dataclass(frozen=True)
class OwnCertificate:
    """One of the learner's certificates, as ``/progress`` lists it."""

    id: int
    code: str
    track_title: str
    issued_on: date
    """The day it was issued where the learner lives."""


@dataclass(frozen=True)
class Standing:
    """A learner against a track: its published lessons, how many they passed, their average."""

    published: int
    passed: int
    average_score: float | None


def new_code() -> str:
    """A fresh random certificate code (``secrets``: codes must not be guessable)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _standing(session: AsyncSession, *, learner: User, track_id: int) -> Standing:
    """The learner against the track's published lessons, in one query."""
    own_progress = and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == learner.id)
    published, passed, average = (
        await session.execute(
            select(
                func.count(Lesson.id),
                func.count(LessonProgress.id).filter(LessonProgress.passed.is_(True)),
                func.avg(LessonProgress.best_score),
            )
            .select_from(Lesson)
            .outerjoin(LessonProgress, own_progress)
            .where(Lesson.track_id == track_id, Lesson.status == LessonStatus.PUBLISHED)
        )
    ).one()
    return Standing(int(published), int(passed), float(average) if average is not None else None)


def meets(rule: PassRule, standing: Standing) -> bool:
    """Whether ``standing`` earns the track's certificate under its pass ``rule``."""
    if standing.published == 0:
        return False
    # A rule asking for more lessons than are published (some were archived) asks for all.
    required = min(rule.lessons or standing.published, standing.published)
    if standing.passed < required:
        return False
    if rule.min_average_score is None or standing.average_score is None:
        # Nothing scored (surveys and readings only): there is no average to fall short of.
        return True
    return standing.average_score >= rule.min_average_score


NAME_LIMIT = 200
"""The longest name a certificate prints (the column's size)."""


def telegram_name(learner: User) -> str | None:
    """The learner's name as Telegram gave it, first and last."""
    return " ".join(part for part in (learner.first_name, learner.last_name) if part) or None


def _name(learner: User) -> str | None:
    """The name a new certificate prints: the one the learner chose, else Telegram's."""
    return learner.certificate_name or telegram_name(learner)


def name_to_ask(learner: User) -> str | None:
    """Whether to ask the learner which name to print: the suggestion (Telegram's name, or ""
    when Telegram gave none), or None once they have chosen."""
    if learner.certificate_name is not None:
        return None
    return telegram_name(learner) or ""


def clean_name(text: str | None) -> str:
    """A typed name, with runs of spaces made one; InvalidInput when empty or too long."""
    name = " ".join((text or "").split())
    if not name or not name.isprintable():
        raise InvalidInput("The name is empty.")
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"The name is longer than {NAME_LIMIT} characters.")
    return name


async def choose_name(
    session: AsyncSession, *, learner: User, certificate_id: int, name: str | None
) -> None:
    """Keep the name the learner chose for their certificates and print it on this one.

    ``name`` None accepts the name Telegram gave (StaleButton once a name was chosen); later
    certificates print the chosen name without asking. Raises InvalidInput for an empty or too
    long name (or none from Telegram to accept), NotFound for a certificate not theirs.
    """
    if name is None and learner.certificate_name is not None:
        # The one-tap button pressed again after a name was chosen: it must not undo the choice.
        raise StaleButton("A name was chosen already.")
    chosen = clean_name(telegram_name(learner) if name is None else name)
    certificate = await session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != learner.id:
        raise NotFound("You have no such certificate.")
    learner.certificate_name = chosen
    certificate.name_on_certificate = chosen
    await session.flush()


async def _find_own(session: AsyncSession, *, user_id: int, track_id: int) -> int | None:
    return await session.scalar(
        select(Certificate.id).where(
            Certificate.user_id == user_id, Certificate.track_id == track_id
        )
    )


async def _issue(session: AsyncSession, *, learner: User, track_id: int) -> Certificate | None:
    """Insert the certificate in a savepoint, so a clash never spoils the caller's transaction.

    None when a concurrent update of the same learner issued it first.
    """
    for _ in range(CODE_DRAWS):
        certificate = Certificate(
            code=new_code(),
            user_id=learner.id,
            track_id=track_id,
            name_on_certificate=_name(learner),
        )
        try:
            async with session.begin_nested():
                session.add(certificate)
        except IntegrityError:
            if await _find_own(session, user_id=learner.id, track_id=track_id) is not None:
                return None
            continue
        return certificate
    raise RuntimeError(f"no unused certificate code in {CODE_DRAWS} draws")


_PASS_RULE = select(Track.pass_rule).where(Track.id == bindparam("track_id"))


async def award_if_earned(
    session: AsyncSession, *, learner: User, track_id: int
) -> Certificate | None:
    """Issue the learner's certificate for the track if they have just met its pass rule.

    Call it whenever a lesson of the track is passed. Returns the new certificate, or None when the
    rule is not met yet or the certificate exists already (calling it again changes nothing).
    Raises NotFound for an unknown track.
    """
    # The rule alone: the track's whole stored document is no part of it (every finished quiz
    # asks).
    track = (await session.execute(_PASS_RULE, {"track_id": track_id})).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    if learner.status is UserStatus.ERASED:
        return None
    if await _find_own(session, user_id=learner.id, track_id=track_id) is not None:
        return None
    rule = PassRule.model_validate(track.pass_rule or {})
    if not meets(rule, await _standing(session, learner=learner, track_id=track_id)):
        return None
    certificate = await _issue(session, learner=learner, track_id=track_id)
    if certificate is None:
        return None
    await activity.record(session, learner, Verb.CERTIFIED, track_id=track_id)
    await session.flush()
    return certificate


async def _with_track(
    session: AsyncSession, *where: ColumnElement[bool]
) -> tuple[Certificate, Track] | None:
    row = (
        await session.execute(
            select(Certificate, Track).join(Track, Certificate.track_id == Track.id).where(*where)
        )
    ).first()
    if row is None:
        return None
    certificate, track = row
    return certificate, track


async def own_certificates(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> list[OwnCertificate]:
    """The learner's certificates, oldest first, each track's title picked along ``chain``."""
    rows = await session.execute(
        select(Certificate.id, Certificate.code, Certificate.issued_at, Track.title)
        .join(Track, Certificate.track_id == Track.id)
        .where(Certificate.user_id == learner.id)
        .order_by(Certificate.issued_at, Certificate.id)
    )
    zone = learners.zone_of(learner.timezone, learner.country)
    return [
        OwnCertificate(
            id=id_,
            code=code,
            track_title=pick_text(title, chain),
            issued_on=issued.astimezone(zone).date(),
        )
        for id_, code, issued, title in rows
    ]


async def find_certificate(session: AsyncSession, code: str) -> CertificateCheck:
    """The public check of a code, as printed on the certificate (any letter case).

    Raises NotFound for a code that was never issued.
    """
    found = await _with_track(session, Certificate.code == code.strip().upper())
    if found is None:
        raise NotFound("No certificate has this code.")
    certificate, track = found
    return CertificateCheck(
        code=certificate.code,
        name=certificate.name_on_certificate,
        track_slug=track.slug,
        track_title=track.title,
        issued_at=certificate.issued_at,
    )


async def certificate_document(
    session: AsyncSession,
    *,
    learner: User,
    certificate_id: int,
    locales: Locales,
    texts: CertificateTexts,
    verify_base_url: str | None,
    issuer: Issuer | None = None,
) -> tuple[str, bytes]:
    """The learner's own certificate as a PDF: its file name and bytes.

    ``texts`` are the phrases in the learner's ``locales`` (the bot translates them); the track's
    title is picked along their chain, the date written in the first of their languages Babel knows.
    ``issuer`` is the programme named on it (``LT_PROGRAMME_NAME``, ``LT_CERTIFICATE_LOGO``).
    ``verify_base_url`` is where codes are checked, for instance
    ``https://example.org/api/v1/certificates``; the code is appended to it. Raises NotFound for a
    certificate that is not the learner's.
    """
    found = await _with_track(
        session, Certificate.id == certificate_id, Certificate.user_id == learner.id
    )
    if found is None:
        raise NotFound("You have no such certificate.")
    certificate, track = found
    verify_url = f"{verify_base_url.rstrip('/')}/{certificate.code}" if verify_base_url else None
    # Rendering takes a tenth of a second or more: keep it off the event loop.
    pdf = await asyncio.to_thread(
        render_certificate_pdf,
        name=certificate.name_on_certificate or "",
        track_title=pick_text(track.title, locales.content),
        # The day it was where the learner lives, not in Greenwich.
        issued_on=certificate.issued_at.astimezone(
            learners.zone_of(learner.timezone, learner.country)
        ).date(),
        code=certificate.code,
        locale=locales.formatting,
        verify_url=verify_url,
        texts=texts,
        issuer=issuer,
    )
    return f"certificate-{track.slug}-{certificate.code}.pdf", pdf
