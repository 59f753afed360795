"""The Bolt app: settings and a database in, every listener wired, the call service per request."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App, BoltContext
from sqlalchemy.orm import Session, sessionmaker

from calls_app.clock import Clock, utc_now
from calls_app.config import Settings
from calls_app.home import HomeService
from calls_app.listeners import register_listeners
from calls_app.permissions import AdminCache
from calls_app.providers import JoinUrlProvider, provider_from_settings
from calls_app.service import CallService
from calls_app.slack_gateway import SlackGateway, make_web_client
from calls_app.store import CallStore, HomeStore

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
    services = ServiceFactory(
        store=CallStore(session_factory),
        home_store=HomeStore(session_factory),
        clock=clock,
        join_urls=provider_from_settings(settings),
        admins=AdminCache(),
        lease=timedelta(seconds=settings.action_lease_seconds),
    )
    app = App(
        client=make_web_client(token=settings.bot_token, base_url=settings.slack_api_url),
        signing_secret=settings.signing_secret,
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

    register_listeners(app)
    return app
