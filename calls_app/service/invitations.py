"""Sending a call's invitations (terms: docs/glossary.md, "Invitation")."""

from __future__ import annotations

from datetime import timedelta

from calls_app.blocks.call_message import invitation_message
from calls_app.clock import Clock
from calls_app.errors import SlackFailure
from calls_app.models import Call
from calls_app.slack_gateway import SlackGateway
from calls_app.store.participants import ParticipantStore


class Invitations:
    def __init__(
        self,
        *,
        participants: ParticipantStore,
        slack: SlackGateway,
        clock: Clock,
        lease: timedelta,
    ) -> None:
        self._participants = participants
        self._slack = slack
        self._clock = clock
        self._lease = lease

    def send(self, call: Call) -> tuple[list[str], list[str]]:
        """DM each invitation not sent yet, recording each as it goes (a crash resends at
        most the one in flight); who was invited, and who not."""
        invited: list[str] = []
        not_invited: list[str] = []
        message = invitation_message(call)
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
