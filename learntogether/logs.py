"""Logging set-up: secrets (the bot token, the webhook secret) are masked in every line, and
control characters that came from outside (a URL, a name) are escaped, so no input can forge or
recolour a log line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

MASK = "***"
# C0 and C1 controls and DEL; a traceback keeps its line breaks, a message keeps none.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MESSAGE_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _escape(text: str, controls: re.Pattern[str]) -> str:
    return controls.sub(lambda match: repr(match.group())[1:-1], text)


class RedactSecrets(logging.Filter):
    """Replaces secret values wherever they appear in a formatted record (URLs, exceptions…),
    and escapes control characters (``\x00``, ``\x1b[31m``) as Python writes them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, MASK)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, MASK)
        if record.exc_text:
            record.exc_text = _escape(record.exc_text, _CONTROLS)
        record.msg, record.args = _escape(message, _MESSAGE_CONTROLS), None
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
