"""What the reconciler does to a call by itself (terms: docs/glossary.md, "Reconciler")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from calls_app.clock import Clock
from calls_app.errors import SlackFailure
from calls_app.home import HomeService
from calls_app.models import Call, CallState, EndReason
from calls_app.outbox import Outbox
from calls_app.service.call_message import CallMessage
from calls_app.service.ending import Ender
from calls_app.service.invitations import Invitations
from calls_app.slack_gateway import CallUser, SlackCallInfo, SlackGateway
from calls_app.store.calls import CallStore
from calls_app.store.participants import ParticipantStore


class Repairs:
    """Each action takes one call and says whether it did anything."""

    def __init__(
        self,
        *,
        store: CallStore,
        participants: ParticipantStore,
        outbox: Outbox,
        slack: SlackGateway,
        clock: Clock,
        lease: timedelta,
        homes: HomeService,
        message: CallMessage,
        ender: Ender,
        invitations: Invitations,
    ) -> None:
        self._store = store
        self._participants = participants
        self._outbox = outbox
        self._slack = slack
        self._clock = clock
        self._lease = lease
        self._homes = homes
        self._message = message
        self._ender = ender
        self._invitations = invitations

    def post_pending_message(self, call: Call) -> bool:
        """Take over posting from a poster that died; False if another process is at it."""
        until = self._store.claim_posting(call.id, now=self._clock(), lease=self._lease)
        if until is None:
            return False
        call.lease_expires_at = until
        self._message.post(call)
        self._homes.refresh(call)
        return True

    def finish_end(self, call: Call) -> bool:
        """Take over an end its ender left (a person's, as the reason it keeps says)."""
        return self._ender.end_automatically(call, EndReason.PERSON) is not None

    def end_over_time_limit(self, call: Call) -> bool:
        return self._ender.end_automatically(call, EndReason.MAX_DURATION) is not None

    def end_when_empty(self, call: Call) -> bool:
        return self._ender.end_automatically(call, EndReason.EMPTY) is not None

    def send_invitations(self, call: Call) -> bool:
        """The invitations a crashed start never sent."""
        invited, _ = self._invitations.send(call)
        return bool(invited)

    def refresh_message(self, call: Call) -> bool:
        return self._message.refresh(call)

    def repair_drift(self, call: Call) -> bool:
        """Follow Slack where it ended the call; make Slack's participants and title match ours."""
        info = self._slack_call_info(call)
        if info is None or info.ended:
            return self._ender.follow_slack(call) is not None
        out_of_step = self._sync_participants(
            call, [person.slack_id for person in info.users if person.slack_id], info.external_ids
        )
        retitled = self._sync_title(call, info.title)
        return out_of_step or retitled

    def _slack_call_info(self, call: Call) -> SlackCallInfo | None:
        """What Slack says of the call; None if Slack doesn't know it."""
        assert call.slack_call_id is not None
        try:
            return self._slack.call_info(call.slack_call_id)
        except SlackFailure as failure:
            if failure.error == "invalid_call_id":
                return None
            raise

    def _sync_title(self, call: Call, in_slack: str) -> bool:
        """Slack shows another title than ours (a rename raced another): ours wins."""
        current = self._store.get(team_id=call.team_id, call_id=call.id)
        if current is None or current.state != CallState.ACTIVE or in_slack == current.title:
            return False
        assert current.slack_call_id is not None
        self._slack.rename_call(current.slack_call_id, current.title)
        return True

    def _sync_participants(
        self, call: Call, in_slack: Sequence[str], external_ids: Sequence[str]
    ) -> bool:
        """Slack's list of who is in the call replaces what we thought it lists; the outbox
        then brings it in step. True if it was out of step."""
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
