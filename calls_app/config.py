"""Settings from the environment, validated once at start.

A bad setting raises ConfigError naming it, so `python app.py` can stop with one clear line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///calls.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_JITSI_BASE_URL = "https://meet.jit.si/"
DEFAULT_ZOOM_API_URL = "https://api.zoom.us/v2/"
DEFAULT_ZOOM_OAUTH_URL = "https://zoom.us/oauth/token"
PROVIDERS = ("jitsi", "template", "zoom")
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


class StartupError(Exception):
    """The app can't serve; the message says what to do."""


@dataclass(frozen=True)
class OAuthConfig:
    """Multi-workspace mode: Slack's OAuth install flow instead of one bot token."""

    client_id: str
    client_secret: str
    # Fernet keys for tokens at rest, newest first (encrypts; any decrypts); none: stored plain
    encryption_keys: tuple[str, ...]


@dataclass(frozen=True)
class ZoomConfig:
    """A Zoom Server-to-Server OAuth app: it makes the meetings and sends their webhooks."""

    account_id: str
    client_id: str
    client_secret: str
    webhook_secret: str | None  # ZOOM_WEBHOOK_SECRET_TOKEN: no presence without it
    default_host: str | None  # the Zoom user hosting meetings of people Zoom doesn't know
    api_url: str
    oauth_url: str


@dataclass(frozen=True)
class Settings:
    signing_secret: str
    bot_token: str | None  # single-workspace mode
    oauth: OAuthConfig | None  # multi-workspace mode
    database_url: URL
    slack_api_url: str
    port: int
    app_token: str | None
    join_url_provider: str
    jitsi_base_url: str
    join_url_template: str | None
    action_lease_seconds: int
    workers: int
    threads: int
    log_level: str
    max_call_seconds: int
    empty_grace_seconds: int
    reconcile_interval_seconds: int  # 0: no background reconciler in this process
    queue_size: int  # people's actions a process takes on before it says it is busy
    home_refresh_seconds: int  # a person's Home is re-published at most this often
    max_live_per_channel: int  # calls running at once in one channel
    max_live_per_person: int  # calls one person has started that still run
    metrics_bind: tuple[str, int] | None  # METRICS_PORT: /metrics there, not on the app's port
    log_format: str  # "text" or "json"
    history_days: int  # ended calls older than this are deleted by the reconciler
    jitsi_webhook_token: str | None = None  # self-hosted Jitsi's event_sync bearer token
    zoom: ZoomConfig | None = None

    @property
    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        values = [self.signing_secret, self.bot_token, self.app_token]
        if self.oauth:
            values += [self.oauth.client_secret, *self.oauth.encryption_keys]
        values.append(self.jitsi_webhook_token)
        if self.zoom:
            values += [self.zoom.client_secret, self.zoom.webhook_secret]
        return [v for v in values if v]

    def __repr__(self) -> str:  # never print secrets, even by accident
        return (
            f"Settings(database_url={self.database_url.render_as_string(hide_password=True)!r}, "
            f"slack_api_url={self.slack_api_url!r}, port={self.port}, "
            f"socket_mode={self.app_token is not None})"
        )


def database_url(env: Mapping[str, str] | None = None) -> URL:
    """DATABASE_URL as a SQLAlchemy URL; plain postgresql:// URLs get the psycopg (v3) driver."""
    env = os.environ if env is None else env
    raw = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that isn't a number
        raise ConfigError(
            "DATABASE_URL", "is not a database URL (e.g. sqlite:///calls.db)"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            "DATABASE_URL", "only sqlite:// and postgresql:// (psycopg 3) databases are supported"
        )
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env
    provider = env.get("CALLS_JOIN_URL_PROVIDER", "jitsi").strip().lower()
    if provider not in PROVIDERS:
        raise ConfigError("CALLS_JOIN_URL_PROVIDER", "must be 'jitsi', 'template' or 'zoom'")
    template = env.get("CALLS_JOIN_URL_TEMPLATE", "").strip() or None
    if provider == "template":
        if template is None:
            raise ConfigError(
                "CALLS_JOIN_URL_TEMPLATE", "is required when the provider is 'template'"
            )
        if "{room}" not in template:
            raise ConfigError("CALLS_JOIN_URL_TEMPLATE", "must contain {room}")
        _https_url("CALLS_JOIN_URL_TEMPLATE", template.replace("{room}", "room"))
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN", "must be an app-level token starting with xapp-")
    signing_secret = _required(env, "SLACK_SIGNING_SECRET")
    oauth = _oauth(env)
    port, metrics_bind = _int(env, "PORT", 3000, 1, 65535), _metrics_bind(env)
    if metrics_bind is not None and metrics_bind[1] == port and app_token is None:
        raise ConfigError("METRICS_PORT", "must not be PORT (the app serves there)")
    return Settings(
        signing_secret=signing_secret,
        bot_token=None if oauth else _bot_token(env),
        oauth=oauth,
        database_url=database_url(env),
        slack_api_url=_api_url(env),
        port=port,
        app_token=app_token,
        join_url_provider=provider,
        jitsi_base_url=_https_url(
            "CALLS_JITSI_BASE_URL",
            env.get("CALLS_JITSI_BASE_URL", "").strip() or DEFAULT_JITSI_BASE_URL,
        ),
        join_url_template=template,
        action_lease_seconds=_int(env, "CALLS_ACTION_LEASE_SECONDS", 60, 1, 3600),
        workers=_int(env, "WEB_CONCURRENCY", 1, 1, 64),
        threads=_int(env, "CALLS_THREADS", 16, 1, 256),
        log_level=_log_level(env),
        max_call_seconds=_duration(env, "CALLS_MAX_DURATION", 12 * 3600),
        empty_grace_seconds=_duration(env, "CALLS_EMPTY_GRACE", 5 * 60),
        reconcile_interval_seconds=_duration(env, "CALLS_RECONCILE_INTERVAL", 60, allow_zero=True),
        queue_size=_int(env, "CALLS_QUEUE_SIZE", 200, 1, 100_000),
        home_refresh_seconds=_duration(env, "CALLS_HOME_REFRESH", 10, allow_zero=True),
        # At most 50: `/call status` shows (and asks Slack about) every call of a channel.
        max_live_per_channel=_int(env, "CALLS_MAX_LIVE_PER_CHANNEL", 10, 1, 50),
        max_live_per_person=_int(env, "CALLS_MAX_LIVE_PER_PERSON", 5, 1, 50),
        metrics_bind=metrics_bind,
        log_format=_log_format(env),
        history_days=_int(env, "CALLS_HISTORY_DAYS", 365, 1, 36500),
        jitsi_webhook_token=env.get("JITSI_WEBHOOK_TOKEN", "").strip() or None,
        zoom=_zoom(env) if provider == "zoom" else None,
    )


def _zoom(env: Mapping[str, str]) -> ZoomConfig:
    return ZoomConfig(
        account_id=_required(env, "ZOOM_ACCOUNT_ID"),
        client_id=_required(env, "ZOOM_CLIENT_ID"),
        client_secret=_required(env, "ZOOM_CLIENT_SECRET"),
        webhook_secret=env.get("ZOOM_WEBHOOK_SECRET_TOKEN", "").strip() or None,
        default_host=env.get("ZOOM_DEFAULT_HOST", "").strip() or None,
        api_url=_http_url("ZOOM_API_URL", env, DEFAULT_ZOOM_API_URL, slash=True),
        oauth_url=_http_url("ZOOM_OAUTH_URL", env, DEFAULT_ZOOM_OAUTH_URL, slash=False),
    )


def _http_url(name: str, env: Mapping[str, str], default: str, *, slash: bool) -> str:
    raw = env.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"must be an http(s) URL such as {default}")
    return raw.rstrip("/") + "/" if slash else raw


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is not set")
    return value


def _oauth(env: Mapping[str, str]) -> OAuthConfig | None:
    client_id = env.get("SLACK_CLIENT_ID", "").strip()
    client_secret = env.get("SLACK_CLIENT_SECRET", "").strip()
    if not client_id and not client_secret:
        return None
    if not client_id:
        raise ConfigError("SLACK_CLIENT_ID", "is not set (SLACK_CLIENT_SECRET is)")
    if not client_secret:
        raise ConfigError("SLACK_CLIENT_SECRET", "is not set (SLACK_CLIENT_ID is)")
    if env.get("SLACK_BOT_TOKEN", "").strip():
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            "set it for one workspace, or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET for OAuth installs, "
            "not both",
        )
    return OAuthConfig(
        client_id=client_id, client_secret=client_secret, encryption_keys=_encryption_keys(env)
    )


def _encryption_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """CALLS_ENCRYPTION_KEY: one Fernet key, or several separated by commas, newest first."""
    raw = env.get("CALLS_ENCRYPTION_KEY", "").strip()
    if not raw:
        return ()
    from cryptography.fernet import Fernet  # only when keys are given: about 9 MiB otherwise unused

    keys = tuple(key.strip() for key in raw.split(","))
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            which = f"key {position} of {len(keys)} " if len(keys) > 1 else ""
            raise ConfigError(
                "CALLS_ENCRYPTION_KEY",
                f"{which}is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)",
            ) from None
    return keys


_DURATION = re.compile(r"^(\d+)\s*(s|m|h)?$")


def _duration(env: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    """Seconds, from "90", "90s", "5m" or "12h"."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    match = _DURATION.match(raw)
    if match is None:
        raise ConfigError(name, f"must be a duration such as 300, 5m or 12h, not {raw!r}")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if seconds == 0 and not allow_zero:
        raise ConfigError(name, "must be longer than 0")
    return seconds


def _bot_token(env: Mapping[str, str]) -> str:
    token = _required(env, "SLACK_BOT_TOKEN")
    if not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")
    return token


def _api_url(env: Mapping[str, str]) -> str:
    raw = env.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("SLACK_API_URL", "must be an http(s) URL such as https://slack.com/api/")
    return raw if raw.endswith("/") else raw + "/"


def _https_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(name, "must be an https:// URL")
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
    return level


def _log_format(env: Mapping[str, str]) -> str:
    value = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("text", "json"):
        raise ConfigError("LOG_FORMAT", "must be text or json")
    return value


def _metrics_bind(env: Mapping[str, str]) -> tuple[str, int] | None:
    """METRICS_PORT: a port (every interface, as the app's port) or address:port."""
    raw = env.get("METRICS_PORT", "").strip()
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(
            "METRICS_PORT", "must be a port (9100) or an address and port (10.0.0.5:9100)"
        )
    return host, int(port)
