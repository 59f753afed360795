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
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, text

from calls_app import log_context, metrics
from calls_app.clock import Clock
from calls_app.errors import CallsError, SlackFailure
from calls_app.installations import purge_expired_oauth_states
from calls_app.models import Call, EndReason
from calls_app.rate_limits import BACKGROUND_SHARE, CHECKS_SHARE
from calls_app.service import CallService
from calls_app.store.calls import CallStore
from calls_app.store.ending import EndingStore
from calls_app.store.reconciliation import ReconcileStore
from calls_app.wiring import ServiceFactory, TokenUnreadable, WorkspaceClients

log = logging.getLogger(__name__)

# Calls per rule per pass: a backlog is worked off over several passes, and the drift check's
# calls.info stays within Slack's Tier 3 (about 50 a minute) at the default interval.
PASS_LIMIT = 40
# Slack refuses the workspace's token: nothing more can be done there, for any of its calls.
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "team_access_not_granted"}
)
# Calls over for longer than CALLS_HISTORY_DAYS deleted per pass: a backlog goes over passes.
RETENTION_BATCH = 500
# A call the reconciler failed on waits before the next try: 1 min, doubling up to an hour.
FIRST_BACKOFF = timedelta(minutes=1)
LONGEST_BACKOFF = timedelta(hours=1)
_ADVISORY_LOCK_KEY = 0x63616C6C  # "call"
_LOCK_ARGS = "CAST(:key AS integer), hashtext(current_schema())"


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
                # Advisory locks are per database: the schema in the key keeps apps in other
                # schemas of the same database from holding up each other's passes.
                key = {"key": _ADVISORY_LOCK_KEY}
                got = connection.scalar(text(f"SELECT pg_try_advisory_lock({_LOCK_ARGS})"), key)
                try:
                    yield bool(got)
                finally:
                    if got:
                        connection.scalar(text(f"SELECT pg_advisory_unlock({_LOCK_ARGS})"), key)
                    connection.commit()
        finally:
            self._local.release()


def backoff(failures: int) -> timedelta:
    """How long a call waits after the reconciler failed on it `failures` times in a row."""
    return min(FIRST_BACKOFF * 2 ** min(failures - 1, 16), LONGEST_BACKOFF)


@dataclass
class _Pass:
    """What a pass did, and what it leaves alone from now on."""

    done: Counter[str] = field(default_factory=Counter)
    skipped_teams: set[str] = field(default_factory=set)  # closed, or token unreadable
    failed_calls: set[int] = field(default_factory=set)  # backed off: no other rule retries them


@dataclass
class Reconciler:
    store: ReconcileStore
    calls: CallStore
    ending: EndingStore
    services: ServiceFactory
    clients: WorkspaceClients
    clock: Clock
    lock: PassLock
    max_call: timedelta
    empty_grace: timedelta
    oauth_states: Engine | None = None  # with OAuth installs: where their states are kept
    history: timedelta = timedelta(days=365)  # CALLS_HISTORY_DAYS: ended calls kept this long

    def run_once(self) -> Counter[str]:
        """One pass over every rule; returns what it did, by rule."""
        this_pass = _Pass()
        done = this_pass.done
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
                presence=self.services.meetings.reports_presence,
            )
            for call in found.stuck_starting:
                if self.calls.abandon_start(call.id, now=now):
                    done["abandoned starts"] += 1
            self._each(
                found.unposted, "posted messages", this_pass, CallService.post_pending_message
            )
            self._each(
                found.interrupted_ends,
                "finished ends",
                this_pass,
                lambda service, call: service.end_automatically(call, EndReason.PERSON),
            )
            self._each(
                found.overlong,
                "ended over the time limit",
                this_pass,
                lambda service, call: service.end_automatically(call, EndReason.MAX_DURATION),
            )
            overlong = {c.id for c in found.overlong}
            empty = [c for c in found.empty if c.id not in overlong]
            handled = overlong | {c.id for c in empty}
            self._each(
                empty,
                "ended when empty",
                this_pass,
                lambda service, call: service.end_automatically(call, EndReason.EMPTY),
            )
            # Calls this pass ended already are done with: no invitations, no stale redraw.
            handled |= {c.id for c in found.interrupted_ends}
            self._each(
                [c for c in found.uninvited if c.id not in handled],
                "sent invitations",
                this_pass,
                CallService.send_invitations,
            )
            self._each(
                [c for c in found.outdated_messages if c.id not in handled],
                "refreshed messages",
                this_pass,
                CallService.refresh_message,
            )
            self._each(
                [c for c in found.live if c.id not in handled],
                "repaired drift",
                this_pass,
                _repair_drift,
            )
            if purged := self.purge_expired_oauth_states():
                done["purged expired OAuth states"] += purged

            # Retention: calls over for longer than CALLS_HISTORY_DAYS go, with their
            # participants and invitations; live calls are never over, so never touched.
            deleted = self.store.delete_old_calls(
                ended_before=now - self.history, limit=RETENTION_BATCH
            )
            if deleted:
                done["deleted old calls"] += deleted
        metrics.count_reconciler_pass(done)
        return done

    def purge_expired_oauth_states(self) -> int:
        """Install attempts nobody finished leave their OAuth state behind; a batch a pass."""
        if self.oauth_states is None:
            return 0
        return purge_expired_oauth_states(self.oauth_states, now=self.clock())

    def _each(self, calls: list[Call], what: str, this_pass: _Pass, act) -> None:
        for call in log_context.each_call(calls):
            if call.team_id in this_pass.skipped_teams or call.id in this_pass.failed_calls:
                continue
            try:
                client = self.clients.for_team(
                    team_id=call.team_id, enterprise_id=call.enterprise_id
                )
            except TokenUnreadable:
                log.error("reconciler: workspace %s's token can't be read; skipped", call.team_id)
                this_pass.skipped_teams.add(call.team_id)
                continue
            if client is None:
                # No install left (its uninstall event never came): nothing to tell Slack.
                this_pass.done["closed: workspace gone"] += self._close_team(call, this_pass)
                continue
            try:
                # Drift checks are the reconciler's bulk: they get the smallest share of a tier.
                share = CHECKS_SHARE if act is _repair_drift else BACKGROUND_SHARE
                service = self.services.call_service(client, team_id=call.team_id, share=share)
                if act(service, call):
                    this_pass.done[what] += 1
            except SlackFailure as failure:
                if failure.retry_after is not None:
                    # Not the call's fault: people's actions come first; it waits its turn.
                    log.info("reconciler: call %s (%s) waits for Slack's rate limit", call.id, what)
                elif failure.error in TOKEN_REFUSED:
                    # Uninstalled in all but name: Slack can't be told, so close them here alone.
                    log.warning(
                        "reconciler: Slack refused workspace %s's token (%s); its calls are closed",
                        call.team_id,
                        failure.error,
                    )
                    this_pass.done["closed: token refused"] += self._close_team(call, this_pass)
                else:
                    self._back_off(call, what, failure, this_pass)
            except Exception as error:  # one call's fault, whatever it is, mustn't stop the rest
                self._back_off(call, what, error, this_pass)
            else:
                if call.reconcile_failures:
                    self.store.clear_backoff(call.id)

    def _close_team(self, call: Call, this_pass: _Pass) -> int:
        """Close the workspace's live calls in our records; the rest of the pass skips it."""
        this_pass.skipped_teams.add(call.team_id)
        return self.ending.close_live_calls(
            team_id=call.team_id, at=self.clock(), reason=EndReason.UNINSTALLED
        )

    def _back_off(self, call: Call, what: str, error: Exception, this_pass: _Pass) -> None:
        """Leave a call that failed alone for a while, longer after each failure in a row, so
        it doesn't take a pass's turn from calls that can be helped."""
        failures = call.reconcile_failures + 1
        wait = backoff(failures)
        if isinstance(error, CallsError):
            log.warning(
                "reconciler: call %s (%s): %s; failure %d, next try in %s",
                call.id,
                what,
                error,
                failures,
                wait,
            )
        else:
            log.exception("reconciler: call %s (%s) failed; next try in %s", call.id, what, wait)
        this_pass.failed_calls.add(call.id)
        self.store.back_off(call.id, failures=failures, until=self.clock() + wait)


def _repair_drift(service: CallService, call: Call) -> bool:
    """Follow Slack where it ended the call; make Slack's participants and title match ours."""
    info = service.slack_call_info(call)
    if info is None or info.ended:
        return service.record_ended_in_slack(call) is not None
    out_of_step = service.sync_participants(
        call, [person.slack_id for person in info.users if person.slack_id], info.external_ids
    )
    retitled = service.sync_title(call, info.title)
    return out_of_step or retitled


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
