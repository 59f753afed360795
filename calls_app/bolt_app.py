"""The Bolt app and everything around it: services, installs, the reconciler."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App, BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

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
from calls_app.permissions import AdminCache
from calls_app.providers import provider_from_settings
from calls_app.reconciler import PassLock, Reconciler
from calls_app.store import CallStore, HomeStore
from calls_app.uninstalls import Uninstalls
from calls_app.wiring import ServiceFactory, WorkspaceClients

log = logging.getLogger(__name__)


@dataclass
class AppParts:
    """What the Bolt app and the reconciler of one process share."""

    settings: Settings
    engine: Engine
    services: ServiceFactory
    installs: InstallationStore | None
    clients: WorkspaceClients
    # Where listeners run after the ack; kept here so a shutdown can wait for them.
    listener_executor: ThreadPoolExecutor


def build_parts(settings: Settings, engine: Engine, *, clock: Clock = utc_now) -> AppParts:
    installs = (
        installation_store(
            client_id=settings.oauth.client_id,
            engine=engine,
            encryption_key=settings.oauth.encryption_key,
        )
        if settings.oauth
        else None
    )
    return AppParts(
        settings=settings,
        engine=engine,
        services=ServiceFactory(
            store=CallStore(engine),
            home_store=HomeStore(engine),
            clock=clock,
            join_urls=provider_from_settings(settings),
            admins=AdminCache(clock=clock),
            lease=timedelta(seconds=settings.action_lease_seconds),
            limits=CallLimits(
                per_channel=settings.max_live_per_channel,
                per_person=settings.max_live_per_person,
            ),
        ),
        installs=installs,
        clients=WorkspaceClients(
            base_url=settings.slack_api_url, bot_token=settings.bot_token, installs=installs
        ),
        listener_executor=ThreadPoolExecutor(
            max_workers=settings.threads, thread_name_prefix="listener"
        ),
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
        # Ack first, work after: listeners run on this pool once Slack has its answer.
        process_before_response=False,
        listener_executor=parts.listener_executor,
    )

    @app.middleware
    def attach_services(context: BoltContext, body: dict, next) -> None:  # noqa: A002 (Bolt's name)
        context["workspace_id"] = context.team_id
        if context.team_id is None and context.is_enterprise_install and body.get("team_id"):
            # An org-wide install's event names its workspace only in the envelope (Bolt reads
            # the authorization's, which is none); calls and Homes each belong to a workspace.
            # (context.team_id stays None: an uninstall of such an install is the org's.)
            context["workspace_id"] = body["team_id"]
            context.client.default_params["team_id"] = body["team_id"]
        calls = services.call_service(context.client)
        context["calls"], context["home"] = calls, calls.homes
        next()

    register_listeners(
        app,
        uninstalls=Uninstalls(store=services.store, installs=parts.installs, clock=services.clock),
    )
    return app


def build_reconciler(parts: AppParts) -> Reconciler:
    return Reconciler(
        store=parts.services.store,
        services=parts.services,
        clients=parts.clients,
        clock=parts.services.clock,
        lock=PassLock(parts.engine),
        max_call=timedelta(seconds=parts.settings.max_call_seconds),
        empty_grace=timedelta(seconds=parts.settings.empty_grace_seconds),
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
