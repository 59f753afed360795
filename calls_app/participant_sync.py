"""Bringing Slack's list of who is in a call in step with ours, many people per request.

A Join or Leave is recorded at once and acknowledged; Slack hears of it here, from the outbox,
with everyone who joined (or left) since the last sync in one `calls.participants.add` (or
`.remove`). Each participant row says whether Slack lists that person (`in_slack`): a Slack
user, or someone the video provider reported who isn't one (an external participant).
"""

from __future__ import annotations

import logging

from calls_app.errors import SlackFailure
from calls_app.models import CallState
from calls_app.records import Attendee
from calls_app.slack_gateway import CallUser, SlackGateway
from calls_app.store.calls import CallStore
from calls_app.store.participants import ParticipantStore

log = logging.getLogger(__name__)

# People per request: a few requests carry a thousand-person all-hands within Slack's tiers.
BATCH = 200


class ParticipantSync:
    def __init__(
        self, *, store: CallStore, participants: ParticipantStore, slack: SlackGateway
    ) -> None:
        self._store = store
        self._participants = participants
        self._slack = slack

    def run(self, *, team_id: str, call_id: int) -> bool:
        """One add and one remove at most; True if more people are still out of step."""
        call = self._store.get(team_id=team_id, call_id=call_id)
        if call is None or call.state != CallState.ACTIVE or call.slack_call_id is None:
            return False  # an ended call's list is closed; an ending one's ends with it
        joined, left = self._participants.out_of_step(call.id, limit=BATCH + 1)
        more = len(joined) + len(left) > BATCH
        joined, left = joined[:BATCH], left[: BATCH - min(len(joined), BATCH)]
        try:
            if joined:
                self._slack.add_participants(call.slack_call_id, [_user(p) for p in joined])
                self._participants.set_in_slack(call.id, joined, listed=True)
            if left:
                self._slack.remove_participants(call.slack_call_id, [_user(p) for p in left])
                self._participants.set_in_slack(call.id, left, listed=False)
        except SlackFailure as failure:
            if failure.error == "inactive_call":
                return False  # Slack ended it: the reconciler's drift check follows
            if failure.error != "bad_users":
                raise
            # Slack lists someone we thought it didn't (a crash between its answer and our
            # record): learn its list, then try again with what is really missing.
            info = self._slack.call_info(call.slack_call_id)
            listed = {person.slack_id for person in info.users if person.slack_id}
            self._participants.match_slack(call.id, sorted(listed), info.external_ids)
            listed |= set(info.external_ids)
            if joined and not listed.intersection(_key(p) for p in joined):
                # Not a list out of step: Slack won't take these people. Stop asking.
                log.warning("call %s: Slack refused to list %d people", call.id, len(joined))
                self._participants.set_in_slack(call.id, joined, listed=True)
            return True
        return more


def _key(person: Attendee) -> str | None:
    return person.slack_user_id or person.external_id


def _user(person: Attendee) -> CallUser:
    return CallUser(
        slack_id=person.slack_user_id,
        external_id=person.external_id,
        display_name=person.display_name,
        avatar_url=person.avatar_url,
    )
