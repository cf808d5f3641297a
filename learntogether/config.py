"""Settings from ``LT_`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES

ENV_PREFIX = "LT_"
# What LT_CERTIFICATE_LOGO may be: a PNG or JPEG file of reasonable size.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
LOGO_MAX_BYTES = 2_000_000

_BOT_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class BotMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class ConfigError(Exception):
    """Settings that cannot be used; the message is one line, without secrets."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    database_url: str = "sqlite+aiosqlite:///./data/learntogether.db"
    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    bot_username: str | None = None
    """The bot's @username for invite links; asked of the Bot API (getMe) when unset."""
    bot_mode: BotMode = BotMode.POLLING
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    api_max_body_bytes: Annotated[int, Field(ge=1024)] = 2 * 1024 * 1024
    public_url: str | None = None
    """Where the admin API is reachable from outside; certificates link their verification there."""
    pseudonym_secret: SecretStr | None = None
    """Key of the pseudonymous learner ids in exports (xAPI); unset: those exports are refused.

    Keep it secret and never change it: a new key gives every learner a new id in the LRS.
    """
    lessons_dir: Path = Path("lessons")
    send_rate: Annotated[float, Field(gt=0, le=1000)] = 25
    """Messages a second the bot sends, all chats and processes together (replies first)."""
    paid_broadcast: bool = False
    """Send with ``allow_paid_broadcast`` (Telegram Stars): up to 1000/s instead of ~30/s."""
    delivery_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 60
    """How long a delivery worker holds a claimed message before another worker may take it."""
    send_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 30
    """How long one message sent by the delivery worker may take; the lease must outlast it."""
    redis_url: str | None = None
    awareness_min_group: Annotated[int, Field(ge=5, le=1000)] = 5
    """Learners an awareness row needs before its figures show; readers may ask more, never less."""
    programme_name: Annotated[str, Field(min_length=1, max_length=100)] = "To Learn Together"
    """The issuing programme, named on certificates and on their verification page."""
    certificate_logo: Path | None = None
    """A PNG or JPEG printed at the top of certificates; checked when the settings are read."""
    certificate_checks_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 30
    """Public certificate checks one client address may make a minute (429 beyond)."""
    scheduler_tick_seconds: Annotated[float, Field(gt=0, le=3600)] = 60
    """How often the reminder sweeps run (and how late a reminder can be)."""
    programme_contact: Annotated[str | None, Field(max_length=200)] = None
    """How to reach the programme (an e-mail, a phone, a @username): learners without a mediator
    in the bot are given it when they ask for help."""
    default_locale: str = SOURCE_LOCALE
    """Fallback language of the locale policy (``i18n.learner_locales``), after the cohort's."""
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _async_database_url(cls, value: str) -> str:
        """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async driver."""
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL (e.g. sqlite+aiosqlite:///./data/lt.db)"
            ) from None
        backend = url.get_backend_name()
        if backend == "postgres":
            backend = "postgresql"
        if backend not in _ASYNC_DRIVERS:
            raise ValueError(f"database '{backend}' is not supported (use sqlite or postgresql)")
        # The installed async driver, whichever sync driver the URL named (or implied).
        return url.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not _BOT_TOKEN.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token (expected <digits>:<letters>)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("programme_name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value or not value.isprintable():
            raise ValueError("must be a name in one line")
        return value

    @field_validator("certificate_logo")
    @classmethod
    def _logo_image(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            with value.open("rb") as image:
                head = image.read(8)
                size = value.stat().st_size
        except OSError as error:
            raise ValueError(f"cannot read {value}: {error.strerror or error}") from None
        if not head.startswith((PNG_SIGNATURE, JPEG_SIGNATURE)):
            raise ValueError(f"{value} is not a PNG or JPEG image")
        if size > LOGO_MAX_BYTES:
            raise ValueError(f"{value} is larger than {LOGO_MAX_BYTES // 1_000_000} MB")
        return value

    @field_validator("telegram_api_url", "webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.delivery_lease_seconds <= self.send_timeout_seconds:
            raise ValueError(
                "LT_DELIVERY_LEASE_SECONDS must be longer than LT_SEND_TIMEOUT_SECONDS "
                f"({self.send_timeout_seconds}): another worker would send a message whose "
                "send is still under way"
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> Settings:
        if self.bot_mode is BotMode.WEBHOOK and self.bot_token is not None:
            missing = [
                name
                for name, value in (
                    ("LT_WEBHOOK_URL", self.webhook_url),
                    ("LT_WEBHOOK_SECRET", self.webhook_secret),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"webhook mode needs {' and '.join(missing)}")
        return self

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    def safe_database_url(self) -> str:
        """The database URL with any password masked, for logs and errors."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    def certificate_verify_url(self) -> str | None:
        """The public page that checks a certificate code (the code is appended)."""
        return f"{self.public_url}/api/v1/certificates" if self.public_url else None

    def secrets(self) -> list[str]:
        """Secret values that must never appear in a log line."""
        return [
            s.get_secret_value()
            for s in (self.bot_token, self.webhook_secret, self.pseudonym_secret)
            if s is not None
        ]


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad variable and what is wrong, never its (maybe secret) value."""
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "invalid settings: " + "; ".join(problems)


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into a ConfigError."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
