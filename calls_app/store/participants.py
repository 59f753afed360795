"""ParticipantStore: who is in a call, whether Slack's call lists them, and the invitations
sent to join it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, String, bindparam, case, or_, select, update

from calls_app import metrics
from calls_app.db import autocommitting, writing
from calls_app.models import CallState
from calls_app.records import Attendee, Joined
from calls_app.store.dialect import upsert_into
from calls_app.store.statements import (
    calls,
    invitation_pending,
    invitations,
    moment,
    participants,
)


class ParticipantStore:
    def __init__(self, engine: Engine) -> None:
        self._reading = autocommitting(engine).connect
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        self._join_once = (
            upsert_into(engine, participants)
            .values(
                call_id=bindparam("call"), slack_user_id=bindparam("user"), joined_at=moment("at")
            )
            .on_conflict_do_nothing(index_elements=["call_id", "slack_user_id"])
            .returning(participants.c.id)
        )

    # -- who is in a call ----------------------------------------------------------------------

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

    _REJOIN = (
        update(participants)
        .where(
            participants.c.call_id == bindparam("call"),
            participants.c.slack_user_id == bindparam("user"),
            participants.c.left_at.is_not(None),
        )
        .values(left_at=None, joined_at=moment("at"))
    )

    # Held until the join commits: an end can't begin between the check and the join.
    _LOCK_STATE = (
        select(calls.c.state).where(calls.c.id == bindparam("call")).with_for_update(read=True)
    )

    def add_participant(self, call_id: int, *, user_id: str, at: datetime) -> Joined | None:
        """Register the person once, however many Joins race; None if the call isn't active."""
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
        .values(left_at=moment("at"))
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

    def out_of_step(self, call_id: int, *, limit: int) -> tuple[list[Attendee], list[Attendee]]:
        """(people in the call Slack doesn't list, people Slack lists who left), `limit` at most."""
        with self._reading() as db:
            rows = db.execute(self._OUT_OF_STEP, {"call": call_id, "limit": limit}).all()
        people = [
            (Attendee(r.slack_user_id, r.external_id, r.display_name, r.avatar_url), r.present)
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

    def set_in_slack(self, call_id: int, people: Sequence[Attendee], *, listed: bool) -> None:
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

    # -- invitations ---------------------------------------------------------------------------

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
            invitation_pending(),
            select(calls.c.id)
            .where(calls.c.id == bindparam("call"), calls.c.state == CallState.ACTIVE)
            .exists(),
        )
        .values(attempt_until=moment("until"))
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
        .values(sent_at=moment("sent"), failed_error=bindparam("error", type_=String()))
    )

    def record_invitation(
        self, call_id: int, user_id: str, *, sent_at: datetime | None, error: str | None
    ) -> None:
        with self._writing_one() as db:
            db.execute(
                self._RECORD_INVITATION,
                {"call": call_id, "user": user_id, "sent": sent_at, "error": error},
            )
