"""PresenceStore: presence the video provider reports, as participant rows. Joins and leaves
that come twice, late and out of order change the rows once, in the order they happened.

The rules, per person and call:
- a join while present changes nothing (a move between a meeting's rooms only notes the room);
- a join no later than the person's last leave is an old one, and ignored;
- a leave from a room they already moved out of, or older than their last join, is ignored;
- a leave of someone never seen joining is kept as a visit already over, so the join that
  arrives after it (older) is ignored too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, Update, bindparam, insert, select, update

from calls_app.db import autocommitting, writing
from calls_app.models import MEETING_LIVE_STATES, Call, CallState
from calls_app.records import Attendee
from calls_app.store.statements import call_of, calls, participants, state_is


class PresenceStore:
    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing = writing(engine)

    _LIVE_CALL = (
        select(calls)
        .where(calls.c.meeting_id == bindparam("meeting"), calls.c.state == CallState.ACTIVE)
        .order_by(calls.c.started_at.desc(), calls.c.id.desc())
        .limit(1)
    )

    def live_call_for_meeting(self, meeting_id: str) -> Call | None:
        """The active call of this meeting (the newest, if several workspaces use it)."""
        with self._reading() as db:
            row = db.execute(self._LIVE_CALL, {"meeting": meeting_id}).first()
        return None if row is None else call_of(row)

    # At most one: the database refuses a second (calls_app/models.py).
    _MEETING_CALL = select(calls).where(
        calls.c.team_id == bindparam("team"),
        calls.c.meeting_id == bindparam("meeting"),
        state_is(*MEETING_LIVE_STATES),
    )

    def meeting_call(self, meeting_id: str, *, team_id: str) -> Call | None:
        """The workspace's call of this meeting that is starting, active or being ended."""
        with self._reading() as db:
            row = db.execute(self._MEETING_CALL, {"meeting": meeting_id, "team": team_id}).first()
        return None if row is None else call_of(row)

    # Held until the change commits: an end can't begin in between, and two deliveries for
    # one call take turns.
    _LOCK_CALL = select(calls.c.state).where(calls.c.id == bindparam("call")).with_for_update()

    def record_join(self, call_id: int, who: Attendee, *, at: datetime, part: str) -> bool:
        """True if the person is now in the call and wasn't before."""
        with self._writing() as db:
            if db.scalar(self._LOCK_CALL, {"call": call_id}) != CallState.ACTIVE:
                return False
            row = db.execute(_row_of(call_id, who)).first()
            if row is None:
                db.execute(insert(participants), _new_row(call_id, who, at=at, part=part))
                return True
            if row.left_at is None:
                if (row.meeting_part or "") != part and at >= row.joined_at:
                    # Moved to another room of the meeting: still in the call.
                    db.execute(_update(row.id, meeting_part=part, joined_at=at))
                return False
            moved = at == row.left_at and (row.meeting_part or "") != part
            if at > row.left_at or moved:
                db.execute(
                    _update(
                        row.id,
                        left_at=None,
                        joined_at=at,
                        meeting_part=part,
                        display_name=who.display_name or row.display_name,
                        avatar_url=who.avatar_url or row.avatar_url,
                    )
                )
                return True
            return False  # a join older than their last leave

    def record_leave(self, call_id: int, who: Attendee, *, at: datetime, part: str) -> bool:
        """True if the person was in the call and now is not."""
        with self._writing() as db:
            if db.scalar(self._LOCK_CALL, {"call": call_id}) != CallState.ACTIVE:
                return False
            row = db.execute(_row_of(call_id, who)).first()
            if row is None:
                # Its join is late or lost: keep the visit, over, so that join changes nothing.
                visit = _new_row(call_id, who, at=at, part=part)
                db.execute(insert(participants), visit | {"left_at": at})
                return False
            if row.left_at is not None or (row.meeting_part or "") != part or at < row.joined_at:
                return False
            db.execute(_update(row.id, left_at=at))
            return True


def _row_of(call_id: int, who: Attendee) -> Select[Any]:
    identity = (
        participants.c.slack_user_id == who.slack_user_id
        if who.slack_user_id is not None
        else participants.c.external_id == who.external_id
    )
    return select(participants).where(participants.c.call_id == call_id, identity)


def _new_row(call_id: int, who: Attendee, *, at: datetime, part: str) -> dict[str, object]:
    return {
        "call_id": call_id,
        "slack_user_id": who.slack_user_id,
        "external_id": who.external_id,
        "display_name": who.display_name,
        "avatar_url": who.avatar_url,
        "joined_at": at,
        "meeting_part": part,
        "in_slack": False,
    }


def _update(row_id: int, **values: object) -> Update:
    return update(participants).where(participants.c.id == row_id).values(**values)
