"""Starting a call: limits, its meeting, the starter's lease, calls.add, its message and its
invitations (terms: docs/glossary.md)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from calls_app.clock import Clock
from calls_app.errors import (
    CannotPostInChannel,
    MeetingAlreadyLive,
    NotInChannel,
    TooManyInvitees,
)
from calls_app.home import HomeService
from calls_app.limits import CallLimits
from calls_app.providers import Meeting, MeetingProvider
from calls_app.records import MAX_TITLE_LENGTH, Actor, NewCall, StartedCall
from calls_app.service.call_message import CallMessage
from calls_app.service.invitations import Invitations
from calls_app.service.registration import CallRegistration
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import CallStore, MeetingHasLiveCall
from calls_app.text import truncate

log = logging.getLogger(__name__)

MAX_INVITEES = 20


def default_title(channel_name: str | None) -> str:
    # Slack names DMs "directmessage" and group DMs "privategroup"; neither reads as a title.
    if not channel_name or channel_name in ("directmessage", "privategroup"):
        return "Call"
    return f"Call in #{channel_name}"


def _check_invitee_count(invitees: Sequence[str]) -> None:
    if len(invitees) > MAX_INVITEES:
        raise TooManyInvitees(MAX_INVITEES)


class CallStarter:
    def __init__(
        self,
        *,
        store: CallStore,
        slack: SlackGateway,
        clock: Clock,
        meetings: MeetingProvider,
        limits: CallLimits,
        homes: HomeService,
        registration: CallRegistration,
        message: CallMessage,
        invitations: Invitations,
    ) -> None:
        self._store = store
        self._slack = slack
        self._clock = clock
        self._meetings = meetings
        self._limits = limits
        self._homes = homes
        self._registration = registration
        self._message = message
        self._invitations = invitations

    def check_can_start(self, actor: Actor, *, channel_id: str, invitees: Sequence[str]) -> str:
        """Before a modal closes (its channel picker offers channels the person never joined):
        may they start a call there, and can the app post there? Returns the channel's name."""
        _check_invitee_count(invitees)
        slack = self._slack.for_checks_before_ack()
        # The app first: "invite me" is the usual problem, and a channel the app can't see
        # costs no second request.
        name, app_is_member = slack.channel_membership(channel_id)
        if not app_is_member:
            raise CannotPostInChannel()
        person_is_member = slack.channel_has_member(channel_id, actor.user_id)
        if person_is_member is None:
            # Too many members to read before the ack: refuse rather than let someone who may
            # not be in the channel post there; `/call start` in the channel still works.
            raise NotInChannel(confirmed=False)
        if not person_is_member:
            raise NotInChannel()
        return name

    def start(
        self,
        actor: Actor,
        *,
        channel_id: str,
        title: str,
        invitees: Sequence[str] = (),
        join_url: str | None = None,
    ) -> StartedCall:
        """Register the call with Slack, post it in the channel, invite people."""
        in_channel, by_person = self._store.running_call_counts(
            team_id=actor.team_id, channel_id=channel_id, user_id=actor.user_id
        )
        self._limits.check_start(in_channel=in_channel, by_person=by_person)
        invitees = [user for user in dict.fromkeys(invitees) if user != actor.user_id]
        _check_invitee_count(invitees)
        started_at = self._clock()
        meeting = self._new_meeting(actor, join_url)
        # Where the meeting says who is in it, nobody is until it does: a starter who never
        # joins doesn't keep the call from ending when empty.
        starter_in_call = not (self._meetings.reports_presence and meeting.meeting_id)
        new = NewCall(
            team_id=actor.team_id,
            enterprise_id=actor.enterprise_id,
            channel_id=channel_id,
            title=truncate(title, MAX_TITLE_LENGTH),
            join_url=meeting.join_url,
            created_by=actor.user_id,
            started_at=started_at,
            meeting_id=meeting.meeting_id,
        )
        try:
            call = self._registration.register(
                new, meeting, invitees=invitees, starter_in_call=starter_in_call
            )
        except MeetingHasLiveCall:
            # Only a link someone gave can name a meeting already in use: a new one can't.
            raise MeetingAlreadyLive() from None
        log.info("call %s started in %s", call.id, call.channel_id)
        self._message.post(call)
        # Nobody to invite: no need to look for unsent invitations.
        invited, not_invited = self._invitations.send(call) if invitees else ([], [])
        self._homes.refresh(call)
        return StartedCall(call=call, invited=invited, not_invited=not_invited)

    def _new_meeting(self, actor: Actor, join_url: str | None) -> Meeting:
        """The provider's new meeting, or the one whose link the person gave."""
        if join_url is not None:
            return Meeting(join_url=join_url, meeting_id=self._meetings.meeting_id_of(join_url))
        return self._meetings.new_meeting(host_email=lambda: self._slack.user_email(actor.user_id))
