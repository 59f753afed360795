"""The Bolt app: settings and a database in, every listener wired, the call service per request."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App, BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.orm import Session, sessionmaker

from calls_app.clock import Clock, utc_now
from calls_app.config import Settings
from calls_app.home import HomeService
from calls_app.installations import (
    BOT_SCOPES,
    INSTALL_PATH,
    REDIRECT_PATH,
    installation_store,
    oauth_state_store,
)
from calls_app.listeners import register_listeners
from calls_app.permissions import AdminCache
from calls_app.providers import JoinUrlProvider, provider_from_settings
from calls_app.service import CallService
from calls_app.slack_gateway import SlackGateway, make_web_client
from calls_app.store import CallStore, HomeStore
from calls_app.uninstalls import Uninstalls

log = logging.getLogger(__name__)


@dataclass
class ServiceFactory:
    """Builds the services around whichever client Bolt authorised for the request, so a
    per-workspace token reaches Slack without the services knowing about tokens."""

    store: CallStore
    home_store: HomeStore
    clock: Clock
    join_urls: JoinUrlProvider
    admins: AdminCache
    lease: timedelta

    def attach(self, context: BoltContext) -> None:
        slack = SlackGateway(context.client)
        homes = HomeService(
            store=self.home_store, slack=slack, clock=self.clock, admins=self.admins
        )
        context["home"] = homes
        context["calls"] = CallService(
            store=self.store,
            slack=slack,
            clock=self.clock,
            join_urls=self.join_urls,
            admins=self.admins,
            lease=self.lease,
            homes=homes,
        )


def build_bolt_app(
    settings: Settings, session_factory: sessionmaker[Session], *, clock: Clock = utc_now
) -> App:
    store = CallStore(session_factory)
    services = ServiceFactory(
        store=store,
        home_store=HomeStore(session_factory),
        clock=clock,
        join_urls=provider_from_settings(settings),
        admins=AdminCache(),
        lease=timedelta(seconds=settings.action_lease_seconds),
    )
    installs = _installation_store(settings, session_factory)
    app = App(
        client=make_web_client(token=settings.bot_token, base_url=settings.slack_api_url),
        signing_secret=settings.signing_secret,
        installation_store=installs,
        oauth_settings=_oauth_settings(settings, installs, session_factory),
        # Ack first, work after: listeners run on this pool once Slack has its answer.
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(
            max_workers=settings.threads, thread_name_prefix="listener"
        ),
    )

    @app.middleware
    def attach_services(context: BoltContext, next) -> None:  # noqa: A002 (Bolt's name)
        services.attach(context)
        next()

    register_listeners(app, uninstalls=Uninstalls(store=store, installs=installs, clock=clock))
    return app


def _installation_store(
    settings: Settings, session_factory: sessionmaker[Session]
) -> InstallationStore | None:
    if settings.oauth is None:
        return None
    return installation_store(
        client_id=settings.oauth.client_id,
        engine=session_factory.kw["bind"],
        encryption_key=settings.oauth.encryption_key,
    )


def _oauth_settings(
    settings: Settings, installs: InstallationStore | None, session_factory: sessionmaker[Session]
) -> OAuthSettings | None:
    if settings.oauth is None or installs is None:
        return None
    return OAuthSettings(
        client_id=settings.oauth.client_id,
        client_secret=settings.oauth.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installs,
        state_store=oauth_state_store(session_factory.kw["bind"]),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
