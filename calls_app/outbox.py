"""The outbox: what Slack still has to be told, kept in the database until it has been.

A request records its change and an outbox item in the database before Slack gets its ack;
whichever process claims the item later brings Slack in step (calls_app/background.py). So a
crash, a restart or a Slack outage delays that work but never loses it.

Items are keyed by what changed ("participants of call 42", "Home of U1 in T1"), not by each
change: a change while an item waits only bumps its `generation`, so a hundred Join presses
become one `calls.participants.add`. An item finished while it was bumped runs again, no sooner
than its kind's `min_interval`: at most one Slack request per thing per interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, bindparam, delete, func, or_, select, update

from calls_app.db import UtcDateTime, autocommitting, writing
from calls_app.models import OutboxItem
from calls_app.store import upsert_into

outbox = OutboxItem.__table__


class Kind(StrEnum):
    PARTICIPANTS = "participants"  # calls.participants.add / .remove for one call
    HOME = "home"  # views.publish of one person's Home


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


def _at(name: str) -> bindparam:
    return bindparam(name, type_=UtcDateTime())


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
            due_at=_at("now"),
        )
        self._add = added.on_conflict_do_update(
            index_elements=["key"], set_={"generation": outbox.c.generation + 1}
        )
        self._postgresql = engine.dialect.name == "postgresql"

    def add_participants_change(
        self, *, team_id: str, enterprise_id: str | None, call_id: int
    ) -> None:
        self._upsert(
            [
                _row(Kind.PARTICIPANTS, f"participants:{call_id}", team_id, enterprise_id)
                | {"call": call_id}
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

    def _upsert(self, rows: list[dict]) -> None:
        now = self._now()
        with self._writing_one() as db:
            db.execute(self._add, [row | {"now": now} for row in rows])
        self.wake.set()

    _CLAIMABLE = (
        outbox.c.due_at <= _at("now"),
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < _at("now")),
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
            .values(claimed_until=_at("until"), attempts=outbox.c.attempts + 1)
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

    _DONE = delete(outbox).where(
        outbox.c.id == bindparam("item"), outbox.c.generation == bindparam("claimed")
    )
    _AGAIN = (
        update(outbox)
        .where(outbox.c.id == bindparam("item"))
        .values(claimed_until=None, due_at=_at("due"), attempts=bindparam("tries"))
    )

    def finish(self, item: Item) -> None:
        """Done with what the item stood for when claimed; if it changed since, run it again
        once its kind's interval has passed."""
        with self._writing_one() as db:
            if db.execute(self._DONE, {"item": item.id, "claimed": item.generation}).rowcount:
                return
        self._release(item, after=self._min_interval[item.kind], attempts=0)

    def retry(self, item: Item, *, after: timedelta) -> None:
        """Not done: run it again after `after` (a rate limit, Slack unreachable)."""
        self._release(item, after=after, attempts=item.attempts)

    def _release(self, item: Item, *, after: timedelta, attempts: int) -> None:
        with self._writing_one() as db:
            db.execute(
                self._AGAIN, {"item": item.id, "due": self._now() + after, "tries": attempts}
            )
        self.wake.set()

    _PENDING = select(func.count()).select_from(outbox)

    def pending(self) -> int:
        """Items not finished, due or not."""
        with self._reading() as db:
            return int(db.scalar(self._PENDING) or 0)


def _row(kind: Kind, key: str, team_id: str, enterprise_id: str | None) -> dict:
    return {
        "kind": kind.value,
        "key": key,
        "team": team_id,
        "enterprise": enterprise_id,
        "call": None,
        "user": None,
    }
