"""The public check of a certificate: anyone holding the code sees name, track and date.

Programs get JSON; a browser (``Accept`` preferring ``text/html``), following the link printed on
the certificate, gets a page in its reader's language.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from babel.dates import format_date
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from learntogether.api.deps import SessionDep
from learntogether.api.pages import Pages
from learntogether.api.ratelimit import ClientRateLimit
from learntogether.content.render import pick_text
from learntogether.csvout import prefers_to_json
from learntogether.i18n import SOURCE_LOCALE, babel_locale
from learntogether.problems import problem_response
from learntogether.services import certificates
from learntogether.services.certificates import CertificateCheck
from learntogether.services.errors import NotFound


async def limit_checks(request: Request) -> None:
    """Codes are short: guessing them is held to ``LT_CERTIFICATE_CHECKS_PER_MINUTE`` an address."""
    limit: ClientRateLimit = request.app.state.certificate_limit
    await limit.check(request)


router = APIRouter(
    prefix="/certificates", tags=["certificates"], dependencies=[Depends(limit_checks)]
)


class CertifiedTrack(BaseModel):
    slug: str
    title: dict[str, str] = Field(description="The track's title by locale")


class CertificateVerification(BaseModel):
    """What the certificate states, and nothing else about the learner."""

    code: str
    name: str | None = Field(description="Null when the learner had their personal data erased")
    track: CertifiedTrack
    issued_on: date

    @classmethod
    def of(cls, check: CertificateCheck) -> CertificateVerification:
        return cls(
            code=check.code,
            name=check.name,
            track=CertifiedTrack(slug=check.track_slug, title=check.track_title),
            issued_on=check.issued_at.date(),
        )


@router.get(
    "/{code}",
    summary="Check a certificate by the code printed on it (public, no token)",
    description=(
        "JSON for programs; an HTML page in the reader's language (`Accept-Language`) when "
        "`Accept` prefers `text/html`, as a browser following the printed link does."
    ),
    response_model=CertificateVerification,
    responses={
        200: {"content": {"text/html": {}}},
        404: problem_response("No certificate has this code"),
        429: problem_response("Too many checks from this address; see Retry-After"),
    },
)
async def verify_certificate(
    code: Annotated[str, Path(description="The code on the certificate, in any letter case")],
    session: SessionDep,
    request: Request,
) -> CertificateVerification | HTMLResponse:
    if not prefers_to_json(request.headers.get("accept"), "text/html"):
        return CertificateVerification.of(await certificates.find_certificate(session, code))
    pages: Pages = request.app.state.pages
    locale = pages.reader_locale(request)
    try:
        check = await certificates.find_certificate(session, code)
    except NotFound:
        return pages.render(
            "certificate.html",
            locale,
            {"check": None, "programme": pages.settings.programme_name},
            status=404,
        )
    return pages.render(
        "certificate.html",
        locale,
        {
            "check": check,
            "track_title": pick_text(check.track_title, [locale, SOURCE_LOCALE]),
            "issued_on": format_date(check.issued_at, "long", locale=babel_locale(locale)),
            "programme": pages.settings.programme_name,
        },
    )
