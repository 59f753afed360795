"""Building the services for one workspace's Slack client: used per request by Bolt's
middleware and per call by the reconciler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from calls_app.clock import Clock
from calls_app.home import HomeService
from calls_app.limits import CallLimits
from calls_app.outbox import Outbox
from calls_app.participant_sync import ParticipantSync
from calls_app.permissions import AdminCache
from calls_app.providers import MeetingProvider
from calls_app.rate_limits import BACKGROUND_SHARE, RateLimits
from calls_app.service.call_message import CallMessage
from calls_app.service.ending import Ender
from calls_app.service.invitations import Invitations
from calls_app.service.registration import CallRegistration
from calls_app.service.repairs import Repairs
from calls_app.service.starting import CallStarter
from calls_app.service.verbs import CallService
from calls_app.slack_client import Pacing, make_web_client
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import CallStore
from calls_app.store.ending import EndingStore
from calls_app.store.home import HomeStore
from calls_app.store.participants import ParticipantStore
from calls_app.store.presence import PresenceStore
from calls_app.unfurls import LinkUnfurls


@dataclass
class ServiceFactory:
    """The services around a Slack client, so a per-workspace token reaches Slack without
    the services knowing about tokens."""

    store: CallStore
    participants: ParticipantStore
    ending: EndingStore
    home_store: HomeStore
    clock: Clock
    meetings: MeetingProvider
    admins: AdminCache
    lease: timedelta
    outbox: Outbox
    rate_limits: RateLimits
    call_limits: CallLimits
    presence: PresenceStore

    def unfurls(self, client: WebClient, *, team_id: str) -> LinkUnfurls:
        slack = self._gateway(client, team_id, share=None)
        return LinkUnfurls(
            registration=self._registration(slack, self._message(slack)),
            presence=self.presence,
            slack=slack,
            meetings=self.meetings,
            clock=self.clock,
        )

    def call_service(self, client: WebClient, *, team_id: str) -> CallService:
        """For a person's action only a 429 already seen makes Slack requests wait; background
        work (ender, repairs) passes the `share` of each rate tier it may use (rate_limits.py)."""
        slack = self._gateway(client, team_id, share=None)
        homes = self._homes(slack)
        message = self._message(slack)
        return CallService(
            store=self.store,
            participants=self.participants,
            slack=slack,
            clock=self.clock,
            admins=self.admins,
            lease=self.lease,
            homes=homes,
            outbox=self.outbox,
            limits=self.call_limits,
            message=message,
            ender=self._ender(slack, message, homes),
        )

    def call_starter(self, client: WebClient, *, team_id: str) -> CallStarter:
        slack = self._gateway(client, team_id, share=None)
        message = self._message(slack)
        return CallStarter(
            store=self.store,
            slack=slack,
            clock=self.clock,
            meetings=self.meetings,
            limits=self.call_limits,
            homes=self._homes(slack),
            registration=self._registration(slack, message),
            message=message,
            invitations=self._invitations(slack),
        )

    def ender(self, client: WebClient, *, team_id: str, share: float) -> Ender:
        slack = self._gateway(client, team_id, share=share)
        return self._ender(slack, self._message(slack), self._homes(slack))

    def repairs(self, client: WebClient, *, team_id: str, share: float) -> Repairs:
        slack = self._gateway(client, team_id, share=share)
        homes = self._homes(slack)
        message = self._message(slack)
        return Repairs(
            store=self.store,
            participants=self.participants,
            outbox=self.outbox,
            slack=slack,
            clock=self.clock,
            lease=self.lease,
            homes=homes,
            message=message,
            ender=self._ender(slack, message, homes),
            invitations=self._invitations(slack),
        )

    def checks(self, client: WebClient, *, team_id: str) -> SlackGateway:
        """A gateway for one short lookup on a request thread that must answer soon."""
        return self._gateway(client, team_id, share=None).for_checks_before_ack()

    def participant_sync(self, client: WebClient, *, team_id: str) -> ParticipantSync:
        return ParticipantSync(
            store=self.store,
            participants=self.participants,
            slack=self._gateway(client, team_id, share=BACKGROUND_SHARE),
        )

    def background_homes(self, client: WebClient, *, team_id: str) -> HomeService:
        return self._homes(self._gateway(client, team_id, share=BACKGROUND_SHARE))

    def _gateway(self, client: WebClient, team_id: str, *, share: float | None) -> SlackGateway:
        return SlackGateway(client, pacing=Pacing(self.rate_limits, team_id, share))

    def _registration(self, slack: SlackGateway, message: CallMessage) -> CallRegistration:
        return CallRegistration(
            store=self.store, slack=slack, clock=self.clock, lease=self.lease, message=message
        )

    def _message(self, slack: SlackGateway) -> CallMessage:
        return CallMessage(store=self.store, slack=slack, clock=self.clock, lease=self.lease)

    def _ender(self, slack: SlackGateway, message: CallMessage, homes: HomeService) -> Ender:
        return Ender(
            ending=self.ending,
            message=message,
            slack=slack,
            homes=homes,
            clock=self.clock,
            lease=self.lease,
        )

    def _invitations(self, slack: SlackGateway) -> Invitations:
        return Invitations(
            participants=self.participants, slack=slack, clock=self.clock, lease=self.lease
        )

    def _homes(self, slack: SlackGateway) -> HomeService:
        return HomeService(
            store=self.home_store,
            slack=slack,
            clock=self.clock,
            admins=self.admins,
            outbox=self.outbox,
        )


@dataclass
class WorkspaceClients:
    """A Web API client for a workspace, outside any request: the one bot token, or the
    workspace's own from the installation store (None once it uninstalled)."""

    base_url: str
    bot_token: str | None
    installs: InstallationStore | None

    def app_client(self) -> WebClient:
        """Bolt's own client: the bot token, or none (each request brings its workspace's)."""
        return make_web_client(token=self.bot_token, base_url=self.base_url)

    def for_team(self, *, team_id: str, enterprise_id: str | None) -> WebClient | None:
        """None when the workspace has no install left; TokenUnreadable when it has one
        whose token can't be read (a wrong CALLS_ENCRYPTION_KEY): not the same thing."""
        token = self.bot_token
        if self.installs is not None:
            bot = self.installs.find_bot(enterprise_id=enterprise_id, team_id=team_id)
            if bot is None and enterprise_id is not None:
                # Installed on the whole organization: one install, stored without a team.
                bot = self.installs.find_bot(
                    enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
                )
            if bot is None:
                return None
            if not bot.bot_token:
                raise TokenUnreadable(team_id)
            token = bot.bot_token
        return make_web_client(token=token, base_url=self.base_url, team_id=team_id)


class TokenUnreadable(Exception):
    """The workspace is installed, but its stored token can't be used."""
