"""The public check of a certificate: anyone holding the code sees name, track and date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from learntogether.api.deps import SessionDep
from learntogether.services import certificates
from learntogether.services.certificates import CertificateCheck

router = APIRouter(prefix="/certificates", tags=["certificates"])


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
    responses={404: {"description": "No certificate has this code"}},
)
async def verify_certificate(
    code: Annotated[str, Path(description="The code on the certificate, in any letter case")],
    session: SessionDep,
) -> CertificateVerification:
    return CertificateVerification.of(await certificates.find_certificate(session, code))
