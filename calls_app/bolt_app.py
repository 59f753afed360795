"""The Bolt app and everything around it: services, installs, the reconciler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

from calls_app import log_context
from calls_app.background import OutboxRunner, OutboxWork
from calls_app.clock import Clock, utc_now
from calls_app.config import Settings
from calls_app.installations import (
    BOT_SCOPES,
    INSTALL_PATH,
    REDIRECT_PATH,
    installation_store,
    oauth_state_store,
)
from calls_app.limits import CallLimits
from calls_app.listeners import register_listeners
from calls_app.outbox import Kind, Outbox
from calls_app.permissions import AdminCache
from calls_app.presence import PresenceRecorder
from calls_app.provider_web import ProviderWebhooks
from calls_app.providers import provider_from_settings
from calls_app.rate_limits import RateLimits
from calls_app.reconciler import PassLock, Reconciler
from calls_app.store.calls import CallStore
from calls_app.store.ending import EndingStore
from calls_app.store.home import HomeStore
from calls_app.store.participants import ParticipantStore
from calls_app.store.presence import PresenceStore
from calls_app.store.reconciliation import ReconcileStore
from calls_app.uninstalls import Uninstalls
from calls_app.wiring import ServiceFactory, WorkspaceClients
from calls_app.work_queue import WorkQueue

log = logging.getLogger(__name__)

OUTBOX_THREADS = 4
# Join and Leave presses that arrive together reach Slack in one request at most this often
# (and the Homes showing the call are looked for at most this often).
PARTICIPANTS_INTERVAL = timedelta(seconds=1)


@dataclass
class AppParts:
    """What the Bolt app and the reconciler of one process share."""

    settings: Settings
    engine: Engine
    services: ServiceFactory
    installs: InstallationStore | None
    clients: WorkspaceClients
    # Where people's actions run after the ack; kept here so a shutdown can wait for them.
    work: WorkQueue

    def outbox_runner(self) -> OutboxRunner:
        """This process's share of the outbox's work (not started)."""
        work = OutboxWork(services=self.services, clients=self.clients)
        return OutboxRunner(self.services.outbox, work, threads=OUTBOX_THREADS)


def build_parts(settings: Settings, engine: Engine, *, clock: Clock = utc_now) -> AppParts:
    installs = (
        installation_store(
            client_id=settings.oauth.client_id,
            engine=engine,
            encryption_keys=settings.oauth.encryption_keys,
        )
        if settings.oauth
        else None
    )
    return AppParts(
        settings=settings,
        engine=engine,
        services=ServiceFactory(
            store=CallStore(engine),
            participants=ParticipantStore(engine),
            ending=EndingStore(engine),
            home_store=HomeStore(engine),
            clock=clock,
            meetings=provider_from_settings(settings),
            admins=AdminCache(clock=clock),
            lease=timedelta(seconds=settings.action_lease_seconds),
            outbox=Outbox(
                engine,
                min_interval={
                    Kind.PARTICIPANTS: PARTICIPANTS_INTERVAL,
                    Kind.HOMES_OF_CALL: PARTICIPANTS_INTERVAL,
                    Kind.HOME: timedelta(seconds=settings.home_refresh_seconds),
                },
            ),
            rate_limits=RateLimits(),
            call_limits=CallLimits(
                per_channel=settings.max_live_per_channel,
                per_person=settings.max_live_per_person,
            ),
            presence=PresenceStore(engine),
        ),
        installs=installs,
        clients=WorkspaceClients(
            base_url=settings.slack_api_url, bot_token=settings.bot_token, installs=installs
        ),
        work=WorkQueue(threads=settings.threads, capacity=settings.queue_size),
    )


def build_bolt_app(parts: AppParts) -> App:
    settings, services = parts.settings, parts.services
    app = App(
        client=parts.clients.app_client(),
        signing_secret=settings.signing_secret,
        installation_store=parts.installs,
        oauth_settings=_oauth_settings(parts),
        # SlackWsgiApp checks every HTTP request's signature before Bolt sees it.
        request_verification_enabled=False,
        # Listeners run on the request thread: they record, ack and hand the rest to the work
        # queue, so the ack never waits for a free thread (Bolt's own pool answers 404 then).
        process_before_response=True,
    )

    @app.middleware
    def attach_services(
        context: BoltContext,
        body: dict[str, Any],
        next: Callable[[], BoltResponse | None],  # noqa: A002 (Bolt's name)
    ) -> None:
        workspace = context.team_id
        if context.is_enterprise_install and workspace in (None, context.enterprise_id):
            # Bolt's team for an org-wide install is none for an event (its authorization names
            # no workspace) and the org for a view's action (view.app_installed_team_id); calls
            # and Homes belong to a workspace, and the org's token must name it. (context.team_id
            # stays Bolt's: an uninstall of such an install is the org's.)
            workspace = _workspace_named_in(body)
            if workspace:
                context.client.default_params["team_id"] = workspace
        context["workspace_id"] = workspace
        calls = services.call_service(context.client, team_id=workspace or "")
        context["calls"], context["home"], context["work"] = calls, calls.homes, parts.work
        context["starter"] = services.call_starter(context.client, team_id=workspace or "")
        # Bolt runs the listener after this returns, on this thread (HTTP: within web.py's scope).
        log_context.begin(
            workspace=workspace,
            channel=context.channel_id,
            slack_request=log_context.slack_request_of(body),
        )
        context["unfurls"] = services.unfurls(context.client, team_id=workspace or "")
        next()

    register_listeners(
        app,
        uninstalls=Uninstalls(store=services.ending, installs=parts.installs, clock=services.clock),
    )
    return app


def _workspace_named_in(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from: an event's or command's team_id, a view's (modals,
    Home), else the person's."""
    view, user = body.get("view"), body.get("user")
    teams = (
        body.get("team_id"),
        view.get("team_id") if isinstance(view, dict) else None,
        user.get("team_id") if isinstance(user, dict) else None,
    )
    for team in teams:
        if isinstance(team, str) and team and not team.startswith("E"):  # E…: an org's id
            return team
    return None


def build_provider_webhooks(parts: AppParts) -> ProviderWebhooks | None:
    """The providers' webhook endpoints, if any provider's presence is set up."""
    settings = parts.settings
    zoom_secret = settings.zoom.webhook_secret if settings.zoom else None
    if settings.jitsi_webhook_token is None and zoom_secret is None:
        return None
    recorder = PresenceRecorder(
        store=parts.services.presence,
        outbox=parts.services.outbox,
        services=parts.services,
        clients=parts.clients,
    )
    return ProviderWebhooks(
        recorder=recorder,
        clock=parts.services.clock,
        jitsi_token=settings.jitsi_webhook_token,
        zoom_secret=zoom_secret,
    )


def build_reconciler(parts: AppParts) -> Reconciler:
    return Reconciler(
        store=ReconcileStore(parts.engine),
        calls=parts.services.store,
        ending=parts.services.ending,
        services=parts.services,
        clients=parts.clients,
        clock=parts.services.clock,
        lock=PassLock(parts.engine),
        max_call=timedelta(seconds=parts.settings.max_call_seconds),
        empty_grace=timedelta(seconds=parts.settings.empty_grace_seconds),
        oauth_states=parts.engine if parts.settings.oauth else None,
        history=timedelta(days=parts.settings.history_days),
    )


def _oauth_settings(parts: AppParts) -> OAuthSettings | None:
    oauth = parts.settings.oauth
    if oauth is None or parts.installs is None:
        return None
    return OAuthSettings(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=parts.installs,
        state_store=oauth_state_store(parts.engine),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
