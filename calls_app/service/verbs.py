"""The verbs people use on an existing call, and their rules (terms: docs/glossary.md)."""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import Unpack

from calls_app import log_context
from calls_app.blocks.modals import rename_modal
from calls_app.blocks.picker import CallStatus
from calls_app.clock import Clock, whole_seconds
from calls_app.errors import (
    CallAlreadyEnded,
    CallBeingEnded,
    CallNeverStarted,
    CallNotFound,
    CallStillStarting,
    ChooseCall,
    NoLiveCall,
    NotAllowed,
    NotInCall,
    NoTitle,
    SlackFailure,
)
from calls_app.home import HomeService
from calls_app.limits import CallLimits
from calls_app.models import Call, CallState
from calls_app.outbox import Outbox
from calls_app.permissions import AdminCache, may_host
from calls_app.records import (
    MAX_TITLE_LENGTH,
    Actor,
    CallNamed,
    Joined,
    JoinedCall,
    MessageRef,
    Verb,
)
from calls_app.service.call_message import CallMessage
from calls_app.service.ending import Ender
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import CallStore
from calls_app.store.participants import ParticipantStore
from calls_app.text import truncate

log = logging.getLogger(__name__)


class CallService:
    """Join, leave, rename, status, end: who may, on which call, and what changes. A verb
    given the message pressed (`pressed_on`) first settles it: see CallMessage.adopt."""

    def __init__(
        self,
        *,
        store: CallStore,
        participants: ParticipantStore,
        slack: SlackGateway,
        clock: Clock,
        admins: AdminCache,
        lease: timedelta,
        homes: HomeService,
        outbox: Outbox,
        limits: CallLimits,
        message: CallMessage,
        ender: Ender,
    ) -> None:
        self.homes = homes
        self._outbox = outbox
        self._limits = limits
        self._store = store
        self._participants = participants
        self._slack = slack
        self._clock = clock
        self._admins = admins
        self._lease = lease
        self._message = message
        self._ender = ender

    def before_ack(self) -> CallService:
        """For join and leave, run before the ack: Slack requests (only the message's, in an
        adopt) bounded to fit in Slack's 3 seconds."""
        bounded = copy.copy(self)
        bounded._slack = self._slack.for_checks_before_ack()
        bounded._message = self._message.using(bounded._slack)
        return bounded

    # -- participants --------------------------------------------------------------------------

    def join(self, actor: Actor, **named: Unpack[CallNamed]) -> JoinedCall:
        """Record the person once, however often they press Join; the outbox tells Slack."""
        call = self._resolve_and_adopt(actor, Verb.JOIN, named)
        self._ensure_live(call)
        joined = self._participants.add_participant(
            call.id, user_id=actor.user_id, at=self._clock()
        )
        if joined is None:  # it began ending meanwhile
            current = self._store.get(team_id=actor.team_id, call_id=call.id) or call
            self._ensure_live(current)
            raise CallBeingEnded(call.title)
        if joined == Joined.ALREADY_IN:
            return JoinedCall(call=call, already_in=True)
        self._participants_changed(call)
        return JoinedCall(call=call, already_in=False)

    def leave(self, actor: Actor, **named: Unpack[CallNamed]) -> Call:
        call = self._resolve_and_adopt(actor, Verb.LEAVE, named)
        self._ensure_live(call)
        if not self._participants.mark_left(call.id, user_id=actor.user_id, at=self._clock()):
            raise NotInCall(call.title)
        self._participants_changed(call)
        return call

    def _participants_changed(self, call: Call) -> None:
        # One write however many people join: a crowd costs no more per press than one person.
        self._outbox.add_participants_change(
            team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
        )

    # -- rename --------------------------------------------------------------------------------

    def check_can_rename(
        self, actor: Actor, *, call_id: int, pressed_on: MessageRef | None = None
    ) -> Call:
        """The call, if this person may rename it now. Both callers race a clock (a modal's
        ack, a trigger_id's 3 seconds), so any admin lookup gets one short try."""
        call = self._resolve_and_adopt(
            actor, Verb.RENAME, {"call_id": call_id, "pressed_on": pressed_on}
        )
        self._ensure_live(call)
        self._require_host(actor, call, Verb.RENAME, slack=self._slack.for_checks_before_ack())
        return call

    def open_rename_modal(
        self,
        actor: Actor,
        *,
        call_id: int,
        trigger_id: str,
        response_url: str | None,
        pressed_on: MessageRef | None = None,
    ) -> None:
        call = self.check_can_rename(actor, call_id=call_id, pressed_on=pressed_on)
        view = rename_modal(call, response_url=response_url)
        self._slack.open_view(trigger_id=trigger_id, view=view)

    def rename(
        self,
        actor: Actor,
        title: str,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
    ) -> Call:
        title = truncate(title.strip(), MAX_TITLE_LENGTH)
        if not title:
            raise NoTitle()
        call = self._resolve(
            actor, Verb.RENAME, channel_id=channel_id, call_id=call_id, title=title
        )
        self._ensure_live(call)
        self._require_host(actor, call, Verb.RENAME)
        assert call.slack_call_id is not None
        # The record first, and only while the call is live: a rename racing End loses.
        renamed = self._store.set_title(call.id, title)
        if renamed is None:
            raise CallAlreadyEnded(call.title)
        try:
            self._slack.rename_call(call.slack_call_id, title)
        except SlackFailure:
            self._store.set_title(call.id, call.title)
            raise
        # An end may have begun while Slack was renaming: the ender shows the message then.
        current = self._store.get(team_id=actor.team_id, call_id=call.id) or renamed
        if current.state == CallState.ACTIVE:
            self._message.show_live(current)
        self.homes.refresh(current)
        return current

    # -- status and end ------------------------------------------------------------------------

    def status(self, actor: Actor, *, channel_id: str) -> list[CallStatus]:
        """What Slack says of each call running in the channel."""
        calls = self._store.live_calls_in_channel(team_id=actor.team_id, channel_id=channel_id)
        if not calls:
            raise NoLiveCall()
        now = self._clock()
        statuses = []
        # One calls.info per call: no more than a channel may run, though a race can start more.
        for call in calls[: self._limits.per_channel]:
            assert call.slack_call_id is not None
            info = self._slack.call_info(call.slack_call_id)
            started_at = info.date_start or call.started_at
            statuses.append(
                CallStatus(
                    title=info.title or call.title,
                    created_by=info.created_by or call.created_by,
                    running_seconds=whole_seconds(now - started_at),
                    people=info.users,
                )
            )
        return statuses

    def end(self, actor: Actor, **named: Unpack[CallNamed]) -> Call:
        """End the call once, however many people press End at the same moment."""
        call = self._resolve_and_adopt(actor, Verb.END, named)
        self._ensure_live(call, allow_ending=True)
        self._require_host(actor, call, Verb.END)
        ended = self._ender.end_by(actor.user_id, call)
        if ended is None:
            current = self._store.get(team_id=actor.team_id, call_id=call.id)
            if current is not None and current.state == CallState.ENDED:
                raise CallAlreadyEnded(call.title)
            raise CallBeingEnded(call.title)
        return ended

    # -- shared rules --------------------------------------------------------------------------

    def _resolve(
        self,
        actor: Actor,
        verb: Verb,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
        title: str | None = None,
    ) -> Call:
        """The one call meant: named by id, or the only live call in the channel."""
        log_context.set_call(call_id)
        if call_id is not None:
            call = self._store.get(team_id=actor.team_id, call_id=call_id)
            if call is None:
                raise CallNotFound()
            return call
        assert channel_id is not None
        calls = self.calls_to_choose(actor, verb, channel_id=channel_id)
        if len(calls) > 1:
            raise ChooseCall(verb, calls, title)
        log_context.set_call(calls[0].id)
        return calls[0]

    def _resolve_and_adopt(self, actor: Actor, verb: Verb, named: CallNamed) -> Call:
        """The call meant, after adopting the message pressed if it is one of the call's we
        didn't know (CallMessage.adopt: this may update that message in Slack)."""
        call = self._resolve(
            actor, verb, channel_id=named.get("channel_id"), call_id=named.get("call_id")
        )
        pressed_on = named.get("pressed_on")
        return call if pressed_on is None else self._message.adopt(call, pressed_on)

    def calls_to_choose(self, actor: Actor, verb: Verb, *, channel_id: str) -> list[Call]:
        """The live calls of the channel a command may mean, oldest first: the picker's list."""
        calls = self._store.live_calls_in_channel(team_id=actor.team_id, channel_id=channel_id)
        if verb == Verb.LEAVE and len(calls) > 1:
            mine = self._participants.calls_user_is_in(
                call_ids=[c.id for c in calls], user_id=actor.user_id
            )
            if len(mine) == 1:
                calls = [c for c in calls if c.id in mine]
        if not calls:
            raise NoLiveCall()
        return calls

    @staticmethod
    def _ensure_live(call: Call, *, allow_ending: bool = False) -> None:
        if call.state == CallState.ENDED:
            raise CallAlreadyEnded(call.title)
        if call.state == CallState.ENDING and not allow_ending:
            raise CallBeingEnded(call.title)
        if call.state == CallState.STARTING:
            raise CallStillStarting()
        if call.state == CallState.FAILED:
            raise CallNeverStarted(call.title)

    def _require_host(
        self, actor: Actor, call: Call, verb: Verb, *, slack: SlackGateway | None = None
    ) -> None:
        if not may_host(
            self._admins,
            slack or self._slack,
            team_id=actor.team_id,
            user_id=actor.user_id,
            call=call,
        ):
            raise NotAllowed(verb)
