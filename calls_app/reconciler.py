"""The reconciler: the app acting by itself to keep Slack and the database in step.

Safe to run in every instance at once: every action first claims its call with a conditional
update (the same leases requests use), and on PostgreSQL an advisory lock lets one instance
make a pass at a time. On SQLite, one process serves, so it simply runs there.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
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
from calls_app.records import ReconcileCandidates
from calls_app.service.repairs import Repairs
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


@dataclass(frozen=True)
class Rule:
    """One step of a pass: which candidates it takes, what it does to each (True if it did
    something), and the label it is counted under ("reconciler actions by rule")."""

    name: str
    candidates: Callable[[ReconcileCandidates], list[Call]]
    act: Callable[[Repairs, Call], bool]
    ends_calls: bool = False  # its candidates are done with: later rules leave them alone
    share: float = BACKGROUND_SHARE  # of each Slack rate tier (rate_limits.py)


# In order. Starts abandoned, OAuth states and old calls need no Slack: run_once does them.
RULES = (
    Rule("posted messages", lambda found: found.unposted, Repairs.post_pending_message),
    Rule(
        "finished ends",
        lambda found: found.interrupted_ends,
        Repairs.finish_end,
        ends_calls=True,
    ),
    Rule(
        "ended over the time limit",
        lambda found: found.overlong,
        Repairs.end_over_time_limit,
        ends_calls=True,
    ),
    Rule("ended when empty", lambda found: found.empty, Repairs.end_when_empty, ends_calls=True),
    Rule("sent invitations", lambda found: found.uninvited, Repairs.send_invitations),
    Rule("refreshed messages", lambda found: found.outdated_messages, Repairs.refresh_message),
    # Drift checks are the reconciler's bulk: they get the smallest share of a tier.
    Rule("repaired drift", lambda found: found.live, Repairs.repair_drift, share=CHECKS_SHARE),
)


def backoff(failures: int) -> timedelta:
    """How long a call waits after the reconciler failed on it `failures` times in a row."""
    return min(FIRST_BACKOFF * (1 << min(failures - 1, 16)), LONGEST_BACKOFF)


@dataclass
class _Pass:
    """What a pass did, and what it leaves alone from now on."""

    done: Counter[str] = field(default_factory=Counter)
    skipped_teams: set[str] = field(default_factory=set)  # closed, or token unreadable
    failed_calls: set[int] = field(default_factory=set)  # backed off: no other rule retries them
    done_with: set[int] = field(default_factory=set)  # a rule that ends calls took them


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
            for rule in RULES:
                self._apply(rule, rule.candidates(found), this_pass)
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

    def _apply(self, rule: Rule, calls: list[Call], this_pass: _Pass) -> None:
        """The rule on each of its candidates that no earlier step is done with or failed on."""
        calls = [call for call in calls if call.id not in this_pass.done_with]
        if rule.ends_calls:
            this_pass.done_with.update(call.id for call in calls)
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
                repairs = self.services.repairs(client, team_id=call.team_id, share=rule.share)
                if rule.act(repairs, call):
                    this_pass.done[rule.name] += 1
            except SlackFailure as failure:
                if failure.retry_after is not None:
                    # Not the call's fault: people's actions come first; it waits its turn.
                    log.info(
                        "reconciler: call %s (%s) waits for Slack's rate limit", call.id, rule.name
                    )
                elif failure.error in TOKEN_REFUSED:
                    # Uninstalled in all but name: Slack can't be told, so close them here alone.
                    log.warning(
                        "reconciler: Slack refused workspace %s's token (%s); its calls are closed",
                        call.team_id,
                        failure.error,
                    )
                    this_pass.done["closed: token refused"] += self._close_team(call, this_pass)
                else:
                    self._back_off(call, rule.name, failure, this_pass)
            except Exception as error:  # one call's fault, whatever it is, mustn't stop the rest
                self._back_off(call, rule.name, error, this_pass)
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
