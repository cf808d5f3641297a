"""The participation report page: grouping, period, days, its CSV, and the reader's reach."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.console import reports
from learntogether.db.models import TokenRole
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("programme")


@pytest.mark.parametrize("role", [TokenRole.ADMIN, TokenRole.VIEWER])
async def test_readers_group_participation_and_download_the_same_rows(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], role: TokenRole
) -> None:
    await sign_in(client, session_maker, role)
    page = await client.get("/reports/participation", params={"group_by": "cohort"})
    assert page.status_code == 200
    assert "<td>MAD1</td>" in page.text and "<td>SLV1</td>" in page.text
    assert 'href="/reports/participation.csv?group_by=cohort&amp;tz=UTC"' in page.text
    csv = await client.get("/reports/participation.csv", params={"group_by": "cohort"})
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("cohort,joined,active")
    assert [line.split(",")[0] for line in lines[1:]] == ["MAD1", "SLV1"]


async def test_a_mediator_reads_their_cohorts_rows_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/reports/participation", params={"group_by": "cohort"})
    assert "<td>SLV1</td>" in page.text and "MAD1" not in page.text
    other = await client.get("/reports/participation", params={"cohort": "MAD1"})
    assert other.status_code == 403
    assert "&#39;MAD1&#39; is not one of your cohorts" in other.text
    csv = await client.get("/reports/participation.csv", params={"group_by": "region"})
    assert "Madrid" not in csv.text


async def test_bad_parameters_are_shown_beside_their_fields(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get(
        "/reports/participation", params={"from": "yesterday", "group_by": "shoe size"}
    )
    assert page.status_code == 422
    assert 'id="start-errors"' in page.text and 'id="group_by-errors"' in page.text
    backwards = await client.get(
        "/reports/participation", params={"from": "2026-05-02", "to": "2026-05-01"}
    )
    assert backwards.status_code == 422
    assert 'id="end-errors"' in backwards.text
    unknown = await client.get("/reports/participation", params={"cohort": "NOPE"})
    assert unknown.status_code == 422
    assert 'id="cohort-errors"' in unknown.text


async def test_weeks_are_listed_with_their_first_day(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/reports/participation", params={"period": "week"})
    assert page.status_code == 200
    assert "<meter" in page.text


async def test_the_csv_link_keeps_the_days_under_their_own_names(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get(
        "/reports/participation", params={"from": "2000-01-01", "to": "2000-01-02"}
    )
    assert 'href="/reports/participation.csv?from=2000-01-01&amp;to=2000-01-02&amp;tz=UTC"' in (
        page.text
    )


async def test_report_pages_without_a_curriculum_say_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    funnel = await client.get("/reports/funnel")
    assert funnel.status_code == 200 and "Nothing recorded yet." in funnel.text
    questions = await client.get("/reports/questions")
    assert questions.status_code == 200 and "No lesson has a quiz yet." in questions.text
    awareness = await client.get("/reports/awareness")
    assert awareness.status_code == 200 and "No track has both surveys yet." in awareness.text
    assert "Download as CSV" not in questions.text + awareness.text


async def test_participation_pages_through_its_groups_keeping_the_filters(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reports, "GROUPS_A_PAGE", 1)
    await sign_in(client, session_maker, TokenRole.VIEWER)
    first = await client.get("/reports/participation", params={"group_by": "cohort"})
    assert first.status_code == 200
    assert "<td>MAD1</td>" in first.text and "SLV1" not in first.text
    assert "Page 1 of 2" in first.text and "1–1 of 2" in first.text
    assert 'href="/reports/participation?group_by=cohort&amp;tz=UTC&amp;page=2" rel="next"' in (
        first.text
    )
    assert 'rel="prev"' not in first.text
    second = await client.get("/reports/participation", params={"group_by": "cohort", "page": 2})
    assert "<td>SLV1</td>" in second.text and "<td>MAD1</td>" not in second.text
    assert 'href="/reports/participation?group_by=cohort&amp;tz=UTC&amp;page=1" rel="prev"' in (
        second.text
    )
    assert 'rel="next"' not in second.text
    csv = await client.get("/reports/participation.csv", params={"group_by": "cohort"})
    assert [line.split(",")[0] for line in csv.text.splitlines()[1:]] == ["MAD1", "SLV1"]


async def test_one_page_shows_no_page_links(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    page = await client.get("/reports/participation", params={"group_by": "cohort"})
    assert "<td>MAD1</td>" in page.text and "<td>SLV1</td>" in page.text
    assert "Pages of the report" not in page.text


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("3", "There is no page 3: the last page is 2."),
        ("0", "Give a page number: 1, 2, 3…"),
        ("two", "Give a page number: 1, 2, 3…"),
        ("-1", "Give a page number: 1, 2, 3…"),
        ("\u0662", "Give a page number: 1, 2, 3…"),
    ],
)
async def test_a_bad_page_number_is_named_not_a_server_error(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    page: str,
    message: str,
) -> None:
    monkeypatch.setattr(reports, "GROUPS_A_PAGE", 1)
    await sign_in(client, session_maker, TokenRole.VIEWER)
    answer = await client.get("/reports/participation", params={"group_by": "cohort", "page": page})
    assert answer.status_code == 422
    assert 'id="page-errors"' in answer.text and message in answer.text
    assert 'name="group_by"' in answer.text


@pytest.mark.parametrize(
    ("path", "params", "field", "message"),
    [
        ("/reports/participation", {"cohort": "NOPE"}, "cohort", "няма група с код „NOPE“"),
        (
            "/reports/participation",
            {"from": "2026-05-02", "to": "2026-05-01"},
            "end",
            "2026-05-01 е преди началото 2026-05-02",
        ),
        (
            "/reports/participation",
            {"group_by": "cohort", "page": "3"},
            "page",
            "Няма страница 3: последната страница е 2.",
        ),
        ("/reports/funnel", {"track": "nope"}, "track", "няма курс „nope“"),
        ("/reports/questions", {"lesson": "nope"}, "lesson", "няма урок „nope“"),
    ],
)
async def test_a_report_services_problems_are_said_in_the_readers_language(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    monkeypatch.setattr(reports, "GROUPS_A_PAGE", 1)
    await sign_in(client, session_maker)
    answer = await client.get(path, params=params, headers={"accept-language": "bg"})
    assert answer.status_code == 422
    errors = answer.text.partition(f'id="{field}-errors"')[2]
    assert message in errors.partition("</")[0]


async def test_a_mediator_asking_for_another_teams_cohort_is_told_why_in_their_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    answer = await client.get(
        "/reports/participation", params={"cohort": "MAD1"}, headers={"accept-language": "bg"}
    )
    assert answer.status_code == 403
    assert "<p>Групата „MAD1“ не е от вашите групи.</p>" in answer.text
    assert (
        "MAD1"
        not in (await client.get("/reports/participation", params={"group_by": "cohort"})).text
    )


async def test_roles_and_languages_are_grouped_under_their_names_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    by_language = await client.get(
        "/reports/participation", params={"group_by": "locale"}, headers={"accept-language": "bg"}
    )
    assert "<td>испански</td>" in by_language.text and "<td>es</td>" not in by_language.text
    by_role = await client.get("/reports/participation", params={"group_by": "role"})
    assert "<td>Teacher</td>" in by_role.text and "<td>teacher</td>" not in by_role.text
    # The CSV keeps the values as recorded, for scripts.
    rows = (await client.get("/reports/participation.csv", params={"group_by": "role"})).text
    assert "\nteacher," in rows
