"""The outbox: what Slack still has to be told, kept in the database until it has been.

A request records its change and marks an outbox item in the same moment, before Slack gets
its ack; whichever process claims the item later brings Slack in step
(calls_app/background.py). So a crash, a restart or a Slack outage delays that work but never
loses it.

An item stands for a thing ("participants of call 42", "Home of U1 in T1"), not for a change:
a change bumps its `generation`; a run tells Slack what the thing is *now* and records the
generation it saw (`done_generation`). A hundred Join presses become one
`calls.participants.add`. The row stays after a run, due no sooner than its kind's
`min_interval`: one Slack request per thing per interval at most, however changes trickle in.
Rows idle for an hour are deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Engine, Table, bindparam, delete, func, or_, select, update

from calls_app.db import autocommitting, writing
from calls_app.models import OutboxItem
from calls_app.store.dialect import upsert_into
from calls_app.store.statements import moment

outbox = cast(Table, OutboxItem.__table__)  # the ORM declares __table__ a mere FromClause
IDLE_KEPT = timedelta(hours=1)


class Kind(StrEnum):
    PARTICIPANTS = "participants"  # calls.participants.add / .remove for one call
    HOMES_OF_CALL = "homes_of_call"  # a HOME item for everyone whose Home shows one call
    HOME = "home"  # views.publish of one person's Home
    END = "end"  # the provider's meeting ended: calls.end, the message, Homes


@dataclass(frozen=True)
class Item:
    id: int
    kind: Kind
    team_id: str
    enterprise_id: str | None
    call_id: int | None
    user_id: str | None
    generation: int
    attempts: int


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """The outbox table. `wake` is set whenever this process adds an item, so its runner
    doesn't wait for its next poll."""

    def __init__(
        self,
        engine: Engine,
        *,
        min_interval: Mapping[Kind, timedelta],
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._min_interval = min_interval
        self._now = now
        self._reading = autocommitting(engine).connect
        self._writing_one = writing(engine, one_statement=True)
        self.wake = threading.Event()
        added = upsert_into(engine, outbox).values(
            kind=bindparam("kind"),
            key=bindparam("key"),
            team_id=bindparam("team"),
            enterprise_id=bindparam("enterprise"),
            call_id=bindparam("call"),
            user_id=bindparam("user"),
            due_at=moment("now"),
        )
        self._add = added.on_conflict_do_update(
            index_elements=["key"], set_={"generation": outbox.c.generation + 1}
        )
        self._postgresql = engine.dialect.name == "postgresql"

    def add_participants_change(
        self, *, team_id: str, enterprise_id: str | None, call_id: int
    ) -> None:
        """Who is in the call changed: Slack's list of it, and the Homes that show it."""
        self._add_call_items(team_id, enterprise_id, call_id, Kind.PARTICIPANTS, Kind.HOMES_OF_CALL)

    def add_homes_of_call_change(
        self, *, team_id: str, enterprise_id: str | None, call_id: int
    ) -> None:
        self._add_call_items(team_id, enterprise_id, call_id, Kind.HOMES_OF_CALL)

    def add_meeting_ended(self, *, team_id: str, enterprise_id: str | None, call_id: int) -> None:
        self._add_call_items(team_id, enterprise_id, call_id, Kind.END)

    def _add_call_items(
        self, team_id: str, enterprise_id: str | None, call_id: int, *kinds: Kind
    ) -> None:
        self._upsert(
            [
                _row(kind, f"{kind}:{call_id}", team_id, enterprise_id) | {"call": call_id}
                for kind in kinds
            ]
        )

    def add_home_changes(
        self, *, team_id: str, enterprise_id: str | None, user_ids: Iterable[str]
    ) -> None:
        rows = [
            _row(Kind.HOME, f"home:{team_id}:{user}", team_id, enterprise_id) | {"user": user}
            for user in sorted(set(user_ids))
        ]
        if rows:
            self._upsert(rows)

    def _upsert(self, rows: list[dict[str, object]]) -> None:
        now = self._now()
        with self._writing_one() as db:
            db.execute(self._add, [row | {"now": now} for row in rows])
        self.wake.set()

    _CLAIMABLE = (
        outbox.c.generation > outbox.c.done_generation,
        outbox.c.due_at <= moment("now"),
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < moment("now")),
    )

    def claim(self, limit: int, *, lease: timedelta) -> list[Item]:
        """Up to `limit` due items, each held for `lease` by this caller alone (a process
        that dies holding one loses it when the lease runs out)."""
        due = (
            select(outbox.c.id)
            .where(*self._CLAIMABLE)
            .order_by(outbox.c.due_at, outbox.c.id)
            .limit(limit)
        )
        if self._postgresql:
            due = due.with_for_update(skip_locked=True)  # instances claim different items
        claim = (
            update(outbox)
            .where(outbox.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=moment("until"), attempts=outbox.c.attempts + 1)
            .returning(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.team_id,
                outbox.c.enterprise_id,
                outbox.c.call_id,
                outbox.c.user_id,
                outbox.c.generation,
                outbox.c.attempts,
            )
        )
        now = self._now()
        with self._writing_one() as db:
            rows = db.execute(claim, {"now": now, "until": now + lease}).all()
        return [Item(**{**row._mapping, "kind": Kind(row.kind)}) for row in rows]

    _DONE = (
        update(outbox)
        .where(outbox.c.id == bindparam("item"))
        .values(
            done_generation=bindparam("seen"), claimed_until=None, due_at=moment("due"), attempts=0
        )
    )
    _AGAIN = (
        update(outbox)
        .where(outbox.c.id == bindparam("item"))
        .values(claimed_until=None, due_at=moment("due"))
    )

    def finish(self, item: Item) -> None:
        """Slack now shows the thing as it was when claimed; a change since runs it again,
        once its kind's interval has passed."""
        due = self._now() + self._min_interval.get(item.kind, timedelta(0))
        with self._writing_one() as db:
            db.execute(self._DONE, {"item": item.id, "seen": item.generation, "due": due})
        self.wake.set()

    def retry(self, item: Item, *, after: timedelta) -> None:
        """Not done: run it again after `after` (a rate limit, Slack unreachable)."""
        with self._writing_one() as db:
            db.execute(self._AGAIN, {"item": item.id, "due": self._now() + after})
        self.wake.set()

    _PENDING = (
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.generation > outbox.c.done_generation)
    )

    def pending(self) -> int:
        """Things Slack hasn't been told of yet, due or not."""
        with self._reading() as db:
            return int(db.scalar(self._PENDING) or 0)

    _IDLE = select(outbox.c.id).where(
        outbox.c.generation == outbox.c.done_generation, outbox.c.due_at < moment("before")
    )

    def forget_idle(self, *, idle_for: timedelta = IDLE_KEPT, batch: int = 500) -> int:
        """Delete rows with nothing to tell Slack for `idle_for`; a batch at a time."""
        forget = (
            delete(outbox)
            .where(
                outbox.c.id.in_(self._IDLE.limit(batch).scalar_subquery()),
                outbox.c.generation == outbox.c.done_generation,  # not bumped meanwhile
            )
            .returning(outbox.c.id)
        )
        with self._writing_one() as db:
            return len(db.execute(forget, {"before": self._now() - idle_for}).all())


def _row(kind: Kind, key: str, team_id: str, enterprise_id: str | None) -> dict[str, object]:
    return {
        "kind": kind.value,
        "key": key,
        "team": team_id,
        "enterprise": enterprise_id,
        "call": None,
        "user": None,
    }
