"""The call message's life: post, record, adopt, withdraw, redraw (terms: docs/glossary.md)."""

from __future__ import annotations

import logging
from datetime import timedelta

from calls_app.blocks.call_message import (
    copy_of_call_message,
    ended_call_message,
    live_call_message,
    message_for,
    unstarted_call_message,
)
from calls_app.blocks.elements import Message
from calls_app.clock import Clock, whole_seconds
from calls_app.errors import CallStillStarting, CannotPostInChannel, SlackFailure
from calls_app.models import Call, CallState
from calls_app.records import MessageRef
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import CallStore

log = logging.getLogger(__name__)


class CallMessage:
    """Where a call is shown in its channel, and keeping that message in step with the call."""

    def __init__(
        self, *, store: CallStore, slack: SlackGateway, clock: Clock, lease: timedelta
    ) -> None:
        self._store = store
        self._slack = slack
        self._clock = clock
        self._lease = lease

    def using(self, slack: SlackGateway) -> CallMessage:
        """The same, talking to Slack through `slack` (e.g. bounded to fit before an ack)."""
        return CallMessage(store=self._store, slack=slack, clock=self._clock, lease=self._lease)

    def post(self, call: Call) -> None:
        """As the poster: show the registered call in its channel, or withdraw it."""
        message = live_call_message(call)
        try:
            channel, ts = self._slack.post_message(
                channel=call.channel_id, text=message.text, blocks=message.blocks
            )
        except SlackFailure as failure:
            if not self._withdraw(call):
                shown = self._store.get(team_id=call.team_id, call_id=call.id)
                if shown is not None and shown.message_ts is not None:
                    # Shown after all: a press adopted the landed post, or a takeover posted.
                    call.message_channel_id = shown.message_channel_id
                    call.message_ts = shown.message_ts
                    return
            if failure.error in CannotPostInChannel.ERRORS:
                raise CannotPostInChannel() from None
            raise
        if self.record(call, MessageRef(channel_id=channel, ts=ts)) is None:
            self._drop_duplicate(call, MessageRef(channel_id=channel, ts=ts))
            return
        call.message_channel_id, call.message_ts = channel, ts

    def _drop_duplicate(self, call: Call, posted: MessageRef) -> None:
        """Another message was recorded first: ours goes, unless a press made it the call's."""
        current = self._store.get(team_id=call.team_id, call_id=call.id)
        if current is not None and current.message_ts == posted.ts:
            return
        # We were slow and the reconciler posted it too: one message is enough.
        try:
            self._slack.delete_message(channel=posted.channel_id, ts=posted.ts)
        except SlackFailure:
            log.warning("call %s: a duplicate message could not be deleted", call.id)

    def record(self, call: Call, where: MessageRef, *, adopted: bool = False) -> Call | None:
        """Record where the call is shown; the call now, or None if another message was
        recorded first (or, `adopted` by a press, if its poster still holds the call)."""
        now = self._store.set_message(
            call.id,
            channel_id=where.channel_id,
            ts=where.ts,
            adopted_at=self._clock() if adopted else None,
        )
        if now is not None and now.state == CallState.ENDED:
            # Ended before we knew where its message was: its ender couldn't update it.
            self.show(now, ended_call_message(now))
        return now

    def adopt(self, call: Call, pressed: MessageRef) -> Call:
        """A press on `pressed`: if it is a message of the call we didn't record, adopt it (no
        poster holding the call) or take its buttons away. Returns the call as it is now."""
        if pressed.channel_id != call.channel_id or pressed.ts == call.message_ts:
            return call
        if call.message_ts is None and call.state != CallState.FAILED:
            adopted = self.record(call, pressed, adopted=True)
            if adopted is not None:
                return adopted
            call = self._store.get(team_id=call.team_id, call_id=call.id) or call
            if call.message_ts == pressed.ts:
                return call  # another press, or its poster, recorded it meanwhile
            if call.message_ts is None and call.state != CallState.FAILED:
                # Its poster holds it, still waiting for Slack, and may yet withdraw it.
                raise CallStillStarting()
        if call.state == CallState.FAILED:
            message = unstarted_call_message(call)  # withdrawn meanwhile
        else:
            message = copy_of_call_message(call)
        try:
            self._update(pressed, message)
        except SlackFailure:
            log.warning("call %s: a stray message of it could not be replaced", call.id)
        return call

    def _withdraw(self, call: Call) -> bool:
        """Hold, then withdraw a call whose message failed; False, nothing done, if it is no
        longer ours: its poster's lease (`call.lease_expires_at`) was taken, or a press adopted."""
        if not self._store.hold_unposted(
            call.id, lease=call.lease_expires_at, until=self._clock() + self._lease
        ):
            return False
        if self.end_in_slack(call):
            self._store.mark_failed(call.id, at=self._clock())
        # Else it stays active: once the hold runs out the reconciler posts it again.
        return True

    def end_in_slack(self, call: Call) -> bool:
        """End in Slack a registered call nobody sees; False if Slack couldn't be told."""
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

    def show(self, call: Call, message: Message) -> None:
        """Bring the message up to date; the change itself already happened, so a failure
        only marks it outdated for the reconciler."""
        if call.message_channel_id is None or call.message_ts is None:
            return
        try:
            self._update(MessageRef(call.message_channel_id, call.message_ts), message)
        except SlackFailure:
            log.warning(
                "call %s: its message could not be updated; the reconciler retries", call.id
            )
            self._store.mark_message_outdated(call.id)

    def show_live(self, call: Call) -> None:
        """Redraw a live call after a change; if it changed again as we drew, mark it outdated."""
        self.show(call, live_call_message(call))
        after = self._store.get(team_id=call.team_id, call_id=call.id)
        if after is not None and (after.state, after.title) != (call.state, call.title):
            self._store.mark_message_outdated(call.id)

    def refresh(self, call: Call) -> bool:
        """Redraw an outdated message from what the call is now."""
        assert call.message_channel_id is not None and call.message_ts is not None
        try:
            self._update(MessageRef(call.message_channel_id, call.message_ts), message_for(call))
        except SlackFailure as failure:
            if failure.transient:
                raise
            # Deleted, archived…: it will never update; stop spending requests on it.
        self._store.mark_message_current(call)
        return True

    def _update(self, where: MessageRef, message: Message) -> None:
        self._slack.update_message(
            channel=where.channel_id, ts=where.ts, text=message.text, blocks=message.blocks
        )
