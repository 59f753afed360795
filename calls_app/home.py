"""The App Home tab: a person's active and recent calls, and the start-a-call modal."""

from __future__ import annotations

import logging

from calls_app.blocks.elements import BlockKit
from calls_app.blocks.home import home_view
from calls_app.blocks.modals import start_call_modal
from calls_app.clock import Clock
from calls_app.errors import SlackFailure
from calls_app.models import Call
from calls_app.outbox import Outbox
from calls_app.permissions import AdminCache, may_host
from calls_app.slack_gateway import SlackGateway
from calls_app.store.home import HomeStore

log = logging.getLogger(__name__)

ACTIVE_LIMIT = 20
RECENT_LIMIT = 10


class HomeService:
    def __init__(
        self,
        *,
        store: HomeStore,
        slack: SlackGateway,
        clock: Clock,
        admins: AdminCache,
        outbox: Outbox,
    ) -> None:
        self._store = store
        self._slack = slack
        self._clock = clock
        self._admins = admins
        self._outbox = outbox

    def opened(self, *, team_id: str, enterprise_id: str | None, user_id: str) -> None:
        """Remember who has a Home to keep fresh, and publish theirs through the outbox, which
        keeps a crowd opening Home at once within Slack's limit instead of failing most."""
        self._store.record_opened(team_id=team_id, user_id=user_id, at=self._clock())
        self._outbox.add_home_changes(
            team_id=team_id, enterprise_id=enterprise_id, user_ids=[user_id]
        )

    def publish(self, *, team_id: str, user_id: str, notice: str | None = None) -> None:
        calls = self._store.calls_for(
            team_id=team_id, user_id=user_id, active_limit=ACTIVE_LIMIT, recent_limit=RECENT_LIMIT
        )
        may_end = {
            call.id
            for call in calls.active
            if may_host(self._admins, self._slack, team_id=team_id, user_id=user_id, call=call)
        }
        view = home_view(calls, may_end=may_end, now=self._clock(), notice=notice)
        self._slack.publish_home(user_id=user_id, view=view)

    def refresh(self, call: Call) -> None:
        """The Homes that show this call are out of date. One outbox item for the call finds
        them later (fan_out), so a change costs one write however many people watch."""
        self._outbox.add_homes_of_call_change(
            team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
        )

    def fan_out(self, call: Call) -> None:
        """An item for the Home of each person who opened Home and whose Home shows the call
        (its starter, anyone ever in it); each is re-published at most once per interval."""
        self._outbox.add_home_changes(
            team_id=call.team_id,
            enterprise_id=call.enterprise_id,
            user_ids=self._store.watchers_of(call),
        )

    def open_start_modal(self, *, team_id: str, user_id: str, trigger_id: str) -> None:
        channel = self._store.last_channel(team_id=team_id, user_id=user_id)
        self._slack.open_view(trigger_id=trigger_id, view=start_call_modal(channel))

    def show_modal(self, *, view_id: str, view: BlockKit) -> None:
        """Replace an open modal's content; a modal closed meanwhile needs nothing."""
        try:
            self._slack.update_view(view_id=view_id, view=view)
        except SlackFailure:
            log.warning("modal %s could not be updated", view_id)
