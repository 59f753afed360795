"""The calls store: every read and write of calls and participants, as short transactions.

Race safety comes from conditional updates (checking the row count) and unique constraints,
which hold the same on SQLite and PostgreSQL; no transaction is held open across a Slack call.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Exists, and_, case, delete, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from calls_app.db import writing
from calls_app.models import Call, CallState, EndReason, HomeTab, Invitation, Participant

LIVE_STATES = (CallState.ACTIVE, CallState.ENDING)


class Joined(StrEnum):
    FIRST_TIME = "first_time"
    AGAIN = "again"  # had left, is back
    ALREADY_IN = "already_in"


@dataclass(frozen=True)
class NewCall:
    team_id: str
    enterprise_id: str | None
    channel_id: str
    title: str
    join_url: str
    created_by: str
    started_at: datetime


class CallStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory
        self._writing = writing(session_factory)

    # -- reads -------------------------------------------------------------------------------

    def get(self, *, team_id: str, call_id: int) -> Call | None:
        """A call of this workspace, or None: another workspace's call is never visible."""
        with self._sessions() as session:
            return session.scalar(select(Call).where(Call.id == call_id, Call.team_id == team_id))

    def live_calls_in_channel(self, *, team_id: str, channel_id: str) -> Sequence[Call]:
        """Calls in the channel that are live in Slack (active, or being ended), oldest first."""
        with self._sessions() as session:
            return session.scalars(
                select(Call)
                .where(
                    Call.team_id == team_id,
                    Call.channel_id == channel_id,
                    Call.state.in_(LIVE_STATES),
                )
                .order_by(Call.started_at, Call.id)
            ).all()

    def present_user_ids(self, call_id: int) -> list[str]:
        """Slack users in the call now, in the order they joined."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Participant.slack_user_id)
                    .where(
                        Participant.call_id == call_id,
                        Participant.left_at.is_(None),
                        Participant.slack_user_id.is_not(None),
                    )
                    .order_by(Participant.joined_at, Participant.id)
                )
            )

    def calls_user_is_in(self, *, call_ids: Sequence[int], user_id: str) -> list[int]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Participant.call_id).where(
                        Participant.call_id.in_(call_ids),
                        Participant.slack_user_id == user_id,
                        Participant.left_at.is_(None),
                    )
                )
            )

    # -- starting ------------------------------------------------------------------------------

    def create_starting(
        self, new: NewCall, *, lease_until: datetime, invitees: Sequence[str] = ()
    ) -> Call:
        """Write the call before Slack hears of it, so a crash leaves a trace, not a ghost."""
        call = Call(
            team_id=new.team_id,
            enterprise_id=new.enterprise_id,
            channel_id=new.channel_id,
            external_unique_id=str(uuid.uuid4()),
            title=new.title,
            join_url=new.join_url,
            created_by=new.created_by,
            state=CallState.STARTING,
            started_at=new.started_at,
            lease_expires_at=lease_until,
        )
        # The starter is in the call from the start; only live calls are shown to anyone.
        call.participants.append(
            Participant(slack_user_id=new.created_by, joined_at=new.started_at)
        )
        call.invitations = [Invitation(slack_user_id=user) for user in invitees]
        with self._writing() as session:
            session.add(call)
        return call

    def unsent_invitations(self, call_id: int) -> list[str]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Invitation.slack_user_id)
                    .where(
                        Invitation.call_id == call_id,
                        Invitation.sent_at.is_(None),
                        Invitation.failed_error.is_(None),
                    )
                    .order_by(Invitation.id)
                )
            )

    def claim_invitation(
        self, call_id: int, user_id: str, *, now: datetime, lease: timedelta
    ) -> bool:
        """Take the sending of one invitation of a live call; one sender wins."""
        with self._writing() as session:
            result = session.execute(
                update(Invitation)
                .where(
                    Invitation.call_id == call_id,
                    Invitation.slack_user_id == user_id,
                    _invitation_pending(now),
                    select(Call.id)
                    .where(Call.id == call_id, Call.state == CallState.ACTIVE)
                    .exists(),
                )
                .values(attempt_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def record_invitation(
        self, call_id: int, user_id: str, *, sent_at: datetime | None, error: str | None
    ) -> None:
        with self._writing() as session:
            session.execute(
                update(Invitation)
                .where(Invitation.call_id == call_id, Invitation.slack_user_id == user_id)
                .values(sent_at=sent_at, failed_error=error)
                .execution_options(synchronize_session=False)
            )

    def mark_registered(
        self, call_id: int, *, slack_call_id: str, lease: datetime, renewed: datetime
    ) -> bool:
        """calls.add succeeded: the call is live, and its starter's lease is renewed for
        posting the message. False if the starter no longer held the lease (it was too slow,
        and the reconciler gave the start up)."""
        with self._writing() as session:
            result = session.execute(
                update(Call)
                .where(
                    Call.id == call_id,
                    Call.state == CallState.STARTING,
                    Call.lease_expires_at == lease,
                )
                # The lease stays until the message is posted (set_message ends it).
                .values(
                    slack_call_id=slack_call_id, state=CallState.ACTIVE, lease_expires_at=renewed
                )
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def mark_failed(self, call_id: int, *, at: datetime) -> None:
        """Never shown in Slack: the call failed (unless someone ended it meanwhile)."""
        with self._writing() as session:
            failed = session.execute(
                update(Call)
                .where(
                    Call.id == call_id,
                    Call.state.in_((CallState.STARTING, CallState.ACTIVE)),
                    Call.message_ts.is_(None),  # a call shown in Slack did not fail
                )
                .values(state=CallState.FAILED, ended_at=at, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            if failed.rowcount:
                self._leave_all(session, call_id, at=at)

    @staticmethod
    def _leave_all(session: Session, call_id: int, *, at: datetime) -> None:
        session.execute(
            update(Participant)
            .where(Participant.call_id == call_id, Participant.left_at.is_(None))
            .values(left_at=at)
            .execution_options(synchronize_session=False)
        )

    def set_message(self, call_id: int, *, channel_id: str, ts: str) -> Call | None:
        """Record where the call is shown; returns the call as it is now (it may have been
        ended meanwhile, by someone who could not yet know where its message was). None if a
        message was recorded already: this one is a duplicate (a takeover after a slow post)."""
        with self._writing() as session:
            return session.scalars(
                update(Call)
                .where(Call.id == call_id, Call.message_ts.is_(None))
                .values(
                    message_channel_id=channel_id,
                    message_ts=ts,
                    # An active call's start is over; an ender's lease is the ender's.
                    lease_expires_at=case(
                        (Call.state == CallState.ACTIVE, None), else_=Call.lease_expires_at
                    ),
                )
                .returning(Call)
                .execution_options(synchronize_session=False)
            ).one_or_none()

    def claim_posting(self, call_id: int, *, now: datetime, lease: timedelta) -> bool:
        """Take over posting the message of a call whose starter's lease ran out."""
        with self._writing() as session:
            result = session.execute(
                update(Call)
                .where(
                    Call.id == call_id,
                    Call.state == CallState.ACTIVE,
                    Call.message_ts.is_(None),
                    Call.lease_expires_at < now,
                )
                .values(lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    # -- ending --------------------------------------------------------------------------------

    def close_live_calls(self, *, team_id: str, at: datetime, reason: EndReason) -> int:
        """End every live call of a workspace in our records only; returns how many."""
        live = (CallState.STARTING, CallState.ACTIVE, CallState.ENDING)
        with self._writing() as session:
            closed = session.execute(
                update(Call)
                .where(Call.team_id == team_id, Call.state.in_(live))
                .values(
                    state=CallState.ENDED,
                    ended_at=func.coalesce(Call.ended_at, at),
                    end_reason=func.coalesce(Call.end_reason, reason),
                    lease_expires_at=None,
                )
                .returning(Call.id, Call.ended_at)
                .execution_options(synchronize_session=False)
            ).all()
            for call_id, ended_at in closed:
                self._close_participants(session, call_id, ended_at=ended_at)
            return len(closed)

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
        with self._writing() as session:
            return session.scalars(
                update(Call)
                .where(
                    Call.id == call_id,
                    or_(
                        Call.state == CallState.ACTIVE,
                        and_(Call.state == CallState.ENDING, Call.lease_expires_at < now),
                    ),
                    # "Everyone left" must still be true when the claim is made.
                    ~_someone_present() if only_if_empty else true(),
                )
                .values(
                    state=CallState.ENDING,
                    lease_expires_at=now + lease,
                    ended_at=func.coalesce(Call.ended_at, now),
                    ended_by=func.coalesce(Call.ended_by, by),
                    end_reason=func.coalesce(Call.end_reason, reason),
                )
                .returning(Call)
                .execution_options(synchronize_session=False)
            ).one_or_none()

    def release_ending(self, claimed: Call, *, now: datetime) -> None:
        """calls.end failed: the call stays live, as if nobody had pressed End — unless the
        lease was lost to someone else meanwhile, whose end this is now."""
        with self._writing() as session:
            session.execute(
                update(Call)
                .where(*_held(claimed))
                .values(
                    state=CallState.ACTIVE,
                    # A call whose message was never posted stays up for the reconciler to post.
                    lease_expires_at=case((Call.message_ts.is_(None), now), else_=None),
                    ended_at=None,
                    ended_by=None,
                    end_reason=None,
                )
                .execution_options(synchronize_session=False)
            )

    def mark_ended(self, claimed: Call) -> Call | None:
        """Slack confirmed the end; close the call and everyone's presence in it. None if the
        lease was lost meanwhile (the one who took it over records the end)."""
        assert claimed.ended_at is not None
        with self._writing() as session:
            ended = session.scalars(
                update(Call)
                .where(*_held(claimed))
                .values(
                    state=CallState.ENDED,
                    lease_expires_at=None,
                    duration_seconds=whole_seconds(claimed.ended_at - claimed.started_at),
                )
                .returning(Call)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if ended is not None:
                self._close_participants(session, claimed.id, ended_at=claimed.ended_at)
            return ended

    @staticmethod
    def _close_participants(session: Session, call_id: int, *, ended_at: datetime) -> None:
        """Everyone still in an ended call leaves when it ended; every row learns the end."""
        session.execute(
            update(Participant)
            .where(Participant.call_id == call_id)
            .values(left_at=func.coalesce(Participant.left_at, ended_at), call_ended_at=ended_at)
            .execution_options(synchronize_session=False)
        )

    # -- what the reconciler looks for --------------------------------------------------------

    def reconcile_candidates(
        self,
        *,
        now: datetime,
        max_age: timedelta,
        empty_grace: timedelta,
        invite_grace: timedelta,
        limit: int,
    ) -> ReconcileCandidates:
        """Calls that need the app to act by itself, each list oldest first and LIMITed."""
        lease_over = and_(Call.lease_expires_at.is_not(None), Call.lease_expires_at < now)
        last_left = (
            select(func.max(Participant.left_at))
            .where(Participant.call_id == Call.id)
            .scalar_subquery()
        )
        active = Call.state == CallState.ACTIVE
        with self._sessions() as session:

            def calls_where(*conditions: object, order: object = Call.started_at) -> list[Call]:
                return list(
                    session.scalars(select(Call).where(*conditions).order_by(order).limit(limit))
                )

            return ReconcileCandidates(
                stuck_starting=calls_where(Call.state == CallState.STARTING, lease_over),
                unposted=calls_where(active, Call.message_ts.is_(None), lease_over),
                interrupted_ends=calls_where(Call.state == CallState.ENDING, lease_over),
                overlong=calls_where(active, Call.started_at < now - max_age),
                empty=calls_where(
                    active,
                    Call.message_ts.is_not(None),
                    ~_someone_present(),
                    last_left < now - empty_grace,
                ),
                uninvited=calls_where(
                    active,
                    Call.message_ts.is_not(None),
                    Call.started_at < now - invite_grace,
                    select(Invitation.id)
                    .where(Invitation.call_id == Call.id, _invitation_pending(now))
                    .exists(),
                ),
                outdated_messages=calls_where(
                    Call.message_outdated.is_(True),
                    Call.message_ts.is_not(None),
                    Call.state.in_((CallState.ACTIVE, CallState.ENDED)),
                ),
                # A sample, not the oldest: every live call gets checked over a few passes.
                live=calls_where(active, Call.message_ts.is_not(None), order=func.random()),
            )

    def abandon_start(self, call_id: int, *, now: datetime) -> bool:
        """A start whose process died before Slack answered: nothing to show, so it failed."""
        with self._writing() as session:
            result = session.execute(
                update(Call)
                .where(
                    Call.id == call_id,
                    Call.state == CallState.STARTING,
                    Call.lease_expires_at < now,
                )
                .values(state=CallState.FAILED, ended_at=now, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                self._leave_all(session, call_id, at=now)
            return result.rowcount == 1

    def mark_message_outdated(self, call_id: int) -> None:
        with self._writing() as session:
            session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(message_outdated=True)
                .execution_options(synchronize_session=False)
            )

    def mark_message_current(self, shown: Call) -> None:
        """The message shows `shown`: unless the call changed since, it is current."""
        with self._writing() as session:
            session.execute(
                update(Call)
                .where(Call.id == shown.id, Call.state == shown.state, Call.title == shown.title)
                .values(message_outdated=False)
                .execution_options(synchronize_session=False)
            )

    # -- renaming ------------------------------------------------------------------------------

    def set_title(self, call_id: int, title: str) -> Call | None:
        """Rename a live call; None if it is no longer active."""
        with self._writing() as session:
            return session.scalars(
                update(Call)
                .where(Call.id == call_id, Call.state == CallState.ACTIVE)
                .values(title=title)
                .returning(Call)
                .execution_options(synchronize_session=False)
            ).one_or_none()

    # -- participants --------------------------------------------------------------------------

    def add_participant(self, call_id: int, *, user_id: str, at: datetime) -> Joined:
        """Register the person once, however many Join clicks race."""
        with self._writing() as session:
            inserted = session.execute(
                upsertable_insert(session, Participant)
                .values(call_id=call_id, slack_user_id=user_id, joined_at=at)
                .on_conflict_do_nothing(index_elements=["call_id", "slack_user_id"])
                .returning(Participant.id)
            ).first()
            if inserted is not None:
                return Joined.FIRST_TIME
            rejoined = session.execute(
                update(Participant)
                .where(
                    Participant.call_id == call_id,
                    Participant.slack_user_id == user_id,
                    Participant.left_at.is_not(None),
                )
                .values(left_at=None, joined_at=at)
                .execution_options(synchronize_session=False)
            )
            return Joined.AGAIN if rejoined.rowcount == 1 else Joined.ALREADY_IN

    def undo_join(self, call_id: int, *, user_id: str, joined: Joined, at: datetime) -> None:
        """Slack refused the join: forget this join and only this one. (The call may have
        ended, and closed the row, meanwhile.)"""
        this_join = (
            Participant.call_id == call_id,
            Participant.slack_user_id == user_id,
            Participant.joined_at == at,
        )
        with self._writing() as session:
            if joined == Joined.FIRST_TIME:
                session.execute(delete(Participant).where(*this_join))
            else:  # keep their earlier time in the call; this one lasted no time
                session.execute(
                    update(Participant)
                    .where(*this_join)
                    .values(left_at=at)
                    .execution_options(synchronize_session=False)
                )

    def mark_left(self, call_id: int, *, user_id: str, at: datetime) -> bool:
        """True if the person was in the call and now is not."""
        with self._writing() as session:
            result = session.execute(
                update(Participant)
                .where(
                    Participant.call_id == call_id,
                    Participant.slack_user_id == user_id,
                    Participant.left_at.is_(None),
                )
                .values(left_at=at)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def undo_leave(self, call_id: int, *, user_id: str, left_at: datetime) -> None:
        with self._writing() as session:
            session.execute(
                update(Participant)
                .where(
                    Participant.call_id == call_id,
                    Participant.slack_user_id == user_id,
                    Participant.left_at == left_at,
                )
                .values(left_at=None)
            )


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

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory
        self._writing = writing(session_factory)
        self._teams_with_homes: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def calls_for(
        self, *, team_id: str, user_id: str, active_limit: int, recent_limit: int
    ) -> HomeCalls:
        with self._sessions() as session:
            started = session.scalars(
                select(Call)
                .where(
                    Call.team_id == team_id,
                    Call.created_by == user_id,
                    Call.state.in_(LIVE_STATES),
                )
                .order_by(Call.started_at.desc())
                .limit(active_limit + 1)
            ).all()
            joined = session.scalars(
                select(Call)
                .join(Participant, Participant.call_id == Call.id)
                .where(
                    Participant.slack_user_id == user_id,
                    Participant.left_at.is_(None),
                    Participant.call_ended_at.is_(None),
                    Call.team_id == team_id,
                    Call.state.in_(LIVE_STATES),
                )
                .order_by(Call.started_at.desc())
                .limit(active_limit + 1)
            ).all()
            recent = session.scalars(
                select(Call)
                .join(Participant, Participant.call_id == Call.id)
                .where(
                    Participant.slack_user_id == user_id,
                    Participant.call_ended_at.is_not(None),
                    Call.team_id == team_id,
                )
                .order_by(Participant.call_ended_at.desc())
                .limit(recent_limit)
            ).all()
            active = sorted(
                {c.id: c for c in [*started, *joined]}.values(),
                key=lambda c: c.started_at,
                reverse=True,
            )
            shown = [*active[:active_limit], *recent]
            counts = session.execute(
                select(
                    Participant.call_id,
                    func.count(),
                    func.count().filter(Participant.left_at.is_(None)),
                )
                .where(Participant.call_id.in_([c.id for c in shown]))
                .group_by(Participant.call_id)
            ).all()
        return HomeCalls(
            active=active[:active_limit],
            more_active=len(active) > active_limit,
            recent=list(recent),
            present={call_id: present for call_id, _, present in counts},
            took_part={call_id: total for call_id, total, _ in counts},
        )

    def last_channel(self, *, team_id: str, user_id: str) -> str | None:
        """The channel of the last call the person was in: the start modal's default."""
        with self._sessions() as session:
            return session.scalar(
                select(Call.channel_id)
                .join(Participant, Participant.call_id == Call.id)
                .where(Participant.slack_user_id == user_id, Call.team_id == team_id)
                .order_by(Participant.joined_at.desc())
                .limit(1)
            )

    def record_opened(self, *, team_id: str, user_id: str, at: datetime) -> None:
        with self._writing() as session:
            statement = upsertable_insert(session, HomeTab).values(
                team_id=team_id, user_id=user_id, opened_at=at
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["team_id", "user_id"], set_={"opened_at": at}
                )
            )
        self._remember_team(team_id, has_homes=True)

    def _team_has_homes(self, team_id: str) -> bool:
        """Whether anyone in the workspace ever opened Home; most changes need not look further.
        Another instance may learn of a first Home up to TEAM_HOMES_TTL_SECONDS late."""
        with self._lock:
            known = self._teams_with_homes.get(team_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        with self._sessions() as session:
            has_homes = session.scalar(
                select(HomeTab.user_id).where(HomeTab.team_id == team_id).limit(1)
            )
        self._remember_team(team_id, has_homes=has_homes is not None)
        return has_homes is not None

    def _remember_team(self, team_id: str, *, has_homes: bool) -> None:
        with self._lock:
            self._teams_with_homes[team_id] = (
                has_homes,
                time.monotonic() + self.TEAM_HOMES_TTL_SECONDS,
            )

    def watchers_of(self, call: Call, *, also: str) -> list[str]:
        """People whose Home shows this call (its starter, anyone who was in it) and who have
        opened Home: a Home never opened has no stale view to refresh."""
        if not self._team_has_homes(call.team_id):
            return []
        people = select(Participant.slack_user_id).where(Participant.call_id == call.id)
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(HomeTab.user_id)
                    .where(
                        HomeTab.team_id == call.team_id,
                        or_(
                            HomeTab.user_id.in_(sorted({call.created_by, also})),
                            HomeTab.user_id.in_(people),
                        ),
                    )
                    .order_by(HomeTab.user_id)
                )
            )


def _invitation_pending(now: datetime) -> ColumnElement[bool]:
    """Not sent, not refused, and nobody is sending it right now."""
    return and_(
        Invitation.sent_at.is_(None),
        Invitation.failed_error.is_(None),
        or_(Invitation.attempt_until.is_(None), Invitation.attempt_until < now),
    )


def _someone_present() -> Exists:
    return (
        select(Participant.id)
        .where(Participant.call_id == Call.id, Participant.left_at.is_(None))
        .exists()
    )


def _held(claimed: Call) -> tuple[ColumnElement[bool], ...]:
    """The call is still being ended under the lease this caller claimed."""
    return (
        Call.id == claimed.id,
        Call.state == CallState.ENDING,
        Call.lease_expires_at == claimed.lease_expires_at,
    )


def upsertable_insert(session: Session, model: type) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support, in the session's database's dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database {dialect}")


def whole_seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))
