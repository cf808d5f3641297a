"""The public check of a certificate: anyone holding the code sees name, track and date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from learntogether.api.deps import SessionDep
from learntogether.api.ratelimit import ClientRateLimit
from learntogether.problems import problem_response
from learntogether.services import certificates
from learntogether.services.certificates import CertificateCheck


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
    responses={
        404: problem_response("No certificate has this code"),
        429: problem_response("Too many checks from this address; see Retry-After"),
    },
)
async def verify_certificate(
    code: Annotated[str, Path(description="The code on the certificate, in any letter case")],
    session: SessionDep,
) -> CertificateVerification:
    return CertificateVerification.of(await certificates.find_certificate(session, code))
