from __future__ import annotations

import logging

import pytest

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
