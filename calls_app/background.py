"""The outbox runner: each process claims due outbox items and does them on a few threads.

Any process sharing the database may take any item, one process per item (calls_app/outbox.py
claims them). A rate limit or an unreachable Slack puts the item back with a time to retry,
so waiting never holds a thread; other workspaces' and methods' items go on meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from slack_sdk import WebClient

from calls_app import log_context
from calls_app.errors import SlackFailure
from calls_app.models import CallState, EndReason
from calls_app.outbox import Item, Kind, Outbox
from calls_app.rate_limits import BACKGROUND_SHARE
from calls_app.wiring import ServiceFactory, TokenUnreadable, WorkspaceClients

log = logging.getLogger(__name__)

# A claim outlives any one item's work (a request and its retries); a dead process's items
# go to another once it runs out.
CLAIM_LEASE = timedelta(seconds=30)
POLL_SECONDS = 0.25
TIDY_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 300


class OutboxRunner:
    def __init__(self, outbox: Outbox, work: Callable[[Item], bool], *, threads: int) -> None:
        self._outbox = outbox
        self._work = work
        self._threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._busy = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._claim_loop, name="outbox", daemon=True)

    def start(self) -> OutboxRunner:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self._outbox.wake.set()
        self._thread.join(timeout)
        self._executor.shutdown(wait=True)

    def _claim_loop(self) -> None:
        next_tidy = time.monotonic() + TIDY_SECONDS
        while not self._stopped.is_set():
            self._outbox.wake.wait(POLL_SECONDS)
            self._outbox.wake.clear()
            if time.monotonic() >= next_tidy:
                next_tidy = time.monotonic() + TIDY_SECONDS
                self._tidy()
            with self._lock:
                free = self._threads - self._busy
            if free <= 0 or self._stopped.is_set():
                continue
            try:
                items = self._outbox.claim(free, lease=CLAIM_LEASE)
            except Exception:
                log.exception("outbox: claiming failed")
                self._stopped.wait(1.0)
                continue
            for item in items:
                with self._lock:
                    self._busy += 1
                self._executor.submit(self._run, item)

    def _tidy(self) -> None:
        try:
            self._outbox.forget_idle()
        except Exception:
            log.exception("outbox: forgetting idle items failed")

    def _run(self, item: Item) -> None:
        try:
            with log_context.about(workspace=item.team_id, call=item.call_id):
                self._settle(item)
        except Exception:
            log.exception("outbox: item %s (%s) could not be settled", item.id, item.kind)
        finally:
            with self._lock:
                self._busy -= 1
            self._outbox.wake.set()

    def _settle(self, item: Item) -> None:
        try:
            more = self._work(item)
        except SlackFailure as failure:
            if failure.retry_after is not None:
                self._outbox.retry(item, after=timedelta(seconds=failure.retry_after))
            elif failure.transient:
                self._outbox.retry(item, after=_backoff(item.attempts))
            else:  # Slack refuses it: trying again would get the same answer
                log.warning("outbox: %s for %s dropped: %s", item.kind, item.team_id, failure.error)
                self._outbox.finish(item)
            return
        except Exception:
            log.exception("outbox: %s item %s failed", item.kind, item.id)
            self._outbox.retry(item, after=_backoff(item.attempts))
            return
        if more:
            self._outbox.retry(item, after=timedelta(0))
        else:
            self._outbox.finish(item)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts, 1), MAX_BACKOFF_SECONDS))


class OutboxWork:
    """What each kind of item does, with the Slack client of the item's workspace."""

    def __init__(self, *, services: ServiceFactory, clients: WorkspaceClients) -> None:
        self._services = services
        self._clients = clients

    def __call__(self, item: Item) -> bool:
        try:
            client = self._clients.for_team(team_id=item.team_id, enterprise_id=item.enterprise_id)
        except TokenUnreadable:
            log.error("outbox: workspace %s's token can't be read; item dropped", item.team_id)
            return False
        if client is None:
            return False  # uninstalled: nothing to tell Slack
        homes = self._services.background_homes(client, team_id=item.team_id)
        if item.kind == Kind.HOME:
            assert item.user_id is not None
            homes.publish(team_id=item.team_id, user_id=item.user_id)
            return False
        assert item.call_id is not None
        if item.kind == Kind.PARTICIPANTS:
            sync = self._services.participant_sync(client, team_id=item.team_id)
            return sync.run(team_id=item.team_id, call_id=item.call_id)
        if item.kind == Kind.END:
            return self._end_call(client, item.team_id, item.call_id)
        call = self._services.store.get(team_id=item.team_id, call_id=item.call_id)
        if call is not None:
            homes.fan_out(call)
        return False

    def _end_call(self, client: WebClient, team_id: str, call_id: int) -> bool:
        """The provider said the meeting ended: end the call (once, however often it says so)."""
        ender = self._services.ender(client, team_id=team_id, share=BACKGROUND_SHARE)
        call = self._services.store.get(team_id=team_id, call_id=call_id)
        if call is not None and call.state in (CallState.ACTIVE, CallState.ENDING):
            ender.end_automatically(call, EndReason.PROVIDER)
        return False
