"""SQL more than one store builds on: the tables, rows made into `Call`s, and the conditions
and statements several stores (or dialect.py) use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Exists,
    Row,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import configure_mappers

from calls_app.db import UtcDateTime
from calls_app.models import Call, CallState, HomeTab, Invitation, Participant

LIVE_STATES = (CallState.ACTIVE, CallState.ENDING)

# Typed as the Tables they are (the ORM declares a model's __table__ a mere FromClause).
calls = cast(Table, Call.__table__)
participants = cast(Table, Participant.__table__)
invitations = cast(Table, Invitation.__table__)
home_tabs = cast(Table, HomeTab.__table__)


def moment(name: str) -> BindParameter[datetime]:
    """A datetime parameter, stored as the columns store them (aware UTC)."""
    return bindparam(name, type_=UtcDateTime())


def call_of(row: Row[Any]) -> Call:
    return call_from(row._mapping)


def call_from(values: Mapping[Any, Any]) -> Call:
    """A Call made as the ORM makes one it loads: its values set as loaded, not as changes
    (a fifth of what `Call(**values)` costs, several times per call life)."""
    call: Call = _new_call()
    call.__dict__.update(values)
    return call


# Call(...) would configure the mappers on first use; new_instance does not, so do it now.
configure_mappers()
_new_call = Call.__mapper__.class_manager.new_instance


def calls_of(rows: Iterable[Row[Any]]) -> list[Call]:
    return [call_of(row) for row in rows]


def state_is(*states: CallState) -> ColumnElement[bool]:
    # Not IN (...): a list in IN is expanded into the SQL at every execution, which costs
    # more than the query itself; the states are fixed, so they are compiled in once.
    return or_(*(calls.c.state == state for state in states))


def someone_present() -> Exists:
    return (
        select(participants.c.id)
        .where(participants.c.call_id == calls.c.id, participants.c.left_at.is_(None))
        .exists()
    )


def invitation_pending() -> ColumnElement[bool]:
    """Not sent, not refused, and nobody is sending it right now (at :now)."""
    return and_(
        invitations.c.sent_at.is_(None),
        invitations.c.failed_error.is_(None),
        or_(invitations.c.attempt_until.is_(None), invitations.c.attempt_until < moment("now")),
    )


# -- starting and ending a call, which dialect.py runs as one statement on PostgreSQL ----------

INSERT_PARTICIPANT = insert(participants)
INSERT_INVITATION = insert(invitations)


def insert_invitations(db: Connection, call_id: int, invitees: Sequence[str]) -> None:
    if invitees:
        db.execute(
            INSERT_INVITATION, [{"call_id": call_id, "slack_user_id": user} for user in invitees]
        )


# Everyone still in an ended call leaves when it ended (:ended); every row learns the end.
CLOSING = {
    participants.c.left_at: func.coalesce(participants.c.left_at, moment("ended")),
    participants.c.call_ended_at: moment("ended"),
}
CLOSE_PARTICIPANTS = (
    update(participants).where(participants.c.call_id == bindparam("call")).values(CLOSING)
)

# The call is still being ended under the lease its ender claimed (:call, :lease).
HELD = (
    calls.c.id == bindparam("call"),
    calls.c.state == CallState.ENDING,
    calls.c.lease_expires_at == moment("lease"),
)


def holder(claimed: Call) -> dict[str, Any]:
    """The parameters of HELD for the lease this caller claimed."""
    return {"call": claimed.id, "lease": claimed.lease_expires_at}


MARK_ENDED = (
    update(calls)
    .where(*HELD)
    .values(state=CallState.ENDED, lease_expires_at=None, duration_seconds=bindparam("duration"))
    .returning(*calls.c)
)
