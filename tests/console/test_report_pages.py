"""The funnel, item analysis and awareness pages: titles in the reader's language, a chart, the
CSV with the same choice, the reader's reach, and problems beside their fields."""

from __future__ import annotations

import csv
import io

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.console.conftest import sign_in


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


pytestmark = pytest.mark.usefixtures("taught")


@pytest.mark.parametrize("role", [TokenRole.ADMIN, TokenRole.VIEWER])
async def test_readers_see_the_funnel_with_lesson_titles_a_chart_and_its_csv(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], role: TokenRole
) -> None:
    await sign_in(client, session_maker, role)
    page = await client.get("/reports/funnel", headers={"accept-language": "bg"})
    assert page.status_code == 200, page.text
    assert "Какво е сегрегация" in page.text  # the lesson's title in Bulgarian, not its slug
    assert '<option value="demo" selected>Смесената класна стая</option>' in page.text
    assert 'class="chart"' in page.text and "<svg" in page.text
    assert 'href="/reports/funnel.csv?track=demo&amp;tz=UTC"' in page.text
    download = await client.get("/reports/funnel.csv", params={"track": "demo"})
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in download.headers["content-disposition"]
    rows = _rows(download.text)
    started = [row for row in rows if row["stage"] == "started"]
    assert {row["lesson"]: row["learners"] for row in started} == {
        "before": "11",
        "middle": "11",
        "after": "11",
    }


async def test_the_funnel_csv_keeps_the_days_chosen(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    choice = {"track": "demo", "from": "2000-01-01", "to": "2000-01-31", "tz": "Europe/Sofia"}
    page = await client.get("/reports/funnel", params=choice)
    assert (
        'href="/reports/funnel.csv?track=demo&amp;from=2000-01-01&amp;to=2000-01-31'
        '&amp;tz=Europe%2FSofia"' in page.text
    )
    rows = _rows((await client.get("/reports/funnel.csv", params=choice)).text)
    assert {row["learners"] for row in rows} == {"0"}


async def test_a_mediator_reads_the_funnel_of_their_cohorts_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["MAD1"])
    rows = _rows((await client.get("/reports/funnel.csv", params={"track": "demo"})).text)
    started = {row["lesson"]: row["learners"] for row in rows if row["stage"] == "started"}
    assert started == {"before": "5", "middle": "5", "after": "5"}


async def test_funnel_problems_are_shown_beside_their_fields(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    unknown = await client.get("/reports/funnel", params={"track": "nope", "from": "soon"})
    assert unknown.status_code == 422
    assert 'id="start-errors"' in unknown.text
    backwards = await client.get(
        "/reports/funnel.csv", params={"track": "demo", "from": "2026-05-02", "to": "2026-05-01"}
    )
    assert backwards.status_code == 422 and 'id="end-errors"' in backwards.text
    no_track = await client.get("/reports/funnel", params={"track": "nope"})
    assert no_track.status_code == 422 and 'id="track-errors"' in no_track.text


async def test_item_analysis_shows_question_and_option_texts_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    page = await client.get(
        "/reports/questions", params={"lesson": "middle"}, headers={"accept-language": "bg"}
    )
    assert page.status_code == 200, page.text
    assert "Кога е решено D.H.?" in page.text and "Невярно" in page.text
    assert "dh-year" not in page.text
    assert 'class="chart"' in page.text
    assert 'href="/reports/questions.csv?lesson=middle"' in page.text
    rows = _rows((await client.get("/reports/questions.csv", params={"lesson": "middle"})).text)
    first = next(row for row in rows if row["question"] == "dh-year")
    assert (first["answers"], first["facility"]) == ("11", "0.545")


async def test_item_analysis_of_a_mediator_keeps_to_their_cohorts_and_names_a_bad_lesson(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    rows = _rows((await client.get("/reports/questions.csv", params={"lesson": "middle"})).text)
    first = next(row for row in rows if row["question"] == "dh-year")
    assert (first["answers"], first["facility"]) == ("6", "1.0")
    unknown = await client.get("/reports/questions", params={"lesson": "nope"})
    assert unknown.status_code == 422 and 'id="lesson-errors"' in unknown.text


async def test_awareness_shows_statements_before_and_after_with_its_csv(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/reports/awareness", headers={"accept-language": "bg"})
    assert page.status_code == 200, page.text
    assert "Твърдение mixed" in page.text and 'class="chart"' in page.text
    grouped = await client.get(
        "/reports/awareness.csv", params={"track": "demo", "group_by": "cohort"}
    )
    overall = {row["cohort"]: row for row in _rows(grouped.text) if row["item"] == ""}
    assert overall["SLV1"]["learners"] == "6" and overall["SLV1"]["shift"] == "1.0"
    assert overall["MAD1"]["learners"] == "5"


async def test_awareness_withholds_small_groups_and_keeps_a_mediator_to_their_cohorts(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/reports/awareness", params={"group_by": "region"})
    assert page.status_code == 200
    assert "Madrid" not in page.text
    rows = _rows((await client.get("/reports/awareness.csv", params={"group_by": "role"})).text)
    assert {row["learners"] for row in rows} == {"6"}
    bad = await client.get("/reports/awareness", params={"group_by": "shoe size"})
    assert bad.status_code == 422 and 'id="group_by-errors"' in bad.text
    unknown = await client.get("/reports/awareness", params={"track": "nope"})
    assert unknown.status_code == 422 and 'id="track-errors"' in unknown.text


async def test_awareness_by_role_names_the_role_in_the_table_and_the_chart(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get(
        "/reports/awareness", params={"group_by": "role"}, headers={"accept-language": "bg"}
    )
    assert page.status_code == 200, page.text
    assert "<dt>Учител</dt>" in page.text and "<td>Учител</td>" in page.text
    assert "teacher" not in page.text
