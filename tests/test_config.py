"""Settings: names and defaults from the design, async drivers, one-line errors without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from learntogether.config import BotMode, ConfigError, Settings, load_settings

TOKEN = "123456789:AAH-secret_value_ABCDEFGHIJKLMNOPQRS"


def test_defaults_match_the_design() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./data/learntogether.db"
    assert settings.bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.bot_mode is BotMode.POLLING
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert str(settings.lessons_dir) == "lessons"
    assert settings.send_rate == 25
    assert settings.redis_url is None
    assert settings.default_locale == "en"


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LT_API_PORT=9001\n")
    assert load_settings().api_port == 9001


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/lt", "postgresql+asyncpg://u:p@db:5432/lt"),
        ("postgres://u@db/lt", "postgresql+asyncpg://u@db/lt"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgresql+asyncpg://db/lt", "postgresql+asyncpg://db/lt"),
    ],
)
def test_database_url_gets_its_async_driver(given: str, expected: str) -> None:
    assert Settings(_env_file=None, database_url=given).database_url == expected


def test_bad_port_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_API_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("invalid settings: LT_API_PORT: ")
    assert "eighty" not in message


def test_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_DATABASE_URL", "mysql://root@localhost/lt")
    with pytest.raises(ConfigError, match="LT_DATABASE_URL: database 'mysql' is not supported"):
        load_settings()


def test_unparseable_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_DATABASE_URL", "not a url")
    with pytest.raises(ConfigError, match="LT_DATABASE_URL: is not a database URL"):
        load_settings()


def test_malformed_bot_token_error_does_not_echo_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_BOT_TOKEN", "oops-this-is-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "LT_BOT_TOKEN: does not look like a bot token" in str(caught.value)
    assert "oops-this-is-secret" not in str(caught.value)


def test_bot_token_is_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
    assert settings.secrets() == [TOKEN]


def test_webhook_mode_needs_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LT_BOT_MODE", "webhook")
    with pytest.raises(
        ConfigError, match="webhook mode needs LT_WEBHOOK_URL and LT_WEBHOOK_SECRET"
    ):
        load_settings()


def test_webhook_secret_must_use_telegram_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(ConfigError, match="LT_WEBHOOK_SECRET: must be 1-256 characters"):
        load_settings()


def test_unknown_bot_mode_lists_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_BOT_MODE", "push")
    with pytest.raises(ConfigError, match="LT_BOT_MODE: Input should be 'polling' or 'webhook'"):
        load_settings()


def test_a_lease_shorter_than_a_send_is_one_line_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LT_DELIVERY_LEASE_SECONDS", "10")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "LT_DELIVERY_LEASE_SECONDS must be longer than LT_SEND_TIMEOUT_SECONDS (30)" in message


def test_an_unsupported_default_locale_lists_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_DEFAULT_LOCALE", "de")
    with pytest.raises(
        ConfigError, match="LT_DEFAULT_LOCALE: must be one of en, bg, es, fr, nl, ro, rom"
    ):
        load_settings()
