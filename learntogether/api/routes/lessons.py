from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel

from learntogether.api.deps import AdminDep, PageDep, ReaderDep, SessionDep, SettingsDep
from learntogether.api.schemas import Page, same_slug
from learntogether.content.render import RenderedLesson
from learntogether.content.schema import LessonDocument
from learntogether.db.models import LessonStatus, Role
from learntogether.services import lessons, step_audio
from learntogether.services.inputs import MAX_INTEGER, MAX_ROW_ID
from learntogether.services.lessons import LessonDetail, LessonSummary, VersionInfo

router = APIRouter(prefix="/lessons", tags=["lessons"])
SlugPath = Annotated[str, Path(description="The lesson's slug")]


class VersionDocument(BaseModel):
    version: VersionInfo
    document: dict[str, Any]


class Preview(BaseModel):
    """What a learner in ``requested_locale`` sees, and which fallbacks that took."""

    version: VersionInfo
    lesson: RenderedLesson


@router.get("", summary="List lessons in curriculum order")
async def list_lessons(
    session: SessionDep,
    _: ReaderDep,
    page: PageDep,
    track: Annotated[str | None, Query(description="Only this track's lessons")] = None,
    role: Annotated[Role | None, Query(description="Only lessons for this role")] = None,
    locale: Annotated[str | None, Query(description="Only lessons complete in this locale")] = None,
    status: LessonStatus | None = None,
) -> Page[LessonSummary]:
    items, total = await lessons.list_lessons(
        session,
        limit=page.limit,
        offset=page.offset,
        track=track,
        role=role,
        locale=locale,
        status=status,
    )
    return Page.of(items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/{slug}",
    summary="A lesson with its newest document, or with ?locale= the preview a learner sees",
    response_model=LessonDetail | Preview,
)
async def get_lesson(
    slug: SlugPath,
    session: SessionDep,
    _: ReaderDep,
    settings: SettingsDep,
    locale: Annotated[str | None, Query(description="Render for a learner in this locale")] = None,
    fallback: Annotated[
        str | None,
        Query(description="The cohort's locale, tried before LT_DEFAULT_LOCALE's and English"),
    ] = None,
    version: Annotated[
        int | None,
        Query(ge=1, le=MAX_INTEGER, description="Preview this version (default: newest)"),
    ] = None,
) -> LessonDetail | Preview:
    if locale is None:
        return await lessons.get_lesson(session, slug)
    info, rendered = await lessons.preview_lesson(
        session,
        slug=slug,
        locale=locale,
        fallback_locale=fallback,
        default_locale=settings.default_locale,
        version=version,
    )
    return Preview(version=info, lesson=rendered)


@router.put("/{slug}", summary="Save a lesson document as a draft (201 when the lesson is new)")
async def put_lesson(
    slug: SlugPath,
    document: Annotated[LessonDocument, Body()],
    session: SessionDep,
    actor: AdminDep,
    response: Response,
) -> LessonDetail:
    same_slug(url=slug, document=document.slug)
    detail, created = await lessons.save_draft(session, document=document, actor=actor)
    response.status_code = 201 if created else 200
    return detail


@router.get("/{slug}/versions", summary="Every version of a lesson, newest first")
async def list_versions(slug: SlugPath, session: SessionDep, _: ReaderDep) -> list[VersionInfo]:
    return await lessons.list_versions(session, slug)


@router.get("/{slug}/versions/{number}", summary="One version's document, however old")
async def get_version(
    slug: SlugPath,
    number: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    session: SessionDep,
    _: ReaderDep,
) -> VersionDocument:
    info, document = await lessons.get_version(session, slug, number)
    return VersionDocument(version=info, document=document)


@router.post("/{slug}/publish", summary="Publish the pending draft; new learners start it")
async def publish_lesson(slug: SlugPath, session: SessionDep, actor: AdminDep) -> LessonDetail:
    return await lessons.publish_lesson(session, slug=slug, actor=actor)


@router.post("/{slug}/archive", summary="Stop offering a lesson; progress and reports keep it")
async def archive_lesson(slug: SlugPath, session: SessionDep, actor: AdminDep) -> LessonDetail:
    return await lessons.archive_lesson(session, slug=slug, actor=actor)


StepPath = Annotated[int, Path(ge=0, le=MAX_INTEGER, description="The step, counted from 0")]
LocalePath = Annotated[str, Path(max_length=8, description="The recording's language")]
OGG_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"audio/ogg": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/{slug}/steps/{step}/audio/{locale}",
    summary="Record a step in a language: the OGG/Opus file as the body; a new draft",
    openapi_extra=OGG_BODY,
)
async def put_step_audio(
    slug: SlugPath,
    step: StepPath,
    locale: LocalePath,
    request: Request,
    session: SessionDep,
    actor: AdminDep,
) -> LessonDetail:
    return await step_audio.upload_step_recording(
        session, slug=slug, step=step, locale=locale, data=await request.body(), actor=actor
    )


@router.delete(
    "/{slug}/steps/{step}/audio/{locale}",
    summary="Remove a step's recording in a language; a new draft",
)
async def delete_step_audio(
    slug: SlugPath, step: StepPath, locale: LocalePath, session: SessionDep, actor: AdminDep
) -> LessonDetail:
    return await step_audio.remove_step_recording(
        session, slug=slug, step=step, locale=locale, actor=actor
    )


@router.get(
    "/{slug}/steps/{step}/audio/{locale}",
    summary="Listen to a step's recording (of the newest version unless ?version=)",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}},
)
async def get_step_audio(
    slug: SlugPath,
    step: StepPath,
    locale: LocalePath,
    session: SessionDep,
    _: ReaderDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_INTEGER)] = None,
) -> Response:
    info, data = await step_audio.step_recording(
        session, slug=slug, step=step, locale=locale, version=version
    )
    return Response(data, media_type=info.mime_type, headers={"ETag": f'"{info.sha256}"'})
