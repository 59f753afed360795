"""config.load_settings: defaults, and a ConfigError naming the setting for each bad one."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from calls_app.config import ConfigError, Settings, load_settings

SIGNING_SECRET = "0123456789abcdef-signing-secret"
BOT_TOKEN = "xoxb-1111-2222-bot-token-value"
APP_TOKEN = "xapp-1-A111-333-app-token-value"
BASE = {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN}


def settings(**overrides: str | None) -> Settings:
    return load_settings(env(**overrides))


def env(**overrides: str | None) -> dict[str, str]:
    """BASE with overrides; None removes a setting."""
    merged: dict[str, str | None] = {**BASE, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


def test_defaults() -> None:
    loaded = settings()
    assert loaded.signing_secret == SIGNING_SECRET
    assert loaded.bot_token == BOT_TOKEN
    assert loaded.database_url.render_as_string() == "sqlite:///calls.db"
    assert loaded.database_url.get_backend_name() == "sqlite"
    assert loaded.port == 3000
    assert loaded.slack_api_url == "https://slack.com/api/"
    assert loaded.app_token is None
    assert loaded.join_url_provider == "jitsi"
    assert loaded.jitsi_base_url == "https://meet.jit.si/"
    assert loaded.join_url_template is None
    assert loaded.action_lease_seconds == 60
    assert loaded.workers == 1
    assert loaded.threads == 16
    assert loaded.log_level == "INFO"
    assert (loaded.max_live_per_channel, loaded.max_live_per_person) == (10, 5)


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "PORT", "SLACK_API_URL", "LOG_LEVEL", "SLACK_APP_TOKEN"]
)
def test_blank_optional_settings_take_defaults(name: str) -> None:
    assert settings(**{name: "   "}) == settings()


def test_values_are_read_and_trimmed() -> None:
    loaded = settings(
        SLACK_SIGNING_SECRET=f"  {SIGNING_SECRET}\n",
        SLACK_BOT_TOKEN=f" {BOT_TOKEN} ",
        PORT=" 8080 ",
        SLACK_APP_TOKEN=APP_TOKEN,
        CALLS_JOIN_URL_PROVIDER=" Template ",
        CALLS_JOIN_URL_TEMPLATE="https://meet.example/{room}?pw=1",
        CALLS_ACTION_LEASE_SECONDS="3600",
        WEB_CONCURRENCY="64",
        CALLS_THREADS="1",
        LOG_LEVEL="debug",
        CALLS_MAX_LIVE_PER_CHANNEL=" 50 ",
        CALLS_MAX_LIVE_PER_PERSON="1",
    )
    assert loaded.signing_secret == SIGNING_SECRET
    assert loaded.bot_token == BOT_TOKEN
    assert loaded.port == 8080
    assert loaded.app_token == APP_TOKEN
    assert loaded.join_url_provider == "template"
    assert loaded.join_url_template == "https://meet.example/{room}?pw=1"
    assert (loaded.action_lease_seconds, loaded.workers, loaded.threads) == (3600, 64, 1)
    assert loaded.log_level == "DEBUG"
    assert (loaded.max_live_per_channel, loaded.max_live_per_person) == (50, 1)


@pytest.mark.parametrize(("port", "expected"), [("1", 1), ("65535", 65535), ("3000", 3000)])
def test_port_bounds(port: str, expected: int) -> None:
    assert settings(PORT=port).port == expected


# -- ConfigError, naming the setting ----------------------------------------------------------

BAD_SETTINGS = [
    # (setting named in the error, overrides)
    ("SLACK_SIGNING_SECRET", {"SLACK_SIGNING_SECRET": None}),
    ("SLACK_SIGNING_SECRET", {"SLACK_SIGNING_SECRET": ""}),
    ("SLACK_SIGNING_SECRET", {"SLACK_SIGNING_SECRET": "  \t"}),
    ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": None}),
    ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": " "}),
    ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": "xoxp-user-token-hunter2"}),
    ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": "xapp-app-token-hunter2"}),
    ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": "XOXB-upper-hunter2"}),
    ("PORT", {"PORT": "abc"}),
    ("PORT", {"PORT": "80.5"}),
    ("PORT", {"PORT": "0"}),
    ("PORT", {"PORT": "-1"}),
    ("PORT", {"PORT": "65536"}),
    ("CALLS_ACTION_LEASE_SECONDS", {"CALLS_ACTION_LEASE_SECONDS": "0"}),
    ("CALLS_ACTION_LEASE_SECONDS", {"CALLS_ACTION_LEASE_SECONDS": "3601"}),
    ("CALLS_ACTION_LEASE_SECONDS", {"CALLS_ACTION_LEASE_SECONDS": "1m"}),
    ("WEB_CONCURRENCY", {"WEB_CONCURRENCY": "0"}),
    ("WEB_CONCURRENCY", {"WEB_CONCURRENCY": "65"}),
    ("CALLS_THREADS", {"CALLS_THREADS": "0"}),
    ("CALLS_THREADS", {"CALLS_THREADS": "257"}),
    ("CALLS_THREADS", {"CALLS_THREADS": "many"}),
    ("CALLS_MAX_LIVE_PER_CHANNEL", {"CALLS_MAX_LIVE_PER_CHANNEL": "0"}),
    ("CALLS_MAX_LIVE_PER_CHANNEL", {"CALLS_MAX_LIVE_PER_CHANNEL": "51"}),
    ("CALLS_MAX_LIVE_PER_CHANNEL", {"CALLS_MAX_LIVE_PER_CHANNEL": "ten"}),
    ("CALLS_MAX_LIVE_PER_PERSON", {"CALLS_MAX_LIVE_PER_PERSON": "0"}),
    ("CALLS_MAX_LIVE_PER_PERSON", {"CALLS_MAX_LIVE_PER_PERSON": "51"}),
    ("CALLS_MAX_LIVE_PER_PERSON", {"CALLS_MAX_LIVE_PER_PERSON": "-1"}),
    ("DATABASE_URL", {"DATABASE_URL": "not a url"}),
    ("DATABASE_URL", {"DATABASE_URL": "calls.db"}),
    ("DATABASE_URL", {"DATABASE_URL": "://nowhere"}),
    ("DATABASE_URL", {"DATABASE_URL": "mysql://calls:hunter2@db.example/calls"}),
    ("DATABASE_URL", {"DATABASE_URL": "mysql+pymysql://calls:hunter2@db.example/calls"}),
    ("DATABASE_URL", {"DATABASE_URL": "oracle://calls:hunter2@db.example/calls"}),
    ("DATABASE_URL", {"DATABASE_URL": "https://db.example/calls"}),
    ("SLACK_API_URL", {"SLACK_API_URL": "ftp://slack.com/api/"}),
    ("SLACK_API_URL", {"SLACK_API_URL": "slack.com/api/"}),
    ("SLACK_API_URL", {"SLACK_API_URL": "https://"}),
    ("CALLS_JOIN_URL_PROVIDER", {"CALLS_JOIN_URL_PROVIDER": "teams"}),
    # Zoom needs its Server-to-Server OAuth app's credentials, each named when missing.
    ("ZOOM_ACCOUNT_ID", {"CALLS_JOIN_URL_PROVIDER": "zoom"}),
    (
        "ZOOM_CLIENT_SECRET",
        {"CALLS_JOIN_URL_PROVIDER": "zoom", "ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "c"},
    ),
    (
        "ZOOM_API_URL",
        {
            "CALLS_JOIN_URL_PROVIDER": "zoom",
            "ZOOM_ACCOUNT_ID": "a",
            "ZOOM_CLIENT_ID": "c",
            "ZOOM_CLIENT_SECRET": "s",
            "ZOOM_API_URL": "api.zoom.us/v2",
        },
    ),
    ("CALLS_JOIN_URL_TEMPLATE", {"CALLS_JOIN_URL_PROVIDER": "template"}),
    (
        "CALLS_JOIN_URL_TEMPLATE",
        {"CALLS_JOIN_URL_PROVIDER": "template", "CALLS_JOIN_URL_TEMPLATE": "  "},
    ),
    (
        "CALLS_JOIN_URL_TEMPLATE",
        {
            "CALLS_JOIN_URL_PROVIDER": "template",
            "CALLS_JOIN_URL_TEMPLATE": "https://meet.example/fixed-room",
        },
    ),
    (
        "CALLS_JOIN_URL_TEMPLATE",
        {
            "CALLS_JOIN_URL_PROVIDER": "template",
            "CALLS_JOIN_URL_TEMPLATE": "https://meet.example/{ROOM}",
        },
    ),
    (
        "CALLS_JOIN_URL_TEMPLATE",
        {
            "CALLS_JOIN_URL_PROVIDER": "template",
            "CALLS_JOIN_URL_TEMPLATE": "http://meet.example/{room}",
        },
    ),
    (
        "CALLS_JOIN_URL_TEMPLATE",
        {"CALLS_JOIN_URL_PROVIDER": "template", "CALLS_JOIN_URL_TEMPLATE": "meet.example/{room}"},
    ),
    ("CALLS_JITSI_BASE_URL", {"CALLS_JITSI_BASE_URL": "http://meet.jit.si/"}),
    ("CALLS_JITSI_BASE_URL", {"CALLS_JITSI_BASE_URL": "meet.jit.si"}),
    ("SLACK_APP_TOKEN", {"SLACK_APP_TOKEN": "xoxb-not-an-app-token-hunter2"}),
    ("SLACK_APP_TOKEN", {"SLACK_APP_TOKEN": "app-token-hunter2"}),
    ("LOG_LEVEL", {"LOG_LEVEL": "verbose"}),
    ("LOG_LEVEL", {"LOG_LEVEL": "TRACE"}),
    ("LOG_LEVEL", {"LOG_LEVEL": "CRITICAL"}),
]


@pytest.mark.parametrize(
    ("setting", "overrides"),
    BAD_SETTINGS,
    ids=[f"{setting}={overrides}" for setting, overrides in BAD_SETTINGS],
)
def test_bad_setting_raises_config_error_naming_it(
    setting: str, overrides: dict[str, str | None]
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(**overrides)
    assert raised.value.setting == setting
    assert str(raised.value).startswith(f"{setting}: ")
    # Errors are printed at start: no secret or password may be echoed back.
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["postgresql://calls@db.example:notaport/calls", "postgres://calls@db.example:5o32/calls"],
)
def test_database_url_with_bad_port_raises_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(DATABASE_URL=url)
    assert raised.value.setting == "DATABASE_URL"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://calls@db.example/calls",
        "postgresql+asyncpg://calls@db.example/calls",
        "sqlite+aiosqlite:///calls.db",
    ],
)
def test_database_url_with_a_driver_the_app_lacks_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(DATABASE_URL=url)
    assert raised.value.setting == "DATABASE_URL"


# -- DATABASE_URL and SLACK_API_URL ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://calls:pw@db.example:5432/calls",
        "postgres://calls:pw@db.example:5432/calls",
        "postgresql+psycopg://calls:pw@db.example:5432/calls",
    ],
)
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    database_url = settings(DATABASE_URL=url).database_url
    assert database_url.drivername == "postgresql+psycopg"
    assert database_url.get_backend_name() == "postgresql"
    assert (database_url.username, database_url.password) == ("calls", "pw")
    assert (database_url.host, database_url.port, database_url.database) == (
        "db.example",
        5432,
        "calls",
    )


@pytest.mark.parametrize(
    "url", ["sqlite:///calls.db", "sqlite:////var/lib/calls/calls.db", "sqlite://"]
)
def test_sqlite_urls_are_kept(url: str) -> None:
    database_url = settings(DATABASE_URL=url).database_url
    assert database_url.render_as_string() == url
    assert database_url.drivername == "sqlite"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://slack.com/api/", "https://slack.com/api/"),
        ("https://slack.com/api", "https://slack.com/api/"),
        ("http://127.0.0.1:8901/api", "http://127.0.0.1:8901/api/"),
        ("http://localhost:8901", "http://localhost:8901/"),
    ],
)
def test_slack_api_url_gets_a_trailing_slash(raw: str, expected: str) -> None:
    assert settings(SLACK_API_URL=raw).slack_api_url == expected


# -- secrets ----------------------------------------------------------------------------------


def test_repr_shows_no_secret() -> None:
    loaded = settings(
        SLACK_APP_TOKEN=APP_TOKEN, DATABASE_URL="postgresql://calls:hunter2@db.example/calls"
    )
    for shown in (repr(loaded), str(loaded), f"{loaded!r}", repr([loaded])):
        assert SIGNING_SECRET not in shown
        assert BOT_TOKEN not in shown
        assert APP_TOKEN not in shown
        assert "hunter2" not in shown
    assert "port=3000" in repr(loaded)
    assert "socket_mode=True" in repr(loaded)


# -- CALLS_ENCRYPTION_KEY: one key, or several for rotation ---------------------------------

OAUTH = {
    "SLACK_BOT_TOKEN": None,
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value",
}
NEW_KEY, OLD_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_encryption_keys_are_read_newest_first_and_are_secrets() -> None:
    assert settings(**OAUTH).oauth.encryption_keys == ()
    assert settings(**OAUTH, CALLS_ENCRYPTION_KEY=f" {NEW_KEY} ").oauth.encryption_keys == (
        NEW_KEY,
    )
    loaded = settings(**OAUTH, CALLS_ENCRYPTION_KEY=f"{NEW_KEY}, {OLD_KEY}")
    assert loaded.oauth.encryption_keys == (NEW_KEY, OLD_KEY)
    assert {NEW_KEY, OLD_KEY} <= set(loaded.secrets)  # redacted from logs, each on its own


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("hunter2-not-a-key", "CALLS_ENCRYPTION_KEY: is not a Fernet key"),
        (f"{NEW_KEY},hunter2-not-a-key", "CALLS_ENCRYPTION_KEY: key 2 of 2 is not"),
        (f"hunter2-not-a-key,{NEW_KEY}", "CALLS_ENCRYPTION_KEY: key 1 of 2 is not"),
        (f"{NEW_KEY},,{OLD_KEY}", "CALLS_ENCRYPTION_KEY: key 2 of 3 is not"),
        (f"{NEW_KEY},{OLD_KEY[:-2]}", "CALLS_ENCRYPTION_KEY: key 2 of 2 is not"),
    ],
)
def test_a_bad_encryption_key_is_named_by_its_position_and_never_shown(raw: str, named: str):
    with pytest.raises(ConfigError) as raised:
        settings(**OAUTH, CALLS_ENCRYPTION_KEY=raw)
    assert raised.value.setting == "CALLS_ENCRYPTION_KEY"
    assert str(raised.value).startswith(named), str(raised.value)
    for key in ("hunter2", NEW_KEY, OLD_KEY, OLD_KEY[:-2]):
        assert key not in str(raised.value)


def test_provider_secrets_are_redacted_from_logs() -> None:
    loaded = settings(
        CALLS_JOIN_URL_PROVIDER="zoom",
        ZOOM_ACCOUNT_ID="acct",
        ZOOM_CLIENT_ID="client",
        ZOOM_CLIENT_SECRET="zoom-client-secret",
        ZOOM_WEBHOOK_SECRET_TOKEN="zoom-webhook-secret",
        JITSI_WEBHOOK_TOKEN="jitsi-token",
    )
    assert loaded.zoom is not None and loaded.zoom.api_url == "https://api.zoom.us/v2/"
    assert {"zoom-client-secret", "zoom-webhook-secret", "jitsi-token"} <= set(loaded.secrets)
    assert "zoom-client-secret" not in repr(loaded)
