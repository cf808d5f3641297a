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


def test_programme_name_and_logo_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    monkeypatch.setenv("LT_PROGRAMME_NAME", "  Roma   Inclusion ")
    monkeypatch.setenv("LT_CERTIFICATE_LOGO", str(logo))
    settings = load_settings()
    assert (settings.programme_name, settings.certificate_logo) == ("Roma Inclusion", logo)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "LT_CERTIFICATE_LOGO: cannot read"),
        (b"GIF89a...", "LT_CERTIFICATE_LOGO: {path} is not a PNG or JPEG image"),
        (b"\xff\xd8\xff" + bytes(2_000_000), "LT_CERTIFICATE_LOGO: {path} is larger than 2 MB"),
    ],
)
def test_a_logo_that_is_missing_or_no_image_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "logo.png"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("LT_CERTIFICATE_LOGO", str(path))
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith("invalid settings: ")
    assert expected.format(path=path) in message
    assert "\n" not in message


def test_an_empty_programme_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_PROGRAMME_NAME", "   ")
    with pytest.raises(ConfigError, match="LT_PROGRAMME_NAME: must be a name in one line"):
        load_settings()
