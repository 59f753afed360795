"""EndingStore: ending calls, one by its ender (claim, then release or mark ended) or all of a
workspace's at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, String, and_, bindparam, case, func, or_, update

from calls_app import metrics
from calls_app.clock import whole_seconds
from calls_app.db import writing
from calls_app.models import Call, CallState, EndReason
from calls_app.store.dialect import dialect_of
from calls_app.store.statements import (
    CLOSE_PARTICIPANTS,
    HELD,
    call_of,
    calls,
    holder,
    moment,
    someone_present,
    state_is,
)


class EndingStore:
    def __init__(self, engine: Engine) -> None:
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        self._dialect = dialect_of(engine)

    _CLOSE_LIVE_CALLS = (
        update(calls)
        .where(state_is(CallState.STARTING, CallState.ACTIVE, CallState.ENDING))
        .values(
            state=CallState.ENDED,
            ended_at=func.coalesce(calls.c.ended_at, moment("at")),
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
        """End a workspace's (no team: an organization's) live calls, in our records only."""
        where: dict[str, str | None]
        if team_id is not None:
            statement, where = self._CLOSE_LIVE_CALLS_OF_TEAM, {"team": team_id}
        else:
            statement, where = self._CLOSE_LIVE_CALLS_OF_ORG, {"enterprise": enterprise_id}
        with self._writing() as db:
            closed = db.execute(statement, {**where, "at": at, "reason": reason}).all()
            for call_id, ended_at in closed:
                db.execute(CLOSE_PARTICIPANTS, {"call": call_id, "ended": ended_at})
        metrics.calls_ended.labels(reason.value).inc(len(closed))
        return len(closed)

    _CLAIM_ENDING = (
        update(calls)
        .where(
            calls.c.id == bindparam("call"),
            or_(
                calls.c.state == CallState.ACTIVE,
                and_(calls.c.state == CallState.ENDING, calls.c.lease_expires_at < moment("now")),
            ),
        )
        .values(
            state=CallState.ENDING,
            lease_expires_at=moment("until"),
            ended_at=func.coalesce(calls.c.ended_at, moment("now")),
            ended_by=func.coalesce(calls.c.ended_by, bindparam("by", type_=String())),
            end_reason=func.coalesce(
                calls.c.end_reason, bindparam("reason", type_=calls.c.end_reason.type)
            ),
        )
        .returning(*calls.c)
    )
    # "Everyone left" must still be true when the claim is made.
    _CLAIM_ENDING_IF_EMPTY = _CLAIM_ENDING.where(~someone_present())

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
        """Claim the ending lease (see docs/glossary.md): one racer wins and gets the call."""
        claim = self._CLAIM_ENDING_IF_EMPTY if only_if_empty else self._CLAIM_ENDING
        with self._writing_one() as db:
            row = db.execute(
                claim,
                {"call": call_id, "by": by, "reason": reason, "now": now, "until": now + lease},
            ).one_or_none()
        return None if row is None else call_of(row)

    _RELEASE_ENDING = (
        update(calls)
        .where(*HELD)
        .values(
            state=CallState.ACTIVE,
            # A call whose message was never posted stays up for the reconciler to post; a
            # pasted link's call has none to post.
            lease_expires_at=case(
                (and_(calls.c.message_ts.is_(None), ~calls.c.shown_by_unfurl), moment("now")),
                else_=None,
            ),
            ended_at=None,
            ended_by=None,
            end_reason=None,
        )
    )

    def release_ending(self, claimed: Call, *, now: datetime) -> None:
        """calls.end failed: the call stays live, unless the ending lease went to someone else."""
        with self._writing_one() as db:
            db.execute(self._RELEASE_ENDING, {**holder(claimed), "now": now})

    def mark_ended(self, claimed: Call) -> Call | None:
        """Slack confirmed the end: close the call and its people; None if the lease was lost."""
        assert claimed.ended_at is not None
        values = {
            **holder(claimed),
            "duration": whole_seconds(claimed.ended_at - claimed.started_at),
            "ended": claimed.ended_at,
        }
        row = self._dialect.end_call(values)
        if row is None:
            return None
        metrics.calls_ended.labels(row.end_reason).inc()
        return call_of(row)
