"""The Bolt app: settings and a database in, every listener wired, the call service per request."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from calls_app.clock import Clock, utc_now
from calls_app.config import Settings
from calls_app.listeners import register_listeners
from calls_app.providers import JoinUrlProvider, provider_from_settings
from calls_app.service import AdminCache, CallService
from calls_app.slack_gateway import SlackGateway, make_web_client
from calls_app.store import CallStore

log = logging.getLogger(__name__)


@dataclass
class CallServiceFactory:
    """Builds the call service around whichever client Bolt authorised for the request."""

    store: CallStore
    clock: Clock
    join_urls: JoinUrlProvider
    admins: AdminCache
    lease: timedelta

    def for_client(self, client: WebClient) -> CallService:
        return CallService(
            store=self.store,
            slack=SlackGateway(client),
            clock=self.clock,
            join_urls=self.join_urls,
            admins=self.admins,
            lease=self.lease,
        )


def build_bolt_app(settings: Settings, store: CallStore, *, clock: Clock = utc_now) -> App:
    services = CallServiceFactory(
        store=store,
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
    def attach_call_service(context: BoltContext, next) -> None:  # noqa: A002 (Bolt's name)
        context["calls"] = services.for_client(context.client)
        next()

    register_listeners(app)
    return app
