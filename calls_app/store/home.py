"""HomeStore: what a person's Home tab shows, and who has a Home to refresh when a call changes."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine, bindparam, func, or_, select

from calls_app.db import autocommitting, writing
from calls_app.models import Call
from calls_app.records import HomeCalls
from calls_app.store.dialect import upsert_into
from calls_app.store.statements import (
    LIVE_STATES,
    calls,
    calls_of,
    home_tabs,
    moment,
    participants,
    state_is,
)


class HomeStore:
    # How long this process trusts what it last saw of whether a workspace uses Home at all.
    TEAM_HOMES_TTL_SECONDS = 30.0

    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing_one = writing(engine, one_statement=True)
        self._teams_with_homes: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        opened = upsert_into(engine, home_tabs).values(
            team_id=bindparam("team"), user_id=bindparam("user"), opened_at=moment("at")
        )
        self._record_opened = opened.on_conflict_do_update(
            index_elements=["team_id", "user_id"], set_={"opened_at": opened.excluded.opened_at}
        )

    _STARTED_LIVE = (
        select(calls)
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.created_by == bindparam("user"),
            state_is(*LIVE_STATES),
        )
        .order_by(calls.c.started_at.desc())
        .limit(bindparam("limit"))
    )
    _JOINED_LIVE = (
        select(calls)
        .join(participants, participants.c.call_id == calls.c.id)
        .where(
            participants.c.slack_user_id == bindparam("user"),
            participants.c.left_at.is_(None),
            participants.c.call_ended_at.is_(None),
            calls.c.team_id == bindparam("team"),
            state_is(*LIVE_STATES),
        )
        .order_by(calls.c.started_at.desc())
        .limit(bindparam("limit"))
    )
    _RECENT = (
        select(calls)
        .join(participants, participants.c.call_id == calls.c.id)
        .where(
            participants.c.slack_user_id == bindparam("user"),
            participants.c.call_ended_at.is_not(None),
            calls.c.team_id == bindparam("team"),
        )
        .order_by(participants.c.call_ended_at.desc())
        .limit(bindparam("limit"))
    )
    _HEAD_COUNTS = (
        select(
            participants.c.call_id,
            func.count(),
            func.count().filter(participants.c.left_at.is_(None)),
        )
        .where(participants.c.call_id.in_(bindparam("calls", expanding=True)))
        .group_by(participants.c.call_id)
    )

    def calls_for(
        self, *, team_id: str, user_id: str, active_limit: int, recent_limit: int
    ) -> HomeCalls:
        person = {"team": team_id, "user": user_id}
        with self._reading() as db:
            started = calls_of(
                db.execute(self._STARTED_LIVE, {**person, "limit": active_limit + 1})
            )
            joined = calls_of(db.execute(self._JOINED_LIVE, {**person, "limit": active_limit + 1}))
            recent = calls_of(db.execute(self._RECENT, {**person, "limit": recent_limit}))
            active = sorted(
                {c.id: c for c in [*started, *joined]}.values(),
                key=lambda c: c.started_at,
                reverse=True,
            )
            shown = [*active[:active_limit], *recent]
            counts = db.execute(self._HEAD_COUNTS, {"calls": [c.id for c in shown]}).all()
        return HomeCalls(
            active=active[:active_limit],
            more_active=len(active) > active_limit,
            recent=recent,
            present={call_id: present for call_id, _, present in counts},
            took_part={call_id: total for call_id, total, _ in counts},
        )

    _LAST_CHANNEL = (
        select(calls.c.channel_id)
        .join(participants, participants.c.call_id == calls.c.id)
        .where(
            participants.c.slack_user_id == bindparam("user"),
            calls.c.team_id == bindparam("team"),
        )
        .order_by(participants.c.joined_at.desc())
        .limit(1)
    )

    def last_channel(self, *, team_id: str, user_id: str) -> str | None:
        """The channel of the last call the person was in: the start modal's default."""
        with self._reading() as db:
            return db.scalar(self._LAST_CHANNEL, {"team": team_id, "user": user_id})

    def record_opened(self, *, team_id: str, user_id: str, at: datetime) -> None:
        with self._writing_one() as db:
            db.execute(self._record_opened, {"team": team_id, "user": user_id, "at": at})
        self._remember_team(team_id, has_homes=True)

    _ANY_HOME = select(home_tabs.c.user_id).where(home_tabs.c.team_id == bindparam("team")).limit(1)

    def _team_has_homes(self, team_id: str) -> bool:
        """Whether anyone in the workspace ever opened Home; most changes need not look further."""
        # Another instance may learn of a first Home up to TEAM_HOMES_TTL_SECONDS late.
        with self._lock:
            known = self._teams_with_homes.get(team_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        with self._reading() as db:
            has_homes = db.scalar(self._ANY_HOME, {"team": team_id}) is not None
        self._remember_team(team_id, has_homes=has_homes)
        return has_homes

    def _remember_team(self, team_id: str, *, has_homes: bool) -> None:
        with self._lock:
            self._teams_with_homes[team_id] = (
                has_homes,
                time.monotonic() + self.TEAM_HOMES_TTL_SECONDS,
            )

    _WATCHERS = (
        select(home_tabs.c.user_id)
        .where(
            home_tabs.c.team_id == bindparam("team"),
            or_(
                home_tabs.c.user_id == bindparam("starter"),
                home_tabs.c.user_id.in_(
                    select(participants.c.slack_user_id).where(
                        participants.c.call_id == bindparam("call")
                    )
                ),
            ),
        )
        .order_by(home_tabs.c.user_id)
    )

    def watchers_of(self, call: Call) -> list[str]:
        """Who has opened a Home that shows this call (its starter, anyone who was in it)."""
        if not self._team_has_homes(call.team_id):
            return []
        with self._reading() as db:
            return list(
                db.scalars(
                    self._WATCHERS,
                    {"team": call.team_id, "starter": call.created_by, "call": call.id},
                )
            )
