"""Who is in a call, from the meeting itself: a provider's joins, leaves and ends, recorded.

Runs on the webhook's request thread and touches only the database (and, for a person with
an email, one bounded users.lookupByEmail, cached), so the provider gets its answer in time.
Slack hears of the change from the outbox, as for a Join press: calls.participants.add /
.remove, Homes, and calls.end when the meeting ended.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from calls_app.models import Call
from calls_app.outbox import Outbox
from calls_app.providers import MeetingEnded, Person, PersonJoined, PresenceEvent
from calls_app.records import Attendee
from calls_app.store.presence import PresenceStore
from calls_app.wiring import ServiceFactory, TokenUnreadable, WorkspaceClients

log = logging.getLogger(__name__)

EMAIL_CACHE_SECONDS = 600.0
REMEMBERED = 1000  # emails cached, and unknown meetings already logged


class PresenceRecorder:
    def __init__(
        self,
        *,
        store: PresenceStore,
        outbox: Outbox,
        services: ServiceFactory,
        clients: WorkspaceClients,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._services = services
        self._clients = clients
        self._lock = threading.Lock()
        self._emails: OrderedDict[tuple[str, str], tuple[str | None, float]] = OrderedDict()
        self._unknown: OrderedDict[str, None] = OrderedDict()

    def record(self, events: Iterable[PresenceEvent]) -> None:
        """Apply each event to the call of its meeting; events of a meeting we don't know,
        or of a call already over, change nothing."""
        for event in events:
            call = self._store.live_call_for_meeting(event.meeting_id)
            if call is None:
                self._log_unknown(event.meeting_id)
                continue
            if isinstance(event, MeetingEnded):
                self._outbox.add_meeting_ended(
                    team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
                )
                continue
            who = self._attendee(call, event.person)
            if who is None:
                continue
            if isinstance(event, PersonJoined):
                changed = self._store.record_join(call.id, who, at=event.at, part=event.part)
            else:
                changed = self._store.record_leave(call.id, who, at=event.at, part=event.part)
            if changed:  # Slack's list of the call, and the Homes showing it (see outbox.py)
                self._outbox.add_participants_change(
                    team_id=call.team_id, enterprise_id=call.enterprise_id, call_id=call.id
                )

    def _attendee(self, call: Call, person: Person) -> Attendee | None:
        """The Slack user with the person's email, else an external participant whose id is
        the same for this person on every event of this call. None if the workspace is gone."""
        slack_user = None
        if person.email:
            try:
                slack_user = self._slack_user(call, person.email)
            except TokenUnreadable:
                log.error("call %s: the workspace's token can't be read", call.id)
                return None
        if slack_user is not None:
            return Attendee(slack_user_id=slack_user, display_name=person.display_name)
        digest = hashlib.sha256(f"{call.id}:{person.key}".encode()).hexdigest()[:32]
        return Attendee(
            external_id="guest-" + digest,
            display_name=person.display_name,
            avatar_url=person.avatar_url,
        )

    def _slack_user(self, call: Call, email: str) -> str | None:
        key = (call.team_id, email.strip().lower())
        with self._lock:
            cached = self._emails.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        client = self._clients.for_team(team_id=call.team_id, enterprise_id=call.enterprise_id)
        if client is None:
            return None  # uninstalled: nobody to look up
        # A failure other than "no such user" stops here: the provider retries the delivery.
        user = self._services.checks(client, team_id=call.team_id).user_by_email(key[1])
        with self._lock:
            self._emails[key] = (user, time.monotonic() + EMAIL_CACHE_SECONDS)
            self._emails.move_to_end(key)
            while len(self._emails) > REMEMBERED:
                self._emails.popitem(last=False)
        return user

    def _log_unknown(self, meeting_id: str) -> None:
        with self._lock:
            if meeting_id in self._unknown:
                return
            self._unknown[meeting_id] = None
            while len(self._unknown) > REMEMBERED:
                self._unknown.popitem(last=False)
        log.info("presence for a meeting with no live call (%s) ignored", meeting_id)
