"""Each request from Slack acts once: a delivery seen before is recognised and not acted on.

Slack retries an event it got no answer for in time (the same event_id, a new signature), and
a network may send a request twice (the same bytes, so the same signature). A key is kept for
15 minutes: Slack's retries come within about 5, and a request signed over 5 minutes ago is
refused anyway. Any number of processes may share the table: the insert decides.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, bindparam, delete, select

from calls_app.clock import Clock, utc_now
from calls_app.db import UtcDateTime, writing
from calls_app.models import SlackDelivery
from calls_app.store.dialect import upsert_into

KEEP_FOR = timedelta(minutes=15)
PURGE_EVERY = timedelta(minutes=1)
PURGE_BATCH = 1000  # a purge is one short statement, however long the app was down

deliveries = cast(Table, SlackDelivery.__table__)  # the ORM declares __table__ a mere FromClause


class Deliveries:
    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self._writing = writing(engine, one_statement=True)
        self._record = (
            upsert_into(engine, deliveries)
            .values(key=bindparam("key"), seen_at=bindparam("at", type_=UtcDateTime()))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(deliveries.c.key)  # a row only when it was inserted
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._next_purge = clock() + PURGE_EVERY

    def first(self, key: str) -> bool:
        """Record a delivery: True the first time `key` is seen, False for a repeat."""
        now = self._clock()
        self._purge_if_due(now)
        with self._writing() as connection:
            return connection.execute(self._record, {"key": key, "at": now}).first() is not None

    _PURGE = delete(deliveries).where(
        deliveries.c.key.in_(
            select(deliveries.c.key)
            .where(deliveries.c.seen_at < bindparam("before", type_=UtcDateTime()))
            .limit(PURGE_BATCH)
        )
    )

    def _purge_if_due(self, now: datetime) -> None:
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY
        with self._writing() as connection:
            connection.execute(self._PURGE, {"before": now - KEEP_FOR})
