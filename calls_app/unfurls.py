"""Pasted meeting links shown as live calls (Slack's `link_shared` → `calls.add` → `chat.unfurl`).

A link of the configured provider unfurls as the call the app already runs for that meeting;
any other meeting of that provider is registered first (created by whoever pasted it, nobody
in it yet) and from then on gets the provider's presence like any call. Its Slack "message" is
the unfurl: the app posts none of its own. Links of other hosts are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from calls_app.clock import Clock
from calls_app.errors import CallsError, SlackFailure
from calls_app.models import Call, CallState
from calls_app.providers import Meeting, MeetingProvider
from calls_app.records import Actor, NewCall
from calls_app.service.registration import CallRegistration
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import MeetingHasLiveCall
from calls_app.store.presence import PresenceStore

log = logging.getLogger(__name__)

TITLE = "Meeting"
MAX_LINKS = 10  # Slack sends at most a handful per message; more is not a paste
# How long a link waits for its meeting's call to be registered (calls.add) or ended by
# someone else, looking again every POLL_SECONDS; then it is left as a plain link.
SETTLE_SECONDS = 5.0
POLL_SECONDS = 0.05


class LinkUnfurls:
    def __init__(
        self,
        *,
        registration: CallRegistration,
        presence: PresenceStore,
        slack: SlackGateway,
        meetings: MeetingProvider,
        clock: Clock,
    ) -> None:
        self._registration = registration
        self._presence = presence
        self._slack = slack
        self._meetings = meetings
        self._clock = clock

    def meeting_links(self, links: Sequence[str]) -> dict[str, str]:
        """The links that are meetings of our provider: url -> meeting id, each url once."""
        found = {}
        for url in list(dict.fromkeys(links))[:MAX_LINKS]:
            meeting_id = self._meetings.meeting_id_of(url)
            if meeting_id is not None:
                found[url] = meeting_id
        return found

    def unfurl(
        self,
        actor: Actor,
        *,
        links: Sequence[str],
        channel_id: str | None,
        message_ts: str | None,
        unfurl_id: str | None,
        source: str | None,
    ) -> None:
        unfurls = {}
        for url, meeting_id in self.meeting_links(links).items():
            call = self._call_for(actor, url, meeting_id, channel_id or "")
            if call is not None and call.slack_call_id is not None:
                unfurls[url] = {"blocks": [{"type": "call", "call_id": call.slack_call_id}]}
        if not unfurls:
            return
        try:
            if unfurl_id:
                self._slack.unfurl(unfurls=unfurls, unfurl_id=unfurl_id, source=source)
            else:
                self._slack.unfurl(unfurls=unfurls, channel=channel_id, ts=message_ts)
        except SlackFailure as failure:
            # cannot_unfurl_url: the workspace blocks previews of that host.
            log.info("links not unfurled: %s", failure.error)

    def _call_for(self, actor: Actor, url: str, meeting_id: str, channel_id: str) -> Call | None:
        """The meeting's active call, registered first if it has none. A link's two
        `link_shared` (typed, then posted), or one paste seen by two instances, race here: the
        database lets one registration in, and the others wait for its call to go live."""
        settle_by = time.monotonic() + SETTLE_SECONDS
        while True:
            known = self._presence.meeting_call(meeting_id, team_id=actor.team_id)
            if known is None:
                try:
                    return self._register(actor, url, meeting_id, channel_id)
                except MeetingHasLiveCall:
                    pass  # registered by another meanwhile: wait for it as for any
            elif known.state == CallState.ACTIVE:
                return known
            if time.monotonic() >= settle_by:
                log.info("a meeting link was not unfurled: its call did not settle in time")
                return None
            time.sleep(POLL_SECONDS)

    def _register(self, actor: Actor, url: str, meeting_id: str, channel_id: str) -> Call | None:
        new = NewCall(
            team_id=actor.team_id,
            enterprise_id=actor.enterprise_id,
            channel_id=channel_id,
            title=TITLE,
            join_url=url,
            created_by=actor.user_id,
            started_at=self._clock(),
            meeting_id=meeting_id,
            shown_by_unfurl=True,
        )
        meeting = Meeting(join_url=url, meeting_id=meeting_id)
        try:
            return self._registration.register(new, meeting, starter_in_call=False)
        except SlackFailure as failure:
            log.warning("a pasted meeting link could not be registered: %s", failure.error)
        except CallsError:  # MeetingHasLiveCall is not one: the caller waits for that call
            log.warning("a pasted meeting link was registered too late, and withdrawn")
        return None
