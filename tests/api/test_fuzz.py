"""A bounded property-based fuzz run over ``/openapi.json``: no 5xx, every answer as documented.

Schemathesis generates requests from the OpenAPI document (valid and invalid ones, boundary
values, NUL characters, huge numbers) and sends them to the app in process over ASGI, no network,
once with an admin's token and once with a mediator's. Each answer must not be a server error and
must have a documented status code, content type, headers and body schema.

The run is bounded and repeatable: a fixed seed, and ``LT_TEST_FUZZ_EXAMPLES`` examples per
operation and phase (5 by default, for the README's test command; ``.ci/run`` asks 20, about a
minute a token on two cores). Where ``LT_TEST_DATABASE_URL`` names PostgreSQL it runs there only
(stricter types than SQLite: int32 ids, NUL characters), otherwise on SQLite; 0 examples skips it
(``.ci/run``'s SQLite run, beside its PostgreSQL run).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.models import TokenRole
from tests.conftest import PG_URL, TestDatabase
from tests.factories import (
    create_api_token,
    create_cohort,
    create_learner,
    import_sample_curriculum,
)

# Step recordings are uploaded as raw OGG bodies: fuzz them as any bytes (the check refuses them).
schemathesis.serializer.alias("audio/ogg", "application/octet-stream")

SEED = 2026
EXAMPLES = int(os.environ.get("LT_TEST_FUZZ_EXAMPLES", "5"))
REVOKE = "POST /api/v1/tokens/{token_id}/revoke"
# A fuzz run takes a minute or two on a busy machine, more with more examples: beyond the
# default per-test timeout (pyproject), which is for tests that hang.
FUZZ_TIMEOUT = pytest.mark.timeout(max(600, EXAMPLES * 30))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


@dataclass
class FuzzWorld:
    """A database with a curriculum, two cohorts, two learners and the tokens that fuzz it."""

    url: str
    admin: str
    mediator: str


@dataclass
class FuzzReport:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    answered: set[str] = field(default_factory=set)
    """Operations that answered at least one request with a 2xx."""


@pytest.fixture
async def fuzz_world(
    database: TestDatabase, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> FuzzWorld:
    if database.backend == "sqlite" and PG_URL:
        pytest.skip("the fuzz run is made on PostgreSQL where it is configured")
    if EXAMPLES == 0:
        # .ci/run: its SQLite run leaves the fuzz run to its PostgreSQL run, side by side.
        pytest.skip("LT_TEST_FUZZ_EXAMPLES=0: the fuzz run is made elsewhere")
    await import_sample_curriculum(session_maker, tmp_path)
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await create_cohort(session, code="PLV1", name="Plovdiv teachers")
        await session.commit()
    await create_learner(session_maker, 1, cohort="SLV1")
    await create_learner(session_maker, 2, cohort="PLV1")
    return FuzzWorld(
        url=database.url,
        admin=await create_api_token(session_maker, name="fuzz-admin"),
        mediator=await create_api_token(
            session_maker, TokenRole.MEDIATOR, name="fuzz-mediator", cohorts=["SLV1"]
        ),
    )


def _config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "continue-on-failure": True,
            # The first chart loads matplotlib (and may build its font cache): seconds on a busy
            # machine, which schemathesis' default of 10 s would report as a failed run.
            "request-timeout": 60,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            # Stateful sequences would multiply the run time for little the phases miss.
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


def _fuzz(world: FuzzWorld, token: str) -> FuzzReport:
    settings = Settings(
        _env_file=None,
        pseudonym_secret="a-fuzz-pseudonym-key-0123456789",
        public_url="https://lt.example.org",
    )
    # Schemathesis runs the app on an event loop of its own: the app gets an engine of its own,
    # disposed on that loop when the app's lifespan ends.
    engine = create_engine(world.url)
    app = create_app(
        settings, session_maker=create_session_maker(engine), on_shutdown=(engine.dispose,)
    )
    report = FuzzReport()
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(token))
        # A revocation may hit the fuzzing token itself: revoking comes last, or every operation
        # after it would meet nothing but 401s.
        for part in (schema.exclude(name=REVOKE), schema.include(name=REVOKE)):
            for event in from_schema(part).execute():
                if isinstance(event, events.ScenarioFinished):
                    _record(report, event.recorder)
                elif isinstance(event, events.NonFatalError | events.FatalError):
                    report.failures.append(f"the run failed: {event!r}")
    finally:
        asgi.shutdown_lifespans()
    return report


def _record(report: FuzzReport, recorder: ScenarioRecorder) -> None:
    report.cases += len(recorder.cases)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
            if interaction.response.status_code < 300:
                report.answered.add(recorder.label)
    for checks in recorder.checks.values():
        for check in checks:
            if check.failure_info is not None:
                failure = check.failure_info.failure
                report.failures.append(
                    f"{recorder.label} {check.name}: {failure.title}: {failure.message[:500]}\n"
                    f"    {check.failure_info.code_sample[:1000]}"
                )


def _assert_clean(report: FuzzReport, *, least_answered: int) -> None:
    print(f"{report.cases} cases; answers by status: {dict(sorted(report.statuses.items()))}")
    assert not report.failures, "\n".join(dict.fromkeys(report.failures))
    # A fuzz run that only ever met 401s or 422s would prove nothing.
    assert len(report.answered) >= least_answered, sorted(report.answered)


@FUZZ_TIMEOUT
def test_fuzzing_as_an_admin_meets_no_server_error_and_no_undocumented_answer(
    fuzz_world: FuzzWorld,
) -> None:
    _assert_clean(_fuzz(fuzz_world, fuzz_world.admin), least_answered=30)


@FUZZ_TIMEOUT
def test_fuzzing_as_a_mediator_meets_no_server_error_and_no_undocumented_answer(
    fuzz_world: FuzzWorld,
) -> None:
    _assert_clean(_fuzz(fuzz_world, fuzz_world.mediator), least_answered=10)
