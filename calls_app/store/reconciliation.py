"""ReconcileStore: what the reconciler looks for and its backing off, retention, and the live
call count /metrics shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, func, or_, select, update

from calls_app.db import autocommitting, writing
from calls_app.models import Call, CallState
from calls_app.records import ReconcileCandidates
from calls_app.store.statements import (
    LIVE_STATES,
    calls,
    calls_of,
    invitation_pending,
    invitations,
    moment,
    participants,
    someone_present,
    state_is,
)


class ReconcileStore:
    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing_one = writing(engine, one_statement=True)

    # -- retention, and what /metrics shows --------------------------------------------------

    # Off the index (state, ended_at): the oldest over calls first, a bounded batch.
    _OLD_CALLS = (
        select(calls.c.id)
        .where(state_is(CallState.ENDED, CallState.FAILED), calls.c.ended_at < moment("before"))
        .order_by(calls.c.ended_at)
        .limit(bindparam("limit"))
    )
    # Their participants and invitations go with them (ON DELETE CASCADE).
    _DELETE_OLD_CALLS = delete(calls).where(calls.c.id.in_(_OLD_CALLS.scalar_subquery()))

    def delete_old_calls(self, *, ended_before: datetime, limit: int) -> int:
        """Delete up to `limit` calls over before `ended_before`, with their rows; how many."""
        with self._writing_one() as db:
            deleted = db.execute(self._DELETE_OLD_CALLS, {"before": ended_before, "limit": limit})
            return deleted.rowcount

    _LIVE_COUNT = select(func.count()).where(state_is(CallState.STARTING, *LIVE_STATES))

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
        """Calls the app must act on by itself, each list LIMITed, those backed off left out.
        Unfurled calls (no message of their own) are checked for drift, and end when empty
        only where meetings report `presence`: nothing else can say anyone is in them."""
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
        unfurled = calls.c.shown_by_unfurl
        shown_anyhow = or_(shown, unfurled)
        due = or_(calls.c.reconcile_after.is_(None), calls.c.reconcile_after <= now)
        with self._reading() as db:
            # In turns across workspaces (each one's oldest, then each one's second oldest...):
            # no workspace's backlog keeps another's calls waiting.
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
                return calls_of(db.execute(query, {"now": now}))  # :now of pending invitations

            return ReconcileCandidates(
                stuck_starting=calls_where(calls.c.state == CallState.STARTING, lease_over),
                # Its unfurls show a pasted link's call: it has no message to post.
                unposted=calls_where(active, calls.c.message_ts.is_(None), ~unfurled, lease_over),
                interrupted_ends=calls_where(calls.c.state == CallState.ENDING, lease_over),
                overlong=calls_where(active, calls.c.started_at < now - max_age),
                empty=calls_where(
                    active,
                    shown_anyhow if presence else shown,
                    ~someone_present(),
                    last_left < now - empty_grace,
                ),
                uninvited=calls_where(
                    active,
                    shown,
                    calls.c.started_at < now - invite_grace,
                    select(invitations.c.id)
                    .where(invitations.c.call_id == calls.c.id, invitation_pending())
                    .exists(),
                ),
                outdated_messages=calls_where(
                    calls.c.message_outdated.is_(True),
                    shown,
                    state_is(CallState.ACTIVE, CallState.ENDED),
                ),
                # A sample, not the oldest: every live call gets checked over a few passes.
                live=calls_where(active, shown_anyhow, sample=True),
            )

    _BACK_OFF = (
        update(calls)
        .where(calls.c.id == bindparam("call"))
        .values(reconcile_failures=bindparam("failures"), reconcile_after=moment("after"))
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
