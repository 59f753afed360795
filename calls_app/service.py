"""The call service: the state machine, permissions and idempotency of every call change.

It talks to the store and to a Slack gateway only; it never sees a Bolt request. Each method
takes the acting person and either a channel (commands) or a call id (buttons, modals).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from calls_app import blocks, log_context, wording
from calls_app.clock import Clock, whole_seconds
from calls_app.command_text import MAX_TITLE_LENGTH, Verb
from calls_app.errors import (
    CallAlreadyEnded,
    CallBeingEnded,
    CallNeverStarted,
    CallNotFound,
    CallsError,
    CallStillStarting,
    CannotPostInChannel,
    ChooseCall,
    MeetingAlreadyLive,
    NoLiveCall,
    NotAllowed,
    NotInCall,
    NotInChannel,
    NoTitle,
    SlackFailure,
    TooManyInvitees,
)
from calls_app.home import HomeService
from calls_app.limits import CallLimits
from calls_app.models import Call, CallState, EndReason
from calls_app.outbox import Outbox
from calls_app.permissions import AdminCache, may_host
from calls_app.providers import Meeting, MeetingProvider
from calls_app.records import Joined, NewCall
from calls_app.slack_gateway import CallUser, SlackCallInfo, SlackGateway
from calls_app.store.calls import CallStore, MeetingHasLiveCall
from calls_app.store.ending import EndingStore
from calls_app.store.participants import ParticipantStore
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


@dataclass(frozen=True)
class Actor:
    """Who acts, in which workspace: everything they touch must belong to that workspace."""

    team_id: str
    enterprise_id: str | None
    user_id: str


@dataclass(frozen=True)
class MessageRef:
    """A message in a channel: the one whose button was pressed."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class StartedCall:
    call: Call
    invited: list[str]
    not_invited: list[str]


@dataclass(frozen=True)
class JoinedCall:
    call: Call
    already_in: bool


class CallService:
    def __init__(
        self,
        *,
        store: CallStore,
        participants: ParticipantStore,
        ending: EndingStore,
        slack: SlackGateway,
        clock: Clock,
        meetings: MeetingProvider,
        admins: AdminCache,
        lease: timedelta,
        homes: HomeService,
        outbox: Outbox,
        limits: CallLimits,
    ) -> None:
        self.homes = homes
        self._outbox = outbox
        self._limits = limits
        self._store = store
        self._participants = participants
        self._ending = ending
        self._slack = slack
        self._clock = clock
        self._meetings = meetings
        self._admins = admins
        self._lease = lease

    def before_ack(self) -> CallService:
        """This service with its Slack requests bounded to fit before Slack's 3-second ack
        (a press on a message we didn't know may need one)."""
        bounded = copy.copy(self)
        bounded._slack = self._slack.for_checks_before_ack()
        return bounded

    # -- start ---------------------------------------------------------------------------------

    def check_can_start(self, actor: Actor, *, channel_id: str, invitees: Sequence[str]) -> str:
        """Before a modal closes: may the person start a call in that channel, and can it be
        shown there? Returns the channel's name.

        A slash command needs no such check (Slack only runs it where the person is), but the
        modal's channel picker offers public channels they never joined.
        """
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
        lease = started_at + self._lease
        meeting = self._new_meeting(actor, join_url)
        # Where the meeting says who is in it, nobody is until it does: a starter who never
        # joins doesn't keep the call from ending when empty.
        starter_in_call = not (self._meetings.reports_presence and meeting.meeting_id)
        try:
            call = self._store.create_starting(
                NewCall(
                    team_id=actor.team_id,
                    enterprise_id=actor.enterprise_id,
                    channel_id=channel_id,
                    title=truncate(title, MAX_TITLE_LENGTH),
                    join_url=meeting.join_url,
                    created_by=actor.user_id,
                    started_at=started_at,
                    meeting_id=meeting.meeting_id,
                ),
                lease_until=lease,
                invitees=invitees,
                starter_in_call=starter_in_call,
            )
        except MeetingHasLiveCall:
            # Only a link someone gave can name a meeting already in use: a new one can't.
            raise MeetingAlreadyLive() from None
        log_context.set_call(call.id)
        try:
            call.slack_call_id = self._slack.add_call(
                external_unique_id=call.external_unique_id,
                join_url=call.join_url,
                title=call.title,
                created_by=actor.user_id,
                date_start=int(started_at.timestamp()),
                users=[actor.user_id] if starter_in_call else [],
                desktop_app_join_url=meeting.desktop_app_join_url,
                external_display_id=meeting.external_display_id,
            )
        except SlackFailure:
            self._store.mark_failed(call.id, at=self._clock())
            raise
        renewed = self._clock() + self._lease
        if not self._store.mark_registered(
            call.id, slack_call_id=call.slack_call_id, lease=lease, renewed=renewed
        ):
            # Slack answered after our lease ran out and the start was given up: undo it there.
            self._end_unseen_in_slack(call)
            raise CallsError(wording.SLACK_TOO_SLOW_TO_REGISTER)
        call.state, call.lease_expires_at = CallState.ACTIVE, renewed
        log.info("call %s started in %s", call.id, call.channel_id)
        self._post_call_message(call)
        # Nobody to invite: no need to look for unsent invitations.
        invited, not_invited = self._invite(call) if invitees else ([], [])
        self.homes.refresh(call)
        return StartedCall(call=call, invited=invited, not_invited=not_invited)

    def _new_meeting(self, actor: Actor, join_url: str | None) -> Meeting:
        """The provider's new meeting, or the one whose link the person gave."""
        if join_url is not None:
            return Meeting(join_url=join_url, meeting_id=self._meetings.meeting_id_of(join_url))
        return self._meetings.new_meeting(host_email=lambda: self._slack.user_email(actor.user_id))

    def _post_call_message(self, call: Call) -> None:
        """Show the registered call in its channel, or withdraw it if that can't be done."""
        message = blocks.live_call_message(call)
        try:
            channel, ts = self._slack.post_message(
                channel=call.channel_id, text=message.text, blocks=message.blocks
            )
        except SlackFailure as failure:
            if not self._withdraw_unposted(call):
                shown = self._store.get(team_id=call.team_id, call_id=call.id)
                if shown is not None and shown.message_ts is not None:
                    # Shown after all: a press adopted the landed post, or a takeover posted.
                    call.message_channel_id = shown.message_channel_id
                    call.message_ts = shown.message_ts
                    return
            if failure.error in CannotPostInChannel.ERRORS:
                raise CannotPostInChannel() from None
            raise
        now = self._record_message(call, MessageRef(channel_id=channel, ts=ts))
        if now is None:
            current = self._store.get(team_id=call.team_id, call_id=call.id)
            if current is not None and current.message_ts == ts:
                return  # a button pressed on it already made it the call's message
            # We were slow and the reconciler posted it too: one message is enough.
            try:
                self._slack.delete_message(channel=channel, ts=ts)
            except SlackFailure:
                log.warning("call %s: a duplicate message could not be deleted", call.id)
            return
        call.message_channel_id, call.message_ts = channel, ts

    def _record_message(
        self, call: Call, where: MessageRef, *, adopted: bool = False
    ) -> Call | None:
        """Record where the call is shown; the call as it is now, or None if another message
        was recorded first (or, for a message a press `adopted`, if it may not be taken)."""
        now = self._store.set_message(
            call.id,
            channel_id=where.channel_id,
            ts=where.ts,
            adopted_at=self._clock() if adopted else None,
        )
        if now is not None and now.state == CallState.ENDED:
            # Ended before we knew where its message was: its ender couldn't update it.
            self._show(now, blocks.ended_call_message(now))
        return now

    def post_pending_message(self, call: Call) -> bool:
        """A call registered in Slack whose message was never posted (its starter crashed):
        post it now. False if another process is already at it."""
        until = self._store.claim_posting(call.id, now=self._clock(), lease=self._lease)
        if until is None:
            return False
        call.lease_expires_at = until
        self._post_call_message(call)
        self.homes.refresh(call)
        return True

    def _withdraw_unposted(self, call: Call) -> bool:
        """Nobody can see a call whose message failed: end it in Slack so it doesn't linger.
        False, and nothing done, if the call is no longer ours to withdraw: its poster's lease
        (`call.lease_expires_at`) was taken over, or a press made a landed post its message."""
        if not self._store.hold_unposted(
            call.id, lease=call.lease_expires_at, until=self._clock() + self._lease
        ):
            return False
        if self._end_unseen_in_slack(call):
            self._store.mark_failed(call.id, at=self._clock())
        # Else it stays active: once the hold runs out the reconciler posts it again.
        return True

    def _end_unseen_in_slack(self, call: Call) -> bool:
        assert call.slack_call_id is not None
        try:
            self._slack.end_call(
                call.slack_call_id,
                duration_seconds=whole_seconds(self._clock() - call.started_at),
            )
        except SlackFailure:
            log.error("call %s could not be withdrawn from Slack; it stays live there", call.id)
            return False
        return True

    def _invite(self, call: Call) -> tuple[list[str], list[str]]:
        """DM each invitation not sent yet; each is recorded as it goes, so a crash resends
        at most the one in flight."""
        invited, not_invited = [], []
        message = blocks.invitation_message(call)
        for user in self._participants.unsent_invitations(call.id):
            if not self._participants.claim_invitation(
                call.id, user, now=self._clock(), lease=self._lease
            ):
                continue  # someone else is sending it, or the call ended
            try:
                self._slack.post_message(channel=user, text=message.text, blocks=message.blocks)
            except SlackFailure as failure:
                not_invited.append(user)
                if not failure.transient:  # a transient failure stays pending for the reconciler
                    self._participants.record_invitation(
                        call.id, user, sent_at=None, error=failure.error
                    )
            else:
                invited.append(user)
                self._participants.record_invitation(
                    call.id, user, sent_at=self._clock(), error=None
                )
        return invited, not_invited

    def send_invitations(self, call: Call) -> bool:
        """The invitations a crashed start never sent."""
        invited, _ = self._invite(call)
        return bool(invited)

    # -- end -----------------------------------------------------------------------------------

    def end(
        self,
        actor: Actor,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
        pressed_on: MessageRef | None = None,
    ) -> Call:
        """End the call once, however many people press End at the same moment."""
        call = self._resolve(
            actor, Verb.END, channel_id=channel_id, call_id=call_id, pressed_on=pressed_on
        )
        self._ensure_live(call, allow_ending=True)
        self._require_host(actor, call, Verb.END)
        claimed = self._ending.claim_ending(
            call.id, by=actor.user_id, reason=EndReason.PERSON, now=self._clock(), lease=self._lease
        )
        if claimed is None:
            current = self._store.get(team_id=actor.team_id, call_id=call.id)
            if current is not None and current.state == CallState.ENDED:
                raise CallAlreadyEnded(call.title)
            raise CallBeingEnded(call.title)
        return self._finish_end(claimed)

    def end_automatically(self, call: Call, reason: EndReason) -> Call | None:
        """End on the app's own authority (a limit, or an end a crash interrupted); None if
        someone else holds the call's lease, or (for an empty call) someone came back."""
        claimed = self._ending.claim_ending(
            call.id,
            by=None,
            reason=reason,
            now=self._clock(),
            lease=self._lease,
            only_if_empty=reason == EndReason.EMPTY,
        )
        return claimed and self._finish_end(claimed)

    def record_ended_in_slack(self, call: Call) -> Call | None:
        """Slack has the call ended already: follow it, without telling Slack again."""
        claimed = self._ending.claim_ending(
            call.id, by=None, reason=EndReason.SLACK, now=self._clock(), lease=self._lease
        )
        return claimed and self._finish_end(claimed, tell_slack=False)

    def _finish_end(self, claimed: Call, *, tell_slack: bool = True) -> Call:
        """With the lease held: calls.end, the message, then the record and Homes. The message
        goes before the record so that a crash between them leaves an end the reconciler
        finishes, never a finished end behind a message that still looks live."""
        assert claimed.ended_at is not None and claimed.slack_call_id is not None
        claimed.duration_seconds = whole_seconds(claimed.ended_at - claimed.started_at)
        if tell_slack:
            try:
                self._slack.end_call(
                    claimed.slack_call_id, duration_seconds=claimed.duration_seconds
                )
            except SlackFailure:
                self._ending.release_ending(claimed, now=self._clock())
                raise
        self._show(claimed, blocks.ended_call_message(claimed))
        ended = self._ending.mark_ended(claimed)
        if ended is None:  # the lease was lost meanwhile: its new holder records the end
            return claimed
        log.info("call %s ended (%s)", ended.id, ended.end_reason)
        if ended.message_ts and not claimed.message_ts:  # posted while we were ending it
            self._show(ended, blocks.ended_call_message(ended))
        self.homes.refresh(ended)
        return ended

    def slack_call_info(self, call: Call) -> SlackCallInfo | None:
        """What Slack says of the call; None if Slack doesn't know it."""
        assert call.slack_call_id is not None
        try:
            return self._slack.call_info(call.slack_call_id)
        except SlackFailure as failure:
            if failure.error == "invalid_call_id":
                return None
            raise

    def sync_title(self, call: Call, in_slack: str) -> bool:
        """Slack shows another title than ours (a rename raced another): ours wins."""
        current = self._store.get(team_id=call.team_id, call_id=call.id)
        if current is None or current.state != CallState.ACTIVE or in_slack == current.title:
            return False
        assert current.slack_call_id is not None
        self._slack.rename_call(current.slack_call_id, current.title)
        return True

    def sync_participants(
        self, call: Call, in_slack: Sequence[str], external_ids: Sequence[str] = ()
    ) -> bool:
        """Slack's list of who is in the call, read by the reconciler, replaces what we thought
        it lists; the outbox then brings it in step. True if it was out of step."""
        assert call.slack_call_id is not None
        strangers = set(in_slack) - self._participants.known_user_ids(call.id)
        if strangers:  # nobody we know of: no row to bring in step, so remove them here
            self._slack.remove_participants(
                call.slack_call_id, [CallUser(slack_id=user) for user in sorted(strangers)]
            )
        self._participants.match_slack(call.id, in_slack, external_ids)
        joined, left = self._participants.out_of_step(call.id, limit=1)
        if joined or left:  # Slack was wrong, not us: nobody's Home changes
            self._outbox.add_participants_change(
                team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
            )
        return bool(strangers or joined or left)

    # -- participants --------------------------------------------------------------------------

    def join(
        self,
        actor: Actor,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
        pressed_on: MessageRef | None = None,
    ) -> JoinedCall:
        """Record the person once, however many times they press Join; Slack hears of it from
        the outbox, with everyone else who joined meanwhile."""
        call = self._resolve(
            actor, Verb.JOIN, channel_id=channel_id, call_id=call_id, pressed_on=pressed_on
        )
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

    def leave(
        self,
        actor: Actor,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
        pressed_on: MessageRef | None = None,
    ) -> Call:
        call = self._resolve(
            actor, Verb.LEAVE, channel_id=channel_id, call_id=call_id, pressed_on=pressed_on
        )
        self._ensure_live(call)
        if not self._participants.mark_left(call.id, user_id=actor.user_id, at=self._clock()):
            raise NotInCall(call.title)
        self._participants_changed(call)
        return call

    def _participants_changed(self, call: Call) -> None:
        """Slack's list of the call and the Homes showing it are out of date: one write, however
        many people join, so a crowd costs the database no more per press than one person."""
        self._outbox.add_participants_change(
            team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
        )

    # -- rename --------------------------------------------------------------------------------

    def check_can_rename(
        self, actor: Actor, *, call_id: int, pressed_on: MessageRef | None = None
    ) -> Call:
        """The call, if this person may rename it now. Both callers race a clock (a modal's
        ack, a trigger_id's 3 seconds), so any admin lookup gets one short try."""
        call = self._resolve(actor, Verb.RENAME, call_id=call_id, pressed_on=pressed_on)
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
        view = blocks.rename_modal(call, response_url=response_url)
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
            self._show(current, blocks.live_call_message(current))
            after = self._store.get(team_id=actor.team_id, call_id=call.id)
            if after is not None and (after.state, after.title) != (current.state, current.title):
                self._store.mark_message_outdated(call.id)  # changed as we drew it
        self.homes.refresh(current)
        return current

    # -- status --------------------------------------------------------------------------------

    def status(self, actor: Actor, *, channel_id: str) -> list[blocks.CallStatus]:
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
                blocks.CallStatus(
                    title=info.title or call.title,
                    created_by=info.created_by or call.created_by,
                    running_seconds=whole_seconds(now - started_at),
                    people=info.users,
                )
            )
        return statuses

    # -- shared rules --------------------------------------------------------------------------

    def _resolve(
        self,
        actor: Actor,
        verb: Verb,
        *,
        channel_id: str | None = None,
        call_id: int | None = None,
        title: str | None = None,
        pressed_on: MessageRef | None = None,
    ) -> Call:
        """The one call meant: named by id, or the only live call in the channel."""
        log_context.set_call(call_id)
        if call_id is not None:
            call = self._store.get(team_id=actor.team_id, call_id=call_id)
            if call is None:
                raise CallNotFound()
            if (
                pressed_on is not None
                and pressed_on.channel_id == call.channel_id
                and pressed_on.ts != call.message_ts
            ):
                return self._message_we_did_not_know(call, pressed_on)
            return call
        assert channel_id is not None
        calls = self.calls_to_choose(actor, verb, channel_id=channel_id)
        if len(calls) > 1:
            raise ChooseCall(verb, calls, title)
        log_context.set_call(calls[0].id)
        return calls[0]

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

    def _message_we_did_not_know(self, call: Call, pressed: MessageRef) -> Call:
        """A button pressed on a message of this call that isn't its recorded one: a post that
        landed though its answer was lost, or whose process died before recording it. A call
        with no message recorded takes this one (nothing is posted again) unless its poster
        still holds it; a failed call's, or a second, message loses its buttons. Returns the
        call as it is now."""
        if call.message_ts is None and call.state != CallState.FAILED:
            adopted = self._record_message(call, pressed, adopted=True)
            if adopted is not None:
                return adopted
            call = self._store.get(team_id=call.team_id, call_id=call.id) or call
            if call.message_ts == pressed.ts:
                return call  # another press, or its poster, recorded it meanwhile
            if call.message_ts is None and call.state != CallState.FAILED:
                # Its poster holds it, still waiting for Slack's answer, and may yet call it
                # off: theirs to settle, and the message stays as it is.
                raise CallStillStarting()
        if call.state == CallState.FAILED:
            message = blocks.unstarted_call_message(call)  # called off meanwhile
        else:
            message = blocks.copy_of_call_message(call)
        try:
            self._slack.update_message(
                channel=pressed.channel_id, ts=pressed.ts, text=message.text, blocks=message.blocks
            )
        except SlackFailure:
            log.warning("call %s: a stray message of it could not be replaced", call.id)
        return call

    def _show(self, call: Call, message: blocks.Message) -> None:
        """Bring the call message up to date; the change itself already happened."""
        if call.message_channel_id is None or call.message_ts is None:
            return
        try:
            self._update_message(call, message)
        except SlackFailure:
            log.warning(
                "call %s: its message could not be updated; the reconciler retries", call.id
            )
            self._store.mark_message_outdated(call.id)

    def _update_message(self, call: Call, message: blocks.Message) -> None:
        assert call.message_channel_id is not None and call.message_ts is not None
        self._slack.update_message(
            channel=call.message_channel_id,
            ts=call.message_ts,
            text=message.text,
            blocks=message.blocks,
        )

    def refresh_message(self, call: Call) -> bool:
        """Render the call message again from what the call is now (an update failed)."""
        try:
            self._update_message(call, blocks.message_for(call))
        except SlackFailure as failure:
            if failure.transient:
                raise
            # Deleted, archived…: it will never update; stop spending requests on it.
        self._store.mark_message_current(call)
        return True
