"""A new call written `starting` under its starter's lease, then registered in Slack
(calls.add): what `/call start` and a pasted meeting link share (terms: docs/glossary.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from calls_app import log_context, wording
from calls_app.clock import Clock
from calls_app.errors import CallsError, SlackFailure
from calls_app.models import Call, CallState
from calls_app.providers import Meeting
from calls_app.records import NewCall
from calls_app.service.call_message import CallMessage
from calls_app.slack_gateway import SlackGateway
from calls_app.store.calls import CallStore


class CallRegistration:
    def __init__(
        self,
        *,
        store: CallStore,
        slack: SlackGateway,
        clock: Clock,
        lease: timedelta,
        message: CallMessage,
    ) -> None:
        self._store = store
        self._slack = slack
        self._clock = clock
        self._lease = lease
        self._message = message

    def register(
        self,
        new: NewCall,
        meeting: Meeting,
        *,
        invitees: Sequence[str] = (),
        starter_in_call: bool,
    ) -> Call:
        """The call, `active`, its starter now its poster. Raises MeetingHasLiveCall, the
        SlackFailure of calls.add, or CallsError when Slack answered after the lease ran out."""
        lease = new.started_at + self._lease
        call = self._store.create_starting(
            new, lease_until=lease, invitees=invitees, starter_in_call=starter_in_call
        )
        log_context.set_call(call.id)
        try:
            call.slack_call_id = self._slack.add_call(
                external_unique_id=call.external_unique_id,
                join_url=call.join_url,
                title=call.title,
                created_by=new.created_by,
                date_start=int(new.started_at.timestamp()),
                users=[new.created_by] if starter_in_call else [],
                desktop_app_join_url=meeting.desktop_app_join_url,
                external_display_id=meeting.external_display_id,
            )
        except SlackFailure:
            self._store.mark_failed(call.id, at=self._clock())
            raise
        # A pasted link's call keeps no lease: the unfurl is its message, nothing is left to post.
        renewed = None if new.shown_by_unfurl else self._clock() + self._lease
        if not self._store.mark_registered(
            call.id, slack_call_id=call.slack_call_id, lease=lease, renewed=renewed
        ):
            # Slack answered after our lease ran out and the start was given up: undo it there.
            self._message.end_in_slack(call)
            raise CallsError(wording.SLACK_TOO_SLOW_TO_REGISTER)
        call.state, call.lease_expires_at = CallState.ACTIVE, renewed
        return call
