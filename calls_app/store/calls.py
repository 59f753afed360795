"""CallStore: one call's life from its start to its message being shown, and its renaming.

Statements are SQLAlchemy Core, built once (class attributes, values as bind parameters) and
run on a `Connection`: building a statement and the ORM's unit of work cost SQLAlchemy several
times what the database takes to run it (see BENCHMARKS.md). Race safety comes from conditional
updates (checking the row count) and unique constraints; no transaction is held open across a
Slack call. Calls come back as `Call` objects that belong to no session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, bindparam, case, func, or_, select, update

from calls_app import metrics
from calls_app.db import autocommitting, writing
from calls_app.models import Call, CallState
from calls_app.records import NewCall
from calls_app.store.dialect import dialect_of
from calls_app.store.statements import (
    LIVE_STATES,
    call_from,
    call_of,
    calls,
    calls_of,
    moment,
    participants,
    state_is,
)


class MeetingHasLiveCall(Exception):
    """The meeting already has a live call in the workspace: a second one was not written."""


class CallStore:
    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        self._dialect = dialect_of(engine)

    # -- reads -------------------------------------------------------------------------------

    _GET = select(calls).where(
        calls.c.id == bindparam("call"), calls.c.team_id == bindparam("team")
    )

    def get(self, *, team_id: str, call_id: int) -> Call | None:
        """A call of this workspace, or None: another workspace's call is never visible."""
        with self._reading() as db:
            row = db.execute(self._GET, {"call": call_id, "team": team_id}).one_or_none()
        return None if row is None else call_of(row)

    _LIVE_IN_CHANNEL = (
        select(calls)
        .where(
            calls.c.team_id == bindparam("team"),
            calls.c.channel_id == bindparam("channel"),
            state_is(*LIVE_STATES),
        )
        .order_by(calls.c.started_at, calls.c.id)
    )

    def live_calls_in_channel(self, *, team_id: str, channel_id: str) -> list[Call]:
        """Calls in the channel that are live in Slack (active, or being ended), oldest first."""
        with self._reading() as db:
            return calls_of(
                db.execute(self._LIVE_IN_CHANNEL, {"team": team_id, "channel": channel_id})
            )

    # Starting calls count too, so a burst of starts can't slip past the limits.
    _RUNNING = state_is(CallState.STARTING, *LIVE_STATES)
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
        """Calls not over yet in the channel, and started by the person (one index each)."""
        with self._reading() as db:
            in_channel, by_person = db.execute(
                self._RUNNING_COUNTS, {"team": team_id, "channel": channel_id, "user": user_id}
            ).one()
        return in_channel, by_person

    # -- starting ------------------------------------------------------------------------------

    def create_starting(
        self,
        new: NewCall,
        *,
        lease_until: datetime,
        invitees: Sequence[str] = (),
        starter_in_call: bool = True,
    ) -> Call:
        """Write the call before Slack hears of it, so a crash leaves a trace, not a ghost.
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
            "shown_by_unfurl": new.shown_by_unfurl,
            "lease_expires_at": lease_until,
            "message_outdated": False,
        }
        # The starter is in the call from the start; only live calls are shown to anyone.
        # A call registered for a pasted meeting link has nobody in it yet.
        if starter_in_call:
            call_id = self._dialect.start_call(values, invitees)
        else:
            call_id = self._dialect.register_call(values, invitees)
        if call_id is None:
            raise MeetingHasLiveCall(new.meeting_id)
        return call_from({"id": call_id, **values})

    _MARK_REGISTERED = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.STARTING,
            calls.c.lease_expires_at == moment("lease"),
        )
        # The lease stays until the message is posted (set_message ends it).
        .values(
            slack_call_id=bindparam("slack_call"),
            state=CallState.ACTIVE,
            lease_expires_at=moment("renewed"),
        )
    )

    def mark_registered(
        self, call_id: int, *, slack_call_id: str, lease: datetime, renewed: datetime | None
    ) -> bool:
        """calls.add succeeded: the call is live; False if the starter had lost its lease."""
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
            state_is(CallState.STARTING, CallState.ACTIVE),
            calls.c.message_ts.is_(None),  # a call shown in Slack did not fail
        )
        .values(state=CallState.FAILED, ended_at=moment("at"), lease_expires_at=None)
    )
    _LEAVE_ALL = (
        update(participants)
        .where(participants.c.call_id == bindparam("call"), participants.c.left_at.is_(None))
        .values(left_at=moment("at"))
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
            state_is(CallState.ENDING, CallState.ENDED),
            and_(
                calls.c.state == CallState.ACTIVE,
                or_(calls.c.lease_expires_at.is_(None), calls.c.lease_expires_at < moment("now")),
            ),
        )
    )

    def set_message(
        self, call_id: int, *, channel_id: str, ts: str, adopted_at: datetime | None = None
    ) -> Call | None:
        """Record (or, with `adopted_at`, adopt) where the call is shown; None if a duplicate."""
        statement, values = self._SET_MESSAGE, {"call": call_id, "channel": channel_id, "ts": ts}
        if adopted_at is not None:
            statement, values = self._ADOPT_MESSAGE, {**values, "now": adopted_at}
        with self._writing_one() as db:
            row = db.execute(statement, values).one_or_none()
        return None if row is None else call_of(row)

    # A registered call not shown yet, its poster's lease set to `until`.
    _LEASE_UNPOSTED = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.ACTIVE,
            calls.c.message_ts.is_(None),
        )
        .values(lease_expires_at=moment("until"))
    )
    _CLAIM_POSTING = _LEASE_UNPOSTED.where(calls.c.lease_expires_at < moment("now"))

    def claim_posting(self, call_id: int, *, now: datetime, lease: timedelta) -> datetime | None:
        """Take over posting a call's message (see docs/glossary.md); the lease's end, or None."""
        until = now + lease
        with self._writing_one() as db:
            result = db.execute(self._CLAIM_POSTING, {"call": call_id, "now": now, "until": until})
            return until if result.rowcount == 1 else None

    _HOLD_UNPOSTED = _LEASE_UNPOSTED.where(calls.c.lease_expires_at == moment("lease"))

    def hold_unposted(self, call_id: int, *, lease: datetime | None, until: datetime) -> bool:
        """Hold an unposted call's poster lease while withdrawing it (see docs/glossary.md)."""
        with self._writing_one() as db:
            result = db.execute(
                self._HOLD_UNPOSTED, {"call": call_id, "lease": lease, "until": until}
            )
            return result.rowcount == 1

    _ABANDON_START = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            calls.c.state == CallState.STARTING,
            calls.c.lease_expires_at < moment("at"),
        )
        .values(state=CallState.FAILED, ended_at=moment("at"), lease_expires_at=None)
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
        return None if row is None else call_of(row)
