"""Logging set-up; secrets (the bot token, the webhook secret) are masked in every line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

MASK = "***"


class RedactSecrets(logging.Filter):
    """Replaces secret values wherever they appear in a formatted record (URLs, exceptions…)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, MASK)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, MASK)
        record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiogram logs each handled update, APScheduler each run of a sweep, at INFO: noise for
    # operators (the sweeps log what they queued themselves; failures still show).
    for noisy in ("aiogram.event", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
