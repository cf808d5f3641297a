from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from learntogether.db.engine import create_engine
from learntogether.logs import RedactSecrets

TOKEN = "123456789:AAH-secret_value_ABCDEFGHIJKLMNOPQRS"


def test_secret_is_masked_in_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactSecrets([TOKEN]))
    logger.error("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("send failed")
    assert TOKEN not in caplog.text
    assert "/bot***/getMe" in caplog.text
    assert "/bot***/sendMessage" in caplog.text


def test_control_characters_from_outside_are_escaped_in_messages_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.escape")
    caplog.handler.addFilter(RedactSecrets([]))
    logger.warning("refused %s", "/api/v1/certificates/\x00\x1b[31mRED\nFAKE 200 OK")
    try:
        raise ValueError("bad\x1b[2Jname")
    except ValueError:
        logger.exception("failed")
    assert "\x00" not in caplog.text and "\x1b" not in caplog.text
    assert "certificates/\\x00\\x1b[31mRED\\nFAKE 200 OK" in caplog.text
    assert "bad\\x1b[2Jname" in caplog.text
    # A traceback keeps its own line breaks.
    assert "Traceback (most recent call last):\n" in caplog.text


async def test_a_failed_statement_names_no_parameter(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failure:
                await connection.execute(
                    text("SELECT * FROM no_such_table WHERE name = :name"),
                    {"name": "Zlatka Ivanova"},
                )
    finally:
        await engine.dispose()
    assert "Zlatka" not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)
