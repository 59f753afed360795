"""The calls store: every read and write of calls and participants, as short transactions.

Race safety comes from conditional updates (checking the row count) and unique constraints,
which hold the same on SQLite and PostgreSQL; no transaction is held open across a Slack call.

Statements are SQLAlchemy Core, built once (class attributes, values as bind parameters) and
run on a `Connection`: building a statement and the ORM's unit of work cost SQLAlchemy several
times what the database takes to run it, on every call life (see BENCHMARKS.md). Reads and
one-statement writes take no explicit transaction (`db.autocommitting`). Calls come back as
`Call` objects that belong to no session.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Engine,
    Exists,
    Insert,
    Row,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import configure_mappers

from calls_app import metrics
from calls_app.db import UtcDateTime, autocommitting, writing
from calls_app.models import (
    LIVE_MEETING_CALL,
    Call,
    CallState,
    EndReason,
    HomeTab,
    Invitation,
    Participant,
)

LIVE_STATES = (CallState.ACTIVE, CallState.ENDING)

calls = Call.__table__
participants = Participant.__table__
invitations = Invitation.__table__
home_tabs = HomeTab.__table__


def _moment(name: str) -> BindParameter[datetime]:
    """A datetime parameter, stored as the columns store them (aware UTC)."""
    return bindparam(name, type_=UtcDateTime())


def _call_of(row: Row[Any]) -> Call:
    return _call_from(row._mapping)


def _call_from(values: Mapping[str, Any]) -> Call:
    """A Call made as the ORM makes one it loads: its values set as loaded, not as changes
    (a fifth of what `Call(**values)` costs, several times per call life)."""
    call = _new_call()
    call.__dict__.update(values)
    return call


# Call(...) would configure the mappers on first use; new_instance does not, so do it now.
configure_mappers()
_new_call = Call.__mapper__.class_manager.new_instance


def _calls_of(rows: Iterable[Row[Any]]) -> list[Call]:
    return [_call_of(row) for row in rows]


def _state_is(*states: CallState) -> ColumnElement[bool]:
    # Not IN (...): a list in IN is expanded into the SQL at every execution, which costs
    # more than the query itself; the states are fixed, so they are compiled in once.
    return or_(*(calls.c.state == state for state in states))


def _someone_present() -> Exists:
    return (
        select(participants.c.id)
        .where(participants.c.call_id == calls.c.id, participants.c.left_at.is_(None))
        .exists()
    )


def _invitation_pending() -> ColumnElement[bool]:
    """Not sent, not refused, and nobody is sending it right now (at :now)."""
    return and_(
        invitations.c.sent_at.is_(None),
        invitations.c.failed_error.is_(None),
        or_(invitations.c.attempt_until.is_(None), invitations.c.attempt_until < _moment("now")),
    )


# Everyone still in an ended call leaves when it ended (:ended); every row learns the end.
_CLOSING = {
    participants.c.left_at: func.coalesce(participants.c.left_at, _moment("ended")),
    participants.c.call_ended_at: _moment("ended"),
}

# The call is still being ended under the lease its ender claimed (:call, :lease).
_HELD = (
    calls.c.id == bindparam("call"),
    calls.c.state == CallState.ENDING,
    calls.c.lease_expires_at == _moment("lease"),
)


class Joined(StrEnum):
    FIRST_TIME = "first_time"
    AGAIN = "again"  # had left, is back
    ALREADY_IN = "already_in"


class MeetingHasLiveCall(Exception):
    """The meeting already has a live call in the workspace: a second one was not written."""


# Where the database refuses a second live call of a meeting (calls_app/models.py).
_MEETING_KEY = ["team_id", "meeting_id"]


@dataclass(frozen=True)
class NewCall:
    team_id: str
    enterprise_id: str | None
    channel_id: str
    title: str
    join_url: str
    created_by: str
    started_at: datetime
    meeting_id: str | None = None


class CallStore:
    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        self._join_once = (
            upsert_into(engine, participants)
            .values(
                call_id=bindparam("call"), slack_user_id=bindparam("user"), joined_at=_moment("at")
            )
            .on_conflict_do_nothing(index_elements=["call_id", "slack_user_id"])
            .returning(participants.c.id)
        )
        self._insert_call = (
            upsert_into(engine, calls)
            .on_conflict_do_nothing(index_elements=_MEETING_KEY, index_where=LIVE_MEETING_CALL)
            .returning(calls.c.id)
        )
        # PostgreSQL runs some writes of several statements as one (data-modifying CTEs): one
        # round trip instead of a BEGIN, the statements and a COMMIT.
        self._postgresql = engine.dialect.name == "postgresql"

    # -- reads -------------------------------------------------------------------------------

    _GET = select(calls).where(
        calls.c.id == bindparam("call"), calls.c.team_id == bindparam("team")
    )

    def get(self, *, team_id: str, call_id: int) -> Call | None:
        """A call of this workspace, or None: another workspace's call is never visible."""
        with self._reading() as db:
            row = db.execute(self._GET, {"call": call_id, "team": team_id}).one_or_none()
        return None if row is None else _call_of(row)

    _LIVE_IN_CHANNEL = (
        select(calls)
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.channel_id == bindparam("channel"),
            _state_is(*LIVE_STATES),
        )
        .order_by(calls.c.started_at, calls.c.id)
    )

    def live_calls_in_channel(self, *, team_id: str, channel_id: str) -> list[Call]:
        """Calls in the channel that are live in Slack (active, or being ended), oldest first."""
        with self._reading() as db:
            return _calls_of(
                db.execute(self._LIVE_IN_CHANNEL, {"team": team_id, "channel": channel_id})
            )

    # Starting calls count too, so a burst of starts can't slip past the limits.
    _RUNNING = _state_is(CallState.STARTING, *LIVE_STATES)
    _RUNNING_COUNTS = select(
        select(func.count())
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.channel_id == bindparam("channel"),
            _RUNNING,
        )
        .scalar_subquery(),
        select(func.count())
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.created_by == bindparam("user"),
            _RUNNING,
        )
        .scalar_subquery(),
    )

    def running_call_counts(
        self, *, team_id: str, channel_id: str, user_id: str
    ) -> tuple[int, int]:
        """How many calls not over yet are in the channel, and were started by the person;
        each count reads its own index (team, channel, state) and (team, creator, state)."""
        with self._reading() as db:
            in_channel, by_person = db.execute(
                self._RUNNING_COUNTS, {"team": team_id, "channel": channel_id, "user": user_id}
            ).one()
        return in_channel, by_person

    _KNOWN = select(participants.c.slack_user_id).where(
        participants.c.call_id == bindparam("call"), participants.c.slack_user_id.is_not(None)
    )

    def known_user_ids(self, call_id: int) -> set[str]:
        """Slack users who are or were in the call."""
        with self._reading() as db:
            return set(db.scalars(self._KNOWN, {"call": call_id}))

    _CALLS_USER_IS_IN = select(participants.c.call_id).where(
        participants.c.call_id.in_(bindparam("calls", expanding=True)),
        participants.c.slack_user_id == bindparam("user"),
        participants.c.left_at.is_(None),
    )

    def calls_user_is_in(self, *, call_ids: Sequence[int], user_id: str) -> list[int]:
        with self._reading() as db:
            return list(
                db.scalars(self._CALLS_USER_IS_IN, {"calls": list(call_ids), "user": user_id})
            )

    # -- starting ------------------------------------------------------------------------------

    _INSERT_PARTICIPANT = insert(participants)
    _INSERT_INVITATION = insert(invitations)

    def create_starting(
        self,
        new: NewCall,
        *,
        lease_until: datetime,
        invitees: Sequence[str] = (),
        starter_in_call: bool = True,
    ) -> Call:
        """Write the call before Slack hears of it, so a crash leaves a trace, not a ghost.
        A call registered for a pasted meeting link has nobody in it yet (`starter_in_call`).
        MeetingHasLiveCall, and nothing written, if its meeting has a live call already."""
        values = {
            "team_id": new.team_id,
            "enterprise_id": new.enterprise_id,
            "channel_id": new.channel_id,
            "external_unique_id": str(uuid.uuid4()),
            "title": new.title,
            "join_url": new.join_url,
            "created_by": new.created_by,
            "state": CallState.STARTING,
            "started_at": new.started_at,
            "meeting_id": new.meeting_id,
            "lease_expires_at": lease_until,
            "message_outdated": False,
        }
        # The starter is in the call from the start; only live calls are shown to anyone.
        together = self._postgresql and starter_in_call
        with self._writing_one() if together and not invitees else self._writing() as db:
            if together:
                call_id = db.execute(
                    _insert_call_and_starter(tuple(values)), _as_new(values)
                ).scalar()
            else:
                call_id = db.execute(self._insert_call, values).scalar()
            if call_id is None:
                raise MeetingHasLiveCall(new.meeting_id)
            if starter_in_call and not together:
                db.execute(
                    self._INSERT_PARTICIPANT,
                    {
                        "call_id": call_id,
                        "slack_user_id": new.created_by,
                        "joined_at": new.started_at,
                        "in_slack": True,  # calls.add lists the starter
                    },
                )
            if invitees:
                db.execute(
                    self._INSERT_INVITATION,
                    [{"call_id": call_id, "slack_user_id": user} for user in invitees],
                )
        return _call_from({"id": call_id, **values})

    _UNSENT_INVITATIONS = (
        select(invitations.c.slack_user_id)
        .where(
            invitations.c.call_id == bindparam("call"),
            invitations.c.sent_at.is_(None),
            invitations.c.failed_error.is_(None),
        )
        .order_by(invitations.c.id)
    )

    def unsent_invitations(self, call_id: int) -> list[str]:
        with self._reading() as db:
            return list(db.scalars(self._UNSENT_INVITATIONS, {"call": call_id}))

    _CLAIM_INVITATION = (
        update(invitations)
        .where(
            invitations.c.call_id == bindparam("call"),
            invitations.c.slack_user_id == bindparam("user"),
            _invitation_pending(),
            select(calls.c.id)
            .where(calls.c.id == bindparam("call"), calls.c.state == CallState.ACTIVE)
            .exists(),
        )
        .values(attempt_until=_moment("until"))
    )

    def claim_invitation(
        self, call_id: int, user_id: str, *, now: datetime, lease: timedelta
    ) -> bool:
        """Take the sending of one invitation of a live call; one sender wins."""
        with self._writing_one() as db:
            result = db.execute(
                self._CLAIM_INVITATION,
                {"call": call_id, "user": user_id, "now": now, "until": now + lease},
            )
            return result.rowcount == 1

    _RECORD_INVITATION = (
        update(invitations)
        .where(
            invitations.c.call_id == bindparam("call"),
            invitations.c.slack_user_id == bindparam("user"),
        )
        .values(sent_at=_moment("sent"), failed_error=bindparam("error", type_=String()))
    )

    def record_invitation(
        self, call_id: int, user_id: str, *, sent_at: datetime | None, error: str | None
    ) -> None:
        with self._writing_one() as db:
            db.execute(
                self._RECORD_INVITATION,
                {"call": call_id, "user": user_id, "sent": sent_at, "error": error},
            )

    _MARK_REGISTERED = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.STARTING,
            calls.c.lease_expires_at == _moment("lease"),
        )
        # The lease stays until the message is posted (set_message ends it).
        .values(
            slack_call_id=bindparam("slack_call"),
            state=CallState.ACTIVE,
            lease_expires_at=_moment("renewed"),
        )
    )

    def mark_registered(
        self, call_id: int, *, slack_call_id: str, lease: datetime, renewed: datetime | None
    ) -> bool:
        """calls.add succeeded: the call is live, and its starter's lease is renewed for
        posting the message. False if the starter no longer held the lease (it was too slow,
        and the reconciler gave the start up)."""
        with self._writing_one() as db:
            result = db.execute(
                self._MARK_REGISTERED,
                {"call": call_id, "slack_call": slack_call_id, "lease": lease, "renewed": renewed},
            )
            registered = result.rowcount == 1
        metrics.calls_started.inc(registered)
        return registered

    _MARK_FAILED = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            _state_is(CallState.STARTING, CallState.ACTIVE),
            calls.c.message_ts.is_(None),  # a call shown in Slack did not fail
        )
        .values(state=CallState.FAILED, ended_at=_moment("at"), lease_expires_at=None)
    )
    _LEAVE_ALL = (
        update(participants)
        .where(participants.c.call_id == bindparam("call"), participants.c.left_at.is_(None))
        .values(left_at=_moment("at"))
    )

    def mark_failed(self, call_id: int, *, at: datetime) -> None:
        """Never shown in Slack: the call failed (unless someone ended it meanwhile)."""
        with self._writing() as db:
            failed = db.execute(self._MARK_FAILED, {"call": call_id, "at": at}).rowcount == 1
            if failed:
                db.execute(self._LEAVE_ALL, {"call": call_id, "at": at})
        metrics.calls_failed_to_start.inc(failed)

    _SET_MESSAGE = (
        update(calls)
        .where(calls.c.id == bindparam("call"), calls.c.message_ts.is_(None))
        .values(
            message_channel_id=bindparam("channel"),
            message_ts=bindparam("ts"),
            # An active call's start is over; an ender's lease is the ender's.
            lease_expires_at=case(
                (calls.c.state == CallState.ACTIVE, None), else_=calls.c.lease_expires_at
            ),
        )
        .returning(*calls.c)
    )

    # A message found by a press, not by posting it: of an active call only while nobody is
    # posting it (their lease; a withdrawal renews it first, so it can't end a call just
    # adopted). An ender keeps its lease, and draws the message ended if one was recorded.
    _ADOPT_MESSAGE = _SET_MESSAGE.where(
        or_(
            _state_is(CallState.ENDING, CallState.ENDED),
            and_(
                calls.c.state == CallState.ACTIVE,
                or_(calls.c.lease_expires_at.is_(None), calls.c.lease_expires_at < _moment("now")),
            ),
        )
    )

    def set_message(
        self, call_id: int, *, channel_id: str, ts: str, adopted_at: datetime | None = None
    ) -> Call | None:
        """Record where the call is shown; returns the call as it is now (it may have been
        ended meanwhile, by someone who could not yet know where its message was). None if a
        message was recorded already: this one is a duplicate (a takeover after a slow post).
        With `adopted_at` (a press found the message) also None while the call has failed or
        its starter is still at it."""
        statement, values = self._SET_MESSAGE, {"call": call_id, "channel": channel_id, "ts": ts}
        if adopted_at is not None:
            statement, values = self._ADOPT_MESSAGE, {**values, "now": adopted_at}
        with self._writing_one() as db:
            row = db.execute(statement, values).one_or_none()
        return None if row is None else _call_of(row)

    # A registered call not shown yet, its poster's lease set to `until`.
    _LEASE_UNPOSTED = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.ACTIVE,
            calls.c.message_ts.is_(None),
        )
        .values(lease_expires_at=_moment("until"))
    )
    _CLAIM_POSTING = _LEASE_UNPOSTED.where(calls.c.lease_expires_at < _moment("now"))

    def claim_posting(self, call_id: int, *, now: datetime, lease: timedelta) -> datetime | None:
        """Take over posting the message of a call whose starter's lease ran out; the new
        lease's end, or None if someone else has it."""
        until = now + lease
        with self._writing_one() as db:
            result = db.execute(self._CLAIM_POSTING, {"call": call_id, "now": now, "until": until})
            return until if result.rowcount == 1 else None

    _HOLD_UNPOSTED = _LEASE_UNPOSTED.where(calls.c.lease_expires_at == _moment("lease"))

    def hold_unposted(self, call_id: int, *, lease: datetime | None, until: datetime) -> bool:
        """Renew the poster's lease on a call not shown yet, so that no press adopts a message
        of it while it is being withdrawn. False if the lease is no longer the poster's or a
        message was recorded."""
        with self._writing_one() as db:
            result = db.execute(
                self._HOLD_UNPOSTED, {"call": call_id, "lease": lease, "until": until}
            )
            return result.rowcount == 1

    # -- ending --------------------------------------------------------------------------------

    _CLOSE_LIVE_CALLS = (
        update(calls)
        .where(_state_is(CallState.STARTING, CallState.ACTIVE, CallState.ENDING))
        .values(
            state=CallState.ENDED,
            ended_at=func.coalesce(calls.c.ended_at, _moment("at")),
            end_reason=func.coalesce(
                calls.c.end_reason, bindparam("reason", type_=calls.c.end_reason.type)
            ),
            lease_expires_at=None,
        )
        .returning(calls.c.id, calls.c.ended_at)
    )

    _CLOSE_LIVE_CALLS_OF_TEAM = _CLOSE_LIVE_CALLS.where(calls.c.team_id == bindparam("team"))
    _CLOSE_LIVE_CALLS_OF_ORG = _CLOSE_LIVE_CALLS.where(
        calls.c.enterprise_id == bindparam("enterprise")
    )

    def close_live_calls(
        self,
        *,
        team_id: str | None,
        enterprise_id: str | None = None,
        at: datetime,
        reason: EndReason,
    ) -> int:
        """End every live call of a workspace in our records only; returns how many. With no
        workspace, those of every workspace of the organization `enterprise_id`."""
        if team_id is not None:
            statement, where = self._CLOSE_LIVE_CALLS_OF_TEAM, {"team": team_id}
        else:
            statement, where = self._CLOSE_LIVE_CALLS_OF_ORG, {"enterprise": enterprise_id}
        with self._writing() as db:
            closed = db.execute(statement, {**where, "at": at, "reason": reason}).all()
            for call_id, ended_at in closed:
                db.execute(self._CLOSE_PARTICIPANTS, {"call": call_id, "ended": ended_at})
        metrics.calls_ended.labels(reason.value).inc(len(closed))
        return len(closed)

    _CLAIM_ENDING = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            or_(
                calls.c.state == CallState.ACTIVE,
                and_(calls.c.state == CallState.ENDING, calls.c.lease_expires_at < _moment("now")),
            ),
        )
        .values(
            state=CallState.ENDING,
            lease_expires_at=_moment("until"),
            ended_at=func.coalesce(calls.c.ended_at, _moment("now")),
            ended_by=func.coalesce(calls.c.ended_by, bindparam("by", type_=String())),
            end_reason=func.coalesce(
                calls.c.end_reason, bindparam("reason", type_=calls.c.end_reason.type)
            ),
        )
        .returning(*calls.c)
    )
    # "Everyone left" must still be true when the claim is made.
    _CLAIM_ENDING_IF_EMPTY = _CLAIM_ENDING.where(~_someone_present())

    def claim_ending(
        self,
        call_id: int,
        *,
        by: str | None,
        reason: EndReason,
        now: datetime,
        lease: timedelta,
        only_if_empty: bool = False,
    ) -> Call | None:
        """Take the right to end the call; exactly one of any number of racing callers wins
        and gets the call back, as claimed.

        A holder that crashed mid-end leaves an expired lease, which the next caller takes over.
        """
        claim = self._CLAIM_ENDING_IF_EMPTY if only_if_empty else self._CLAIM_ENDING
        with self._writing_one() as db:
            row = db.execute(
                claim,
                {"call": call_id, "by": by, "reason": reason, "now": now, "until": now + lease},
            ).one_or_none()
        return None if row is None else _call_of(row)

    _RELEASE_ENDING = (
        update(calls)
        .where(*_HELD)
        .values(
            state=CallState.ACTIVE,
            # A call whose message was never posted stays up for the reconciler to post.
            lease_expires_at=case((calls.c.message_ts.is_(None), _moment("now")), else_=None),
            ended_at=None,
            ended_by=None,
            end_reason=None,
        )
    )

    def release_ending(self, claimed: Call, *, now: datetime) -> None:
        """calls.end failed: the call stays live, as if nobody had pressed End — unless the
        lease was lost to someone else meanwhile, whose end this is now."""
        with self._writing_one() as db:
            db.execute(self._RELEASE_ENDING, {**_holder(claimed), "now": now})

    _MARK_ENDED = (
        update(calls)
        .where(*_HELD)
        .values(
            state=CallState.ENDED, lease_expires_at=None, duration_seconds=bindparam("duration")
        )
        .returning(*calls.c)
    )
    _CLOSE_PARTICIPANTS = (
        update(participants).where(participants.c.call_id == bindparam("call")).values(_CLOSING)
    )
    # On PostgreSQL both are one statement (data-modifying CTEs): one round trip, not four.
    _ENDED = _MARK_ENDED.cte("ended")
    _MARK_ENDED_AND_CLOSE_PARTICIPANTS = select(_ENDED).add_cte(
        update(participants)
        .where(participants.c.call_id.in_(select(_ENDED.c.id)))
        .values(_CLOSING)
        .cte("closed")
    )

    def mark_ended(self, claimed: Call) -> Call | None:
        """Slack confirmed the end; close the call and everyone's presence in it. None if the
        lease was lost meanwhile (the one who took it over records the end)."""
        assert claimed.ended_at is not None
        values = {
            **_holder(claimed),
            "duration": whole_seconds(claimed.ended_at - claimed.started_at),
            "ended": claimed.ended_at,
        }
        if self._postgresql:
            with self._writing_one() as db:
                row = db.execute(self._MARK_ENDED_AND_CLOSE_PARTICIPANTS, values).one_or_none()
        else:
            with self._writing() as db:
                row = db.execute(self._MARK_ENDED, values).one_or_none()
                if row is not None:
                    db.execute(self._CLOSE_PARTICIPANTS, values)
        if row is None:
            return None
        metrics.calls_ended.labels(row.end_reason).inc()
        return _call_of(row)

    # -- retention, and what /metrics shows --------------------------------------------------

    # Off the index (state, ended_at): the oldest over calls first, a bounded batch.
    _OLD_CALLS = (
        select(calls.c.id)
        .where(_state_is(CallState.ENDED, CallState.FAILED), calls.c.ended_at < _moment("before"))
        .order_by(calls.c.ended_at)
        .limit(bindparam("limit"))
    )
    # Their participants and invitations go with them (ON DELETE CASCADE).
    _DELETE_OLD_CALLS = delete(calls).where(calls.c.id.in_(_OLD_CALLS.scalar_subquery()))

    def delete_old_calls(self, *, ended_before: datetime, limit: int) -> int:
        """Delete up to `limit` calls that are over (ended or failed) and ended before
        `ended_before`, with their participants and invitations; returns how many."""
        with self._writing_one() as db:
            deleted = db.execute(self._DELETE_OLD_CALLS, {"before": ended_before, "limit": limit})
            return deleted.rowcount

    _LIVE_COUNT = select(func.count()).where(_state_is(CallState.STARTING, *LIVE_STATES))

    def live_call_count(self) -> int:
        """Calls starting, live or being ended, in every workspace."""
        with self._reading() as db:
            return int(db.scalar(self._LIVE_COUNT) or 0)

    # -- what the reconciler looks for --------------------------------------------------------

    def reconcile_candidates(
        self,
        *,
        now: datetime,
        max_age: timedelta,
        empty_grace: timedelta,
        invite_grace: timedelta,
        limit: int,
        presence: bool = False,
    ) -> ReconcileCandidates:
        """Calls that need the app to act by itself, each list LIMITed and taken in turns
        across workspaces: every workspace's oldest, then every workspace's second oldest, and
        so on, so no workspace's backlog keeps another's calls waiting. Calls the reconciler
        is backing off from (reconcile_after still ahead) are left out. Unfurled calls (no
        message of their own) are checked for drift, and end when empty only where meetings
        report `presence`: nothing else can say anyone is in them."""
        lease_over = and_(calls.c.lease_expires_at.is_not(None), calls.c.lease_expires_at < now)
        # A call nobody was ever in (its meeting says who is) has been empty since it started.
        last_left = func.coalesce(
            select(func.max(participants.c.left_at))
            .where(participants.c.call_id == calls.c.id)
            .scalar_subquery(),
            calls.c.started_at,
        )
        active = calls.c.state == CallState.ACTIVE
        shown = calls.c.message_ts.is_not(None)
        # Registered with no message, and nobody holds it to post one: shown by unfurls alone.
        unfurled = and_(calls.c.message_ts.is_(None), calls.c.lease_expires_at.is_(None))
        shown_anyhow = or_(shown, unfurled)
        due = or_(calls.c.reconcile_after.is_(None), calls.c.reconcile_after <= now)
        with self._reading() as db:

            def calls_where(*conditions: Any, sample: bool = False) -> list[Call]:
                order = (func.random(),) if sample else (calls.c.started_at, calls.c.id)
                turn = func.row_number().over(partition_by=calls.c.team_id, order_by=order)
                ranked = select(calls, turn.label("turn")).where(due, *conditions).subquery()
                then = func.random() if sample else ranked.c.started_at
                query = (
                    select(*(ranked.c[column.key] for column in calls.c))
                    .order_by(ranked.c.turn, then, ranked.c.id)
                    .limit(limit)
                )
                return _calls_of(db.execute(query, {"now": now}))  # :now of pending invitations

            return ReconcileCandidates(
                stuck_starting=calls_where(calls.c.state == CallState.STARTING, lease_over),
                unposted=calls_where(active, calls.c.message_ts.is_(None), lease_over),
                interrupted_ends=calls_where(calls.c.state == CallState.ENDING, lease_over),
                overlong=calls_where(active, calls.c.started_at < now - max_age),
                empty=calls_where(
                    active,
                    shown_anyhow if presence else shown,
                    ~_someone_present(),
                    last_left < now - empty_grace,
                ),
                uninvited=calls_where(
                    active,
                    shown,
                    calls.c.started_at < now - invite_grace,
                    select(invitations.c.id)
                    .where(invitations.c.call_id == calls.c.id, _invitation_pending())
                    .exists(),
                ),
                outdated_messages=calls_where(
                    calls.c.message_outdated.is_(True),
                    shown,
                    _state_is(CallState.ACTIVE, CallState.ENDED),
                ),
                # A sample, not the oldest: every live call gets checked over a few passes.
                live=calls_where(active, shown_anyhow, sample=True),
            )

    _BACK_OFF = (
        update(calls)
        .where(calls.c.id == bindparam("call"))
        .values(reconcile_failures=bindparam("failures"), reconcile_after=_moment("after"))
    )

    def back_off(self, call_id: int, *, failures: int, until: datetime) -> None:
        """The reconciler failed on this call `failures` times in a row: leave it until then."""
        with self._writing_one() as db:
            db.execute(self._BACK_OFF, {"call": call_id, "failures": failures, "after": until})

    _CLEAR_BACKOFF = (
        update(calls)
        .where(calls.c.id == bindparam("call"))
        .values(reconcile_failures=0, reconcile_after=None)
    )

    def clear_backoff(self, call_id: int) -> None:
        """The reconciler's action on this call succeeded: its next failure waits the least."""
        with self._writing_one() as db:
            db.execute(self._CLEAR_BACKOFF, {"call": call_id})

    _ABANDON_START = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.STARTING,
            calls.c.lease_expires_at < _moment("at"),
        )
        .values(state=CallState.FAILED, ended_at=_moment("at"), lease_expires_at=None)
    )

    def abandon_start(self, call_id: int, *, now: datetime) -> bool:
        """A start whose process died before Slack answered: nothing to show, so it failed."""
        with self._writing() as db:
            if not db.execute(self._ABANDON_START, {"call": call_id, "at": now}).rowcount:
                return False
            db.execute(self._LEAVE_ALL, {"call": call_id, "at": now})
        metrics.calls_failed_to_start.inc()
        return True

    _MARK_MESSAGE_OUTDATED = (
        update(calls).where(calls.c.id == bindparam("call")).values(message_outdated=True)
    )

    def mark_message_outdated(self, call_id: int) -> None:
        with self._writing_one() as db:
            db.execute(self._MARK_MESSAGE_OUTDATED, {"call": call_id})

    _MARK_MESSAGE_CURRENT = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == bindparam("shown_state", type_=calls.c.state.type),
            calls.c.title == bindparam("shown_title"),
        )
        .values(message_outdated=False)
    )

    def mark_message_current(self, shown: Call) -> None:
        """The message shows `shown`: unless the call changed since, it is current."""
        with self._writing_one() as db:
            db.execute(
                self._MARK_MESSAGE_CURRENT,
                {"call": shown.id, "shown_state": shown.state, "shown_title": shown.title},
            )

    # -- renaming ------------------------------------------------------------------------------

    _SET_TITLE = (
        update(calls)
        .where(calls.c.id == bindparam("call"), calls.c.state == CallState.ACTIVE)
        .values(title=bindparam("new_title"))
        .returning(*calls.c)
    )

    def set_title(self, call_id: int, title: str) -> Call | None:
        """Rename a live call; None if it is no longer active."""
        with self._writing_one() as db:
            row = db.execute(self._SET_TITLE, {"call": call_id, "new_title": title}).one_or_none()
        return None if row is None else _call_of(row)

    # -- participants --------------------------------------------------------------------------

    _REJOIN = (
        update(participants)
        .where(
            participants.c.call_id == bindparam("call"),
            participants.c.slack_user_id == bindparam("user"),
            participants.c.left_at.is_not(None),
        )
        .values(left_at=None, joined_at=_moment("at"))
    )

    # Held until the join commits: an end can't begin between the check and the join.
    _LOCK_STATE = (
        select(calls.c.state).where(calls.c.id == bindparam("call")).with_for_update(read=True)
    )

    def add_participant(self, call_id: int, *, user_id: str, at: datetime) -> Joined | None:
        """Register the person once, however many Join clicks race; None if the call is no
        longer active."""
        this_join = {"call": call_id, "user": user_id, "at": at}
        with self._writing() as db:
            if db.scalar(self._LOCK_STATE, this_join) != CallState.ACTIVE:
                return None
            if db.execute(self._join_once, this_join).first() is not None:
                joined = Joined.FIRST_TIME
            else:
                rejoined = db.execute(self._REJOIN, this_join)
                joined = Joined.AGAIN if rejoined.rowcount == 1 else Joined.ALREADY_IN
        metrics.participant_changes.labels("join").inc(joined != Joined.ALREADY_IN)
        return joined

    _MARK_LEFT = (
        update(participants)
        .where(
            participants.c.call_id == bindparam("call"),
            participants.c.slack_user_id == bindparam("user"),
            participants.c.left_at.is_(None),
        )
        .values(left_at=_moment("at"))
    )

    def mark_left(self, call_id: int, *, user_id: str, at: datetime) -> bool:
        """True if the person was in the call and now is not."""
        with self._writing_one() as db:
            result = db.execute(self._MARK_LEFT, {"call": call_id, "user": user_id, "at": at})
            left = result.rowcount == 1
        metrics.participant_changes.labels("leave").inc(left)
        return left

    # -- Slack's list of participants (calls_app/participant_sync.py) -------------------------

    _OUT_OF_STEP = (
        select(
            participants.c.slack_user_id,
            participants.c.external_id,
            participants.c.display_name,
            participants.c.avatar_url,
            participants.c.left_at.is_(None).label("present"),
        )
        .where(
            participants.c.call_id == bindparam("call"),
            participants.c.in_slack != participants.c.left_at.is_(None),
        )
        .order_by(participants.c.id)
        .limit(bindparam("limit"))
    )

    def out_of_step(self, call_id: int, *, limit: int) -> tuple[list[Listed], list[Listed]]:
        """(people in the call Slack doesn't list, people Slack lists who left), `limit` at most."""
        with self._reading() as db:
            rows = db.execute(self._OUT_OF_STEP, {"call": call_id, "limit": limit}).all()
        people = [
            (Listed(r.slack_user_id, r.external_id, r.display_name, r.avatar_url), r.present)
            for r in rows
        ]
        return [p for p, present in people if present], [p for p, present in people if not present]

    _SET_IN_SLACK = (
        update(participants)
        .where(
            participants.c.call_id == bindparam("call"),
            or_(
                participants.c.slack_user_id.in_(bindparam("users", expanding=True)),
                participants.c.external_id.in_(bindparam("externals", expanding=True)),
            ),
        )
        .values(in_slack=bindparam("listed"))
    )

    def set_in_slack(self, call_id: int, people: Sequence[Listed], *, listed: bool) -> None:
        """Slack now lists (or no longer lists) these people, whatever they did meanwhile."""
        users = [p.slack_user_id for p in people if p.slack_user_id is not None]
        externals = [p.external_id for p in people if p.external_id is not None]
        with self._writing_one() as db:
            db.execute(
                self._SET_IN_SLACK,
                {"call": call_id, "users": users, "externals": externals, "listed": listed},
            )

    _MATCH_SLACK = (
        update(participants)
        .where(participants.c.call_id == bindparam("call"))
        .values(
            # Each row has one identity; the other's IN would be NULL, so each is asked apart.
            in_slack=case(
                (
                    participants.c.slack_user_id.is_not(None),
                    participants.c.slack_user_id.in_(bindparam("users", expanding=True)),
                ),
                else_=participants.c.external_id.in_(bindparam("externals", expanding=True)),
            )
        )
    )

    def match_slack(
        self, call_id: int, listed: Sequence[str], external_ids: Sequence[str] = ()
    ) -> None:
        """What Slack says it lists, read from calls.info, replaces what we thought."""
        with self._writing_one() as db:
            # An empty IN list compiles to a false condition on both databases.
            db.execute(
                self._MATCH_SLACK,
                {"call": call_id, "users": list(listed), "externals": list(external_ids)},
            )


@dataclass(frozen=True)
class Listed:
    """A participant as Slack's call lists them: a Slack user or someone external."""

    slack_user_id: str | None
    external_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True)
class ReconcileCandidates:
    stuck_starting: list[Call]
    unposted: list[Call]
    interrupted_ends: list[Call]
    overlong: list[Call]
    empty: list[Call]
    uninvited: list[Call]  # invitations a crash kept from being sent
    outdated_messages: list[Call]
    live: list[Call]


@dataclass(frozen=True)
class HomeCalls:
    """What one person's Home shows, read with a fixed number of LIMITed, indexed queries."""

    active: list[Call]
    more_active: bool
    recent: list[Call]
    present: dict[int, int]  # call id -> people in it now
    took_part: dict[int, int]  # call id -> people who were ever in it


class HomeStore:
    # How long this process trusts what it last saw of whether a workspace uses Home at all.
    TEAM_HOMES_TTL_SECONDS = 30.0

    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        self._teams_with_homes: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        opened = upsert_into(engine, home_tabs).values(
            team_id=bindparam("team"), user_id=bindparam("user"), opened_at=_moment("at")
        )
        self._record_opened = opened.on_conflict_do_update(
            index_elements=["team_id", "user_id"], set_={"opened_at": opened.excluded.opened_at}
        )

    _STARTED_LIVE = (
        select(calls)
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.created_by == bindparam("user"),
            _state_is(*LIVE_STATES),
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
            _state_is(*LIVE_STATES),
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
            started = _calls_of(
                db.execute(self._STARTED_LIVE, {**person, "limit": active_limit + 1})
            )
            joined = _calls_of(db.execute(self._JOINED_LIVE, {**person, "limit": active_limit + 1}))
            recent = _calls_of(db.execute(self._RECENT, {**person, "limit": recent_limit}))
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
        """Whether anyone in the workspace ever opened Home; most changes need not look further.
        Another instance may learn of a first Home up to TEAM_HOMES_TTL_SECONDS late."""
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
        """People whose Home shows this call (its starter, anyone who was in it) and who have
        opened Home: a Home never opened has no stale view to refresh."""
        if not self._team_has_homes(call.team_id):
            return []
        with self._reading() as db:
            return list(
                db.scalars(
                    self._WATCHERS,
                    {"team": call.team_id, "starter": call.created_by, "call": call.id},
                )
            )


@cache  # one statement per set of columns, which create_starting always sets alike
def _insert_call_and_starter(columns: tuple[str, ...]) -> Insert:
    """A new call (these columns) and its starter's participant row as one PostgreSQL
    statement, a data-modifying CTE; its parameters are the columns, prefixed `new_`."""
    new_call = (
        postgresql.insert(calls)
        .values({name: bindparam(f"new_{name}", type_=calls.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=_MEETING_KEY, index_where=LIVE_MEETING_CALL)
        .returning(calls.c.id)
        .cte("new_call")
    )
    starter = select(
        new_call.c.id,
        bindparam("new_created_by", type_=calls.c.created_by.type),
        bindparam("new_started_at", type_=calls.c.started_at.type),
        true(),  # calls.add lists the starter
    )
    return (
        insert(participants)
        .from_select(["call_id", "slack_user_id", "joined_at", "in_slack"], starter)
        .returning(participants.c.call_id)
    )


def _as_new(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"new_{name}": value for name, value in values.items()}


def _holder(claimed: Call) -> dict[str, Any]:
    """The parameters of _HELD for the lease this caller claimed."""
    return {"call": claimed.id, "lease": claimed.lease_expires_at}


def upsert_into(engine: Engine, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support, in the engine's database's dialect."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")


def whole_seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))
