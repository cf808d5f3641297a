"""CSV on request: which ``Accept`` gets CSV, cells a spreadsheet cannot run, and the reports
route answering by both."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.csvout import cell, csv_line, csv_table, wants_csv
from learntogether.db.models import Role, TokenRole, Verb
from tests.factories import create_api_token
from tests.report_builders import add_cohort, add_learner, at, record

PARTICIPATION = "/api/v1/reports/participation"


@pytest.fixture
async def viewer(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    token = await create_api_token(session_maker, TokenRole.VIEWER, name="funder")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        ("text/csv", True),
        ("TEXT/CSV", True),
        ("text/csv; charset=utf-8", True),
        ("text/csv, */*;q=0.1", True),
        ("text/csv, */*", True),
        ("application/*, text/csv", True),
        ("text/csv, application/json;q=0.9", True),
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0.5, application/json", False),
        ("application/json, text/csv", False),
        ("text/csv;q=0", False),
        ("text/csv;q=0, application/json", False),
        ("text/csv;q=0.5, */*", False),
        ("text/csv;q=high", False),
        ("text/csvx", False),
        ("text/html", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_header_negotiation(accept: str | None, csv_wanted: bool) -> None:
    assert wants_csv(accept) is csv_wanted


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (Role.TEACHER, "teacher"),
        (datetime(2026, 1, 11, 21, 30, tzinfo=UTC), "2026-01-11T21:30:00+00:00"),
        (("SLV1", "SOF1"), "SLV1 SOF1"),
        ((), ""),
        (0, "0"),
        (42, "42"),
        (-3, "-3"),
        (0.75, "0.75"),
        (-0.25, "-0.25"),
        ("Sliven", "Sliven"),
        ("a=b", "a=b"),
        ("Veliko Tarnovo - centre", "Veliko Tarnovo - centre"),
    ],
)
def test_cell_formats_each_kind_of_value(value: object, expected: str) -> None:
    assert cell(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=cmd",
        "\r=cmd",
        "-0.25",
        "\uff1dcmd|' /C calc'!A0",
        "\uff0b1",
        "\uff20SUM(A1)",
    ],
)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text: str) -> None:
    assert cell(text) == "'" + text


def test_tuple_that_starts_like_a_formula_gets_an_apostrophe() -> None:
    assert cell(("-A1", "SLV1")) == "'-A1 SLV1"


def test_csv_line_quotes_commas_quotes_and_newlines_and_ends_in_crlf() -> None:
    line = csv_line(["Sofia, city", 'say "hi"', "two\nlines", -1, None])
    assert line == '"Sofia, city","say ""hi""","two\nlines",-1,\r\n'


def test_a_formula_after_a_semicolon_stays_inside_one_quoted_cell() -> None:
    line = csv_line(['x;=HYPERLINK("http://x")', "Sliven"])
    assert line == '"x;=HYPERLINK(""http://x"")",Sliven\r\n'
    # Read with ";" as the separator, as Bulgarian, Spanish, French and Dutch spreadsheets do,
    # the quoted cell stays whole and starts with "x", not with a formula.
    [record] = csv.reader(io.StringIO(line), delimiter=";")
    assert record[0].startswith("x;=")


def test_csv_line_reads_back_as_the_cells_written() -> None:
    values = ["Sofia, city", 'say "hi"', "two\nlines", "a;b", "plain", ""]
    [record] = csv.reader(io.StringIO(csv_line(values)))
    assert record == values


def test_csv_table_has_its_header_then_a_record_per_row() -> None:
    text = csv_table(["region", "shift", "suppressed"], [["=cmd", -0.25, False], [None, 1, True]])
    assert text == "region,shift,suppressed\r\n'=cmd,-0.25,false\r\n,1,true\r\n"


def test_csv_table_without_rows_is_its_header() -> None:
    assert csv_table(["region", "joined"], []) == "region,joined\r\n"


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        ("text/csv", True),
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0, application/json", False),
        ("text/csv;q=0", False),
        ("application/json, text/csv", False),
        ("*/*", False),
    ],
)
async def test_report_is_csv_only_when_accept_prefers_it(
    client: AsyncClient, viewer: dict[str, str], accept: str, csv_wanted: bool
) -> None:
    response = await client.get(PARTICIPATION, headers={**viewer, "Accept": accept})
    assert response.status_code == 200, response.text
    if csv_wanted:
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            'attachment; filename="participation.csv"'
        )
        assert response.text.startswith("joined,active,")
    else:
        assert response.headers["content-type"] == "application/json"
        assert "content-disposition" not in response.headers
        assert set(response.json()) == {"columns", "rows"}


async def test_report_without_an_accept_header_is_json(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    request = client.build_request("GET", PARTICIPATION, headers=viewer)
    del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


async def test_bad_report_parameter_asking_for_csv_is_a_problem_not_csv(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        PARTICIPATION, params={"group_by": "galaxy"}, headers={**viewer, "Accept": "text/csv"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize("group_by", ["region", "municipality"])
async def test_report_place_a_learner_typed_as_a_formula_is_defused_in_csv_only(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    viewer: dict[str, str],
    group_by: str,
) -> None:
    async with session_maker() as session:
        cohort = await add_cohort(session, "EVIL", region="=cmd", municipality="=cmd")
        learner = await add_learner(session, cohort=cohort)
        await record(session, learner, Verb.JOINED, at(11))
        await session.commit()
    params = {"group_by": group_by}

    as_json = await client.get(PARTICIPATION, params=params, headers=viewer)
    as_csv = await client.get(
        PARTICIPATION, params=params, headers={**viewer, "Accept": "text/csv"}
    )

    assert [row[group_by] for row in as_json.json()["rows"]] == ["=cmd"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(row[group_by], row["joined"]) for row in rows] == [("'=cmd", "1")]
