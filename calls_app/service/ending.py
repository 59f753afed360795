"""Ending a call, by a person or by the app itself (terms: docs/glossary.md, "Ender")."""

from __future__ import annotations

import logging
from datetime import timedelta

from calls_app.blocks.call_message import ended_call_message
from calls_app.clock import Clock, whole_seconds
from calls_app.errors import SlackFailure
from calls_app.home import HomeService
from calls_app.models import Call, EndReason
from calls_app.service.call_message import CallMessage
from calls_app.slack_gateway import SlackGateway
from calls_app.store.ending import EndingStore

log = logging.getLogger(__name__)


class Ender:
    """Claims the ender's lease, then calls.end, the message, the record and the Homes."""

    def __init__(
        self,
        *,
        ending: EndingStore,
        message: CallMessage,
        slack: SlackGateway,
        homes: HomeService,
        clock: Clock,
        lease: timedelta,
    ) -> None:
        self._ending = ending
        self._message = message
        self._slack = slack
        self._homes = homes
        self._clock = clock
        self._lease = lease

    def end_by(self, user_id: str, call: Call) -> Call | None:
        """A host ends the call; None if another ender holds it or it has ended."""
        claimed = self._claim(call, by=user_id, reason=EndReason.PERSON)
        return claimed and self._finish(claimed)

    def end_automatically(self, call: Call, reason: EndReason) -> Call | None:
        """On the app's own authority; None if someone holds the call's lease, or (for an
        empty call) someone came back."""
        claimed = self._claim(call, by=None, reason=reason)
        return claimed and self._finish(claimed)

    def follow_slack(self, call: Call) -> Call | None:
        """Slack has the call ended already: record it, without telling Slack again."""
        claimed = self._claim(call, by=None, reason=EndReason.SLACK)
        return claimed and self._finish(claimed, tell_slack=False)

    def _claim(self, call: Call, *, by: str | None, reason: EndReason) -> Call | None:
        return self._ending.claim_ending(
            call.id,
            by=by,
            reason=reason,
            now=self._clock(),
            lease=self._lease,
            only_if_empty=reason == EndReason.EMPTY,
        )

    def _finish(self, claimed: Call, *, tell_slack: bool = True) -> Call:
        """With the lease held. The message goes before the record: a crash between them
        leaves an end the reconciler finishes, never an ended call that looks live."""
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
        self._message.show(claimed, ended_call_message(claimed))
        ended = self._ending.mark_ended(claimed)
        if ended is None:  # the lease was lost meanwhile: its new holder records the end
            return claimed
        log.info("call %s ended (%s)", ended.id, ended.end_reason)
        if ended.message_ts and not claimed.message_ts:  # posted while we were ending it
            self._message.show(ended, ended_call_message(ended))
        self._homes.refresh(ended)
        return ended
