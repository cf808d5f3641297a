"""The reports resource: JSON, CSV equal to it, charts, bad parameters, roles and scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Role, TokenRole, User, Verb
from learntogether.services import learners
from tests.content.samples import every_kind_lesson, survey
from tests.factories import create_api_token
from tests.report_builders import Given, add_cohort, import_track, record, take_quiz

CHAIN = ["en"]
REPORTS = [
    ("participation", {"group_by": "cohort", "period": "week", "tz": "Europe/Sofia"}),
    ("participation", {}),
    ("funnel", {"track": "demo"}),
    ("questions", {"lesson": "kinds"}),
    ("awareness", {"track": "demo", "group_by": "role", "min_group": 5}),
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def recorded(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """Track ``demo`` (pre-survey, a quiz of every kind, post-survey) taken by a teacher of SLV1
    and a parent of SOF1, and two joins either side of midnight in Sofia."""
    async with session_maker() as session:
        await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
        await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
        documents = [
            ("before", survey("pre", ["mixed", "fair"])),
            ("kinds", every_kind_lesson()),
            ("after", survey("post", ["mixed", "fair"])),
        ]
        await import_track(session, documents)
        taken: list[tuple[int, str, Role, list[Given], list[Given], list[Given]]] = [
            (1, "SLV1", Role.TEACHER, [[2], [4]], [[1], [0, 2], [0], [5], "Mix them."], [[4], [2]]),
            (2, "SOF1", Role.PARENT, [[1], [3]], [[0], [1], [1], [3], None], [[2], [3]]),
        ]
        for telegram_id, cohort, role, pre, quiz, post in taken:
            learner = await learners.register(
                session,
                telegram_id=telegram_id,
                first_name="L",
                locale="bg",
                role=role,
                cohort_code=cohort,
            )
            await take_quiz(session, learner, "before", pre)
            await take_quiz(session, learner, "kinds", quiz)
            await take_quiz(session, learner, "after", post)
        for telegram_id, moment in [
            (3, datetime(2026, 1, 11, 21, 30, tzinfo=UTC)),  # Sunday 23:30 in Sofia
            (4, datetime(2026, 1, 11, 22, 30, tzinfo=UTC)),  # Monday 00:30 in Sofia
        ]:
            joiner = User(telegram_id=telegram_id, role=Role.TEACHER, locale="en")
            session.add(joiner)
            await session.flush()
            await record(session, joiner, Verb.JOINED, moment)
        await session.commit()


@pytest.fixture
async def viewer(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return _bearer(await create_api_token(session_maker, TokenRole.VIEWER, name="funder"))


def _as_csv_cells(rows: list[dict[str, object]]) -> list[dict[str, str]]:
    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return [{key: cell(value) for key, value in row.items()} for row in rows]


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize(("name", "params"), REPORTS)
async def test_csv_equals_json(
    client: AsyncClient, viewer: dict[str, str], name: str, params: dict[str, str | int]
) -> None:
    as_json = await client.get(f"/api/v1/reports/{name}", params=params, headers=viewer)
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["rows"], "the fixture should give every report some rows"
    as_csv = await client.get(
        f"/api/v1/reports/{name}", params=params, headers={**viewer, "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{name}.csv"' in as_csv.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(as_csv.text))
    assert reader.fieldnames == body["columns"]
    assert list(reader) == _as_csv_cells(body["rows"])
    assert all(list(row) == body["columns"] for row in body["rows"])


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize(("name", "params"), REPORTS)
async def test_chart_of_every_report_is_a_png(
    client: AsyncClient, viewer: dict[str, str], name: str, params: dict[str, str | int]
) -> None:
    response = await client.get(f"/api/v1/reports/{name}.png", params=params, headers=viewer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.usefixtures("recorded")
async def test_participation_by_region_and_week_in_sofia(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/participation",
        params={"group_by": "region", "period": "week", "tz": "Europe/Sofia"},
        headers=viewer,
    )
    body = response.json()
    # The two who joined without a cohort have no region; the others joined today.
    body["rows"] = [row for row in body["rows"] if row["region"] is None]
    assert body == {
        "columns": [
            "region",
            "period",
            "joined",
            "active",
            "lessons_started",
            "lessons_completed",
            "tracks_completed",
            "certificates",
            "attended",
            "assisted_learners",
            "assisted_lessons_completed",
            "assisted_attended",
            "reviewed",
            "listened",
        ],
        "rows": [
            {
                "region": None,
                "period": period,
                "joined": 1,
                "active": 1,
                "lessons_started": 0,
                "lessons_completed": 0,
                "tracks_completed": 0,
                "certificates": 0,
                "attended": 0,
                "assisted_learners": 0,
                "assisted_lessons_completed": 0,
                "assisted_attended": 0,
                "reviewed": 0,
                "listened": 0,
            }
            for period in ("2026-01-05", "2026-01-12")
        ],
    }


@pytest.mark.usefixtures("recorded")
async def test_participation_totals_of_the_learners_who_took_the_track(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/participation", params={"group_by": "cohort"}, headers=viewer
    )
    rows = [row for row in response.json()["rows"] if row["cohort"] is not None]
    # Each took three lessons; the teacher's quiz scores enough for the certificate.
    assert [
        (r["cohort"], r["joined"], r["lessons_started"], r["lessons_completed"]) for r in rows
    ] == [("SLV1", 1, 3, 3), ("SOF1", 1, 3, 3)]
    assert [(r["tracks_completed"], r["certificates"]) for r in rows] == [(1, 1), (1, 0)]


@pytest.mark.usefixtures("recorded")
async def test_mediator_sees_only_its_cohorts_rows(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    mediator = _bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, name="m", cohorts=["SLV1"])
    )
    by_cohort = await client.get(
        "/api/v1/reports/participation", params={"group_by": "cohort"}, headers=mediator
    )
    assert [row["cohort"] for row in by_cohort.json()["rows"]] == ["SLV1"]
    other = await client.get(
        "/api/v1/reports/participation",
        params={"cohort": "SOF1", "group_by": "cohort"},
        headers=mediator,
    )
    # Another cohort's code is refused as an unknown one is (test_existence_oracle).
    assert other.status_code == 403
    awareness = await client.get(
        "/api/v1/reports/awareness",
        params={"track": "demo", "group_by": "cohort"},
        headers=mediator,
    )
    assert {row["cohort"] for row in awareness.json()["rows"]} == {"SLV1"}
    answers = await client.get(
        "/api/v1/reports/questions", params={"lesson": "kinds"}, headers=mediator
    )
    assert {row["answers"] for row in answers.json()["rows"]} == {1}
    funnel = await client.get("/api/v1/reports/funnel", params={"track": "demo"}, headers=mediator)
    assert {row["learners"] for row in funnel.json()["rows"] if row["stage"] == "started"} == {1}


@pytest.mark.parametrize(
    ("name", "params", "path"),
    [
        ("participation", {"group_by": "galaxy"}, "query.group_by"),
        ("participation", {"period": "day"}, "query.period"),
        ("participation", {"tz": "Mars/Olympus"}, "query.tz"),
        ("participation", {"from": "2026-13-01"}, "query.from"),
        ("participation", {"from": "2026-02-01", "to": "2026-01-01"}, "query.to"),
        ("participation", {"cohort": "NOPE"}, "query.cohort"),
        ("participation", {"track": "nope"}, "query.track"),
        ("participation", {"role": "astronaut"}, "query.role"),
        ("funnel", {"track": "nope"}, "query.track"),
        ("questions", {}, "query.lesson"),
        ("questions", {"lesson": "nope"}, "query.lesson"),
        ("questions", {"lesson": "kinds", "version": 0}, "query.version"),
        ("awareness", {"track": "demo", "min_group": 0}, "query.min_group"),
        ("awareness", {"track": "demo", "min_group": 4}, "query.min_group"),
        ("awareness", {"track": "demo", "group_by": "ethnicity"}, "query.group_by"),
        ("awareness", {"track": "nope"}, "query.track"),
    ],
)
async def test_bad_parameters_are_422_naming_the_parameter(
    client: AsyncClient,
    viewer: dict[str, str],
    name: str,
    params: dict[str, str | int],
    path: str,
) -> None:
    for suffix in ("", ".png"):
        response = await client.get(
            f"/api/v1/reports/{name}{suffix}", params=params, headers=viewer
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["path"] for error in response.json()["errors"]] == [path]


async def test_reports_need_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/v1/reports/participation")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_empty_report_still_has_its_columns_in_csv(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/participation",
        params={"group_by": "region"},
        headers={**viewer, "Accept": "text/csv"},
    )
    assert response.text.splitlines() == [
        "region,joined,active,lessons_started,lessons_completed,tracks_completed,certificates,"
        "attended,assisted_learners,assisted_lessons_completed,assisted_attended,reviewed,"
        "listened"
    ]


@pytest.mark.usefixtures("recorded")
async def test_a_negative_shift_is_a_plain_number_in_csv(
    client: AsyncClient, viewer: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    # Four more teachers answer as the first did: five, the privacy floor, show their figures.
    async with session_maker() as session:
        for telegram_id in range(11, 15):
            teacher = await learners.register(
                session,
                telegram_id=telegram_id,
                first_name="L",
                locale="bg",
                role=Role.TEACHER,
                cohort_code="SLV1",
            )
            await take_quiz(session, teacher, "before", [[2], [4]])
            await take_quiz(session, teacher, "after", [[4], [2]])
        await session.commit()
    params: dict[str, str | int] = {"track": "demo", "group_by": "role"}
    as_json = await client.get("/api/v1/reports/awareness", params=params, headers=viewer)
    as_csv = await client.get(
        "/api/v1/reports/awareness", params=params, headers={**viewer, "Accept": "text/csv"}
    )
    negative = [str(row["shift"]) for row in as_json.json()["rows"] if (row["shift"] or 0) < 0]
    assert negative, "the fixture's teacher should lose a point on a statement"
    shifts = [row["shift"] for row in csv.DictReader(io.StringIO(as_csv.text))]
    assert set(negative) <= set(shifts)
    assert not any(shift.startswith("'") for shift in shifts)


PAGED = [
    {"group_by": "cohort", "period": "week", "tz": "Europe/Sofia"},
    {"group_by": "region"},
    {"group_by": "role", "period": "month"},
    {"period": "week"},
]


async def _walk(
    client: AsyncClient, headers: dict[str, str], params: dict[str, str | int]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Every page of the participation report, from page 1 by the ``next`` links: the rows, and
    each page's body without them."""
    response = await client.get("/api/v1/reports/participation", params=params, headers=headers)
    rows: list[dict[str, object]] = []
    places: list[dict[str, object]] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body.pop("rows")
        places.append(body)
        if "next" not in response.links:
            return rows, places
        response = await client.get(response.links["next"]["url"], headers=headers)


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize("params", PAGED)
async def test_walking_every_page_gives_the_rows_of_the_unpaged_report(
    client: AsyncClient, viewer: dict[str, str], params: dict[str, str | int]
) -> None:
    whole = await client.get("/api/v1/reports/participation", params=params, headers=viewer)
    assert whole.status_code == 200
    assert "link" not in whole.headers
    columns, rows = whole.json()["columns"], whole.json()["rows"]
    grouping = params.get("group_by")
    groups = len({row[grouping] for row in rows}) if isinstance(grouping, str) else 1
    assert groups > 1 or grouping is None, "the fixture should give several groups"
    for per_page in (1, 2, 50):
        walked, places = await _walk(client, viewer, {**params, "page": 1, "per_page": per_page})
        assert walked == rows, per_page
        pages = -(-groups // per_page)
        assert places == [
            {
                "columns": columns,
                "page": number,
                "per_page": per_page,
                "pages": pages,
                "groups": groups,
                "first": (number - 1) * per_page + 1,
                "last": min(number * per_page, groups),
            }
            for number in range(1, pages + 1)
        ]


@pytest.mark.usefixtures("recorded")
async def test_a_page_links_to_the_first_previous_next_and_last_keeping_the_parameters(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    params: dict[str, str | int] = {
        "group_by": "cohort",
        "tz": "Europe/Sofia",
        "page": 2,
        "per_page": 1,
    }
    response = await client.get("/api/v1/reports/participation", params=params, headers=viewer)
    base = "/api/v1/reports/participation?group_by=cohort&tz=Europe%2FSofia"
    assert {rel: link["url"] for rel, link in response.links.items()} == {
        "first": f"{base}&page=1&per_page=1",
        "prev": f"{base}&page=1&per_page=1",
        "next": f"{base}&page=3&per_page=1",
        "last": f"{base}&page=3&per_page=1",
    }
    first = await client.get(
        "/api/v1/reports/participation", params={"group_by": "cohort", "page": 1}, headers=viewer
    )
    # per_page defaults to the console's 50 and is named in the links.
    assert first.json()["per_page"] == 50
    assert set(first.links) == {"first", "last"}
    assert first.links["last"]["url"].endswith("?group_by=cohort&page=1&per_page=50")


@pytest.mark.usefixtures("recorded")
async def test_per_page_alone_asks_for_the_first_page(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/participation",
        params={"group_by": "cohort", "per_page": 2},
        headers=viewer,
    )
    body = response.json()
    assert (body["page"], body["pages"], body["first"], body["last"]) == (1, 2, 1, 2)
    assert [row["cohort"] for row in body["rows"]] == ["SLV1", "SOF1"]


@pytest.mark.usefixtures("recorded")
async def test_a_page_as_csv_has_the_page_rows_and_the_same_links(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    params: dict[str, str | int] = {
        "group_by": "cohort",
        "period": "week",
        "page": 2,
        "per_page": 1,
    }
    as_json = await client.get("/api/v1/reports/participation", params=params, headers=viewer)
    as_csv = await client.get(
        "/api/v1/reports/participation", params=params, headers={**viewer, "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["link"] == as_json.headers["link"]
    assert set(as_csv.links) == {"first", "prev", "next", "last"}
    reader = csv.DictReader(io.StringIO(as_csv.text))
    assert reader.fieldnames == as_json.json()["columns"]
    cells = list(reader)
    assert cells == _as_csv_cells(as_json.json()["rows"])
    assert {row["cohort"] for row in cells} == {"SOF1"}


@pytest.mark.usefixtures("recorded")
async def test_a_mediator_pages_through_its_own_cohorts_groups_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    mediator = _bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, name="m", cohorts=["SLV1"])
    )
    params: dict[str, str | int] = {"group_by": "cohort", "period": "week", "per_page": 1}
    rows, places = await _walk(client, mediator, params)
    assert {row["cohort"] for row in rows} == {"SLV1"}
    assert [(place["pages"], place["groups"]) for place in places] == [(1, 1)]
    beyond = await client.get(
        "/api/v1/reports/participation", params={**params, "page": 2}, headers=mediator
    )
    assert beyond.status_code == 422
    assert [error["path"] for error in beyond.json()["errors"]] == ["query.page"]


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize(
    ("params", "path", "saying"),
    [
        ({"page": 0}, "query.page", "greater than or equal to 1"),
        ({"page": -1}, "query.page", "greater than or equal to 1"),
        ({"page": "two"}, "query.page", "valid integer"),
        ({"page": 2**31}, "query.page", "less than or equal to"),
        ({"page": 4, "per_page": 1}, "query.page", "there is no page 4: the report has 3 page(s)"),
        ({"page": 2}, "query.page", "there is no page 2: the report has 1 page(s)"),
        ({"page": 1, "per_page": 0}, "query.per_page", "greater than or equal to 1"),
        ({"per_page": 501}, "query.per_page", "less than or equal to 500"),
    ],
)
async def test_a_bad_page_is_422_naming_it(
    client: AsyncClient,
    viewer: dict[str, str],
    params: dict[str, str | int],
    path: str,
    saying: str,
) -> None:
    for accept in ("application/json", "text/csv"):
        response = await client.get(
            "/api/v1/reports/participation",
            params={"group_by": "cohort", **params},
            headers={**viewer, "Accept": accept},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["path"] == path
        assert saying in error["message"]


async def test_openapi_documents_the_pages_of_the_participation_report(
    client: AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/reports/participation"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["page"]["schema"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    assert parameters["per_page"]["schema"]["anyOf"][0]["maximum"] == 500
    answer = operation["responses"]["200"]
    assert "Link" in answer["headers"]
    shapes = answer["content"]["application/json"]["schema"]["anyOf"]
    page_body = document["components"]["schemas"]["ParticipationPageBody"]
    assert {"$ref": "#/components/schemas/ParticipationPageBody"} in shapes
    assert {"page", "per_page", "pages", "groups", "first", "last", "rows"} <= set(
        page_body["required"]
    )


async def test_an_empty_report_has_one_page_without_groups(
    client: AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/participation", params={"group_by": "region", "page": 1}, headers=viewer
    )
    body = response.json()
    assert body["rows"] == []
    assert (body["page"], body["pages"], body["groups"], body["first"], body["last"]) == (
        1,
        1,
        0,
        0,
        0,
    )
    assert set(response.links) == {"first", "last"}
