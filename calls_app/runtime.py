"""Putting the app together: start-up checks, the WSGI app a worker serves, Socket Mode.
HTTP is served by calls_app.http_server."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from calls_app import metrics
from calls_app.bolt_app import (
    AppParts,
    build_bolt_app,
    build_parts,
    build_provider_webhooks,
    build_reconciler,
)
from calls_app.clock import Clock, utc_now
from calls_app.config import Settings, StartupError, load_settings
from calls_app.db import make_engine
from calls_app.deliveries import Deliveries
from calls_app.installations import unreadable_stored_tokens
from calls_app.logging_setup import configure_logging
from calls_app.outbox import Outbox
from calls_app.reconciler import ReconcilerThread
from calls_app.slack_client import make_web_client
from calls_app.store.reconciliation import ReconcileStore
from calls_app.web import SlackWsgiApp

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def start_up() -> tuple[Settings, Engine]:
    """What every entry point does first: settings, logging, then the database, which must be
    at the code's schema. Raises ConfigError or StartupError."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.secrets, settings.log_format)
    engine = make_engine(settings.database_url)
    check_schema(engine)
    return settings, engine


def alembic_config() -> Config:
    from alembic.config import Config  # Alembic only for the checks: serving never needs it

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    return config


def check_schema(engine: Engine) -> None:
    """Refuse to serve on a database that isn't migrated to the code's schema.

    The app never migrates by itself: with several instances starting at once, migrations
    are a deliberate step (`alembic upgrade head`), run once per deployment.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as e:
        raise StartupError(
            f"DATABASE_URL: can't connect to the database ({type(e).__name__})."
        ) from e
    if current != head:
        raise StartupError(
            f"the database schema is at {current or 'nothing'}, the code needs {head}. "
            "Run `alembic upgrade head` (or `make migrate`) first."
        )


def check_stored_tokens(engine: Engine, settings: Settings) -> None:
    """With OAuth installs, the newest stored bot token must decrypt with CALLS_ENCRYPTION_KEY:
    a key left out of it would otherwise fail every request."""
    if settings.oauth is None:
        return
    problem = unreadable_stored_tokens(engine, settings.oauth.encryption_keys)
    if problem:
        raise StartupError(f"CALLS_ENCRYPTION_KEY: {problem} (see README, Many workspaces).")


def check_slack(settings: Settings) -> None:
    """Ask Slack about each token now, so a wrong one (or URL) stops the app at start, not at
    the first command. With OAuth installs there is no bot token yet: each workspace brings
    its own."""
    if settings.app_token:
        # Only an app-level token may open a Socket Mode connection: check that it can.
        client = make_web_client(token=None, base_url=settings.slack_api_url)
        app_token = settings.app_token
        _ask_slack(
            "SLACK_APP_TOKEN", settings, lambda: client.apps_connections_open(app_token=app_token)
        )
    if settings.bot_token:
        client = make_web_client(token=settings.bot_token, base_url=settings.slack_api_url)
        _ask_slack("SLACK_BOT_TOKEN", settings, client.auth_test)


def _ask_slack(setting: str, settings: Settings, ask: Callable[[], object]) -> None:
    try:
        ask()
    except SlackApiError as e:
        raise StartupError(f"{setting}: Slack refused it ({e.response.get('error')}).") from None
    except (SlackClientError, OSError) as e:
        raise StartupError(
            f"SLACK_API_URL: can't reach Slack at {settings.slack_api_url} ({type(e).__name__})."
        ) from None


def database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def build_wsgi_app(
    settings: Settings, engine: Engine | None = None, *, clock: Clock = utc_now
) -> SlackWsgiApp:
    """The WSGI app and its outbox runner, no background reconciler: what tests serve.
    `close()` stops the runner."""
    parts = build_parts(settings, engine or make_engine(settings.database_url), clock=clock)
    return _wsgi_app(parts)


def _wsgi_app(parts: AppParts) -> SlackWsgiApp:
    engine = parts.engine
    runner = parts.outbox_runner().start()
    return SlackWsgiApp(
        build_bolt_app(parts),
        signing_secret=parts.settings.signing_secret,
        database_ok=lambda: database_ok(engine),
        on_close=runner.stop,
        deliveries=Deliveries(engine, clock=parts.services.clock),
        # With METRICS_PORT, /metrics is served there alone.
        metrics_page=None if parts.settings.metrics_bind else metrics_page(parts),
        webhooks=build_provider_webhooks(parts),
    )


def metrics_page(parts: AppParts) -> Callable[[], bytes]:
    store, outbox = ReconcileStore(parts.engine), parts.services.outbox
    gauges = metrics.DatabaseGauges(lambda: (store.live_call_count(), outbox.pending()))
    return lambda: metrics.render(gauges)


def metrics_page_of_a_master(settings: Settings) -> Callable[[], bytes]:
    """/metrics served by gunicorn's master: the workers' counts, and the database read with
    an engine of its own for each scrape (the master forks workers: it keeps no connection)."""

    def read() -> tuple[int, int]:
        engine = make_engine(settings.database_url)
        try:
            live, outbox = ReconcileStore(engine), Outbox(engine, min_interval={})
            return live.live_call_count(), outbox.pending()
        finally:
            engine.dispose()

    gauges = metrics.DatabaseGauges(read)
    return lambda: metrics.render(gauges)


def serve_metrics_port(settings: Settings, page: Callable[[], bytes]) -> None:
    """METRICS_PORT, if set: GET /metrics there."""
    if settings.metrics_bind is None:
        return
    host, port = settings.metrics_bind
    try:
        metrics.serve_port(host, port, page)
    except OSError as e:
        raise StartupError(f"METRICS_PORT: can't listen on {host}:{port} ({e.strerror}).") from e


def production_wsgi_app(settings: Settings) -> SlackWsgiApp:
    """The app as served: the WSGI app, this process's outbox runner and reconciler."""
    configure_logging(settings.log_level, settings.secrets, settings.log_format)
    parts = build_parts(settings, make_engine(settings.database_url))
    start_reconciler(parts)
    app = _wsgi_app(parts)
    freeze_start_up()
    return app


def freeze_start_up() -> None:
    """What was built so far (modules, metadata, compiled statements) lives as long as the
    process: moved out of the collector's reach, a full collection no longer walks it, which
    paused every request thread for tens of milliseconds."""
    gc.freeze()


def start_reconciler(parts: AppParts) -> ReconcilerThread | None:
    interval = parts.settings.reconcile_interval_seconds
    if interval == 0:
        return None
    thread = ReconcilerThread(build_reconciler(parts), interval)
    thread.start()
    return thread


def wsgi_app_from_env() -> SlackWsgiApp:
    """For any WSGI server: `gunicorn 'calls_app.runtime:wsgi_app_from_env()'`."""
    return production_wsgi_app(load_settings())


SHUTDOWN_GRACE_SECONDS = 20


def events_once(deliveries: Deliveries) -> Callable[..., BoltResponse | None]:
    """Bolt middleware: an event Slack delivers again (the same event_id; unacknowledged in
    time, or to another connection) is acknowledged and not acted on. Over HTTP web.py does
    this for every request before Bolt sees it."""

    def once(body: dict[str, Any], next: Callable[[], BoltResponse | None]) -> BoltResponse | None:  # noqa: A002
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not deliveries.first(f"event:{event_id}"):
            log.info("a repeated event was acknowledged and not acted on")
            return BoltResponse(status=200, body="")
        return next()

    return once


def serve_socket_mode(settings: Settings, app_token: str) -> None:
    """Socket Mode until SIGTERM/SIGINT; then stop taking payloads and let the work already
    acknowledged finish (as gunicorn does for HTTP)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    parts = build_parts(settings, make_engine(settings.database_url))
    serve_metrics_port(settings, metrics_page(parts))
    start_reconciler(parts)
    runner = parts.outbox_runner().start()
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        if stop.is_set():  # asked twice: stop now
            os._exit(1)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    bolt = build_bolt_app(parts)
    bolt.use(events_once(Deliveries(parts.engine, clock=parts.services.clock)))
    handler = SocketModeHandler(bolt, app_token)
    freeze_start_up()
    handler.connect()
    log.info("connected to Slack in Socket Mode")
    stop.wait()
    log.info("stopping: no new payloads; finishing the work in flight")
    handler.close()
    def finish() -> None:
        parts.work.shutdown()
        runner.stop()

    finishing = threading.Thread(target=finish, daemon=True)
    finishing.start()
    finishing.join(SHUTDOWN_GRACE_SECONDS)
    if finishing.is_alive():
        # The listener threads would keep the process alive past any grace: leave now.
        log.error("work still running after %d s; stopping anyway", SHUTDOWN_GRACE_SECONDS)
        os._exit(1)
