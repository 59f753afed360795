"""The reconciler: the app acting by itself to keep Slack and the database in step.

Safe to run in every instance at once: every action first claims its call with a conditional
update (the same leases requests use), and on PostgreSQL an advisory lock lets one instance
make a pass at a time. On SQLite, one process serves, so it simply runs there.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, text

from calls_app.clock import Clock
from calls_app.errors import CallsError
from calls_app.installations import purge_expired_oauth_states
from calls_app.models import Call, EndReason
from calls_app.service import CallService
from calls_app.store import CallStore
from calls_app.wiring import ServiceFactory, TokenUnreadable, WorkspaceClients

log = logging.getLogger(__name__)

# Calls per rule per pass: a backlog is worked off over several passes, and the drift check's
# calls.info stays within Slack's Tier 3 (about 50 a minute) at the default interval.
PASS_LIMIT = 40
_ADVISORY_LOCK_KEY = 0x63616C6C  # "call"


class PassLock:
    """One reconciler pass at a time across every instance sharing the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[bool]:
        if not self._local.acquire(blocking=False):
            yield False
            return
        try:
            if self._engine.dialect.name != "postgresql":
                yield True
                return
            with self._engine.connect() as connection:
                key = {"key": _ADVISORY_LOCK_KEY}
                got = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key)
                try:
                    yield bool(got)
                finally:
                    if got:
                        connection.scalar(text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()
        finally:
            self._local.release()


@dataclass
class Reconciler:
    store: CallStore
    services: ServiceFactory
    clients: WorkspaceClients
    clock: Clock
    lock: PassLock
    max_call: timedelta
    empty_grace: timedelta
    oauth_states: Engine | None = None  # with OAuth installs: where their states are kept

    def run_once(self) -> Counter[str]:
        """One pass over every rule; returns what it did, by rule."""
        done: Counter[str] = Counter()
        with self.lock.held() as mine:
            if not mine:
                done["skipped: another instance is reconciling"] += 1
                return done
            now = self.clock()
            found = self.store.reconcile_candidates(
                now=now,
                max_age=self.max_call,
                empty_grace=self.empty_grace,
                invite_grace=self.services.lease,  # a starter still inviting holds its lease
                limit=PASS_LIMIT,
            )
            for call in found.stuck_starting:
                if self.store.abandon_start(call.id, now=now):
                    done["abandoned starts"] += 1
            self._each(found.unposted, "posted messages", done, CallService.post_pending_message)
            self._each(
                found.interrupted_ends,
                "finished ends",
                done,
                lambda service, call: service.end_automatically(call, EndReason.PERSON),
            )
            self._each(
                found.overlong,
                "ended over the time limit",
                done,
                lambda service, call: service.end_automatically(call, EndReason.MAX_DURATION),
            )
            overlong = {c.id for c in found.overlong}
            empty = [c for c in found.empty if c.id not in overlong]
            handled = overlong | {c.id for c in empty}
            self._each(
                empty,
                "ended when empty",
                done,
                lambda service, call: service.end_automatically(call, EndReason.EMPTY),
            )
            # Calls this pass ended already are done with: no invitations, no stale redraw.
            handled |= {c.id for c in found.interrupted_ends}
            self._each(
                [c for c in found.uninvited if c.id not in handled],
                "sent invitations",
                done,
                CallService.send_invitations,
            )
            self._each(
                [c for c in found.outdated_messages if c.id not in handled],
                "refreshed messages",
                done,
                CallService.refresh_message,
            )
            self._each(
                [c for c in found.live if c.id not in handled],
                "repaired drift",
                done,
                _repair_drift,
            )
            if purged := self.purge_expired_oauth_states():
                done["purged expired OAuth states"] += purged
        return done

    def purge_expired_oauth_states(self) -> int:
        """Install attempts nobody finished leave their OAuth state behind; a batch a pass."""
        if self.oauth_states is None:
            return 0
        return purge_expired_oauth_states(self.oauth_states, now=self.clock())

    def _each(self, calls: list[Call], what: str, done: Counter[str], act) -> None:
        for call in calls:
            try:
                client = self.clients.for_team(
                    team_id=call.team_id, enterprise_id=call.enterprise_id
                )
            except TokenUnreadable:
                log.error("reconciler: workspace %s's token can't be read; skipped", call.team_id)
                continue
            if client is None:
                # No install left (its uninstall event never came): nothing to tell Slack.
                done["closed: workspace gone"] += self.store.close_live_calls(
                    team_id=call.team_id, at=self.clock(), reason=EndReason.UNINSTALLED
                )
                continue
            try:
                if act(self.services.call_service(client), call):
                    done[what] += 1
            except CallsError as error:
                log.warning("reconciler: call %s (%s): %s", call.id, what, error)


def _repair_drift(service: CallService, call: Call) -> bool:
    """Follow Slack where it ended the call; make Slack's participants and title match ours."""
    info = service.slack_call_info(call)
    if info is None or info.ended:
        return service.record_ended_in_slack(call) is not None
    added, removed = service.sync_participants(
        call, [person.slack_id for person in info.users if person.slack_id]
    )
    retitled = service.sync_title(call, info.title)
    return bool(added or removed or retitled)


class ReconcilerThread(threading.Thread):
    """Runs a pass every `interval` until stopped; a failed pass is logged, never fatal."""

    def __init__(self, reconciler: Reconciler, interval: float) -> None:
        super().__init__(name="reconciler", daemon=True)
        self._reconciler = reconciler
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                done = self._reconciler.run_once()
            except Exception:
                log.exception("reconciler pass failed")
                continue
            if done:
                log.info("reconciler: %s", dict(done))

    def stop(self) -> None:
        self._stopped.set()
