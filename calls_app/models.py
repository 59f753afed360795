"""A channel's calls and their participants, as typed SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from calls_app.db import Base, UtcDateTime


class CallState(StrEnum):
    """A call's life, with who may move it on: docs/glossary.md#a-calls-states."""

    STARTING = "starting"  # row written, calls.add not confirmed yet
    ACTIVE = "active"  # registered in Slack; the message may still be unposted
    ENDING = "ending"  # someone holds the lease to send calls.end
    ENDED = "ended"
    FAILED = "failed"  # calls.add or the first message failed; nothing live in Slack


class EndReason(StrEnum):
    """Why a call ended, for the call message and for the record."""

    PERSON = "person"  # someone pressed End or typed /call end
    MAX_DURATION = "max_duration"  # ran past CALLS_MAX_DURATION
    EMPTY = "empty"  # everyone left and the grace period passed
    SLACK = "slack"  # Slack already had it ended (found by the reconciler)
    UNINSTALLED = "uninstalled"  # the workspace removed the app
    PROVIDER = "provider"  # the video provider said the meeting ended


# A meeting's call in one of these states is live: a second one for the meeting is refused.
MEETING_LIVE_STATES = (CallState.STARTING, CallState.ACTIVE, CallState.ENDING)
_LIVE = ", ".join(f"'{state}'" for state in MEETING_LIVE_STATES)
LIVE_MEETING_CALL = text(f"meeting_id IS NOT NULL AND state IN ({_LIVE})")


def _stored_as_text(values: type[StrEnum]) -> Enum:
    """An enum kept as its string values in a VARCHAR, the same on SQLite and PostgreSQL."""
    return Enum(
        values,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_team_channel_state", "team_id", "channel_id", "state"),
        # Home's "calls you started that are live", without walking the ended ones.
        Index(
            "ix_calls_team_creator_state_started", "team_id", "created_by", "state", "started_at"
        ),
        # Calls over long enough to delete (CALLS_HISTORY_DAYS), and the live ones /metrics counts.
        Index("ix_calls_state_ended_at", "state", "ended_at"),
        # A provider's webhook names its meeting: find the call it belongs to.
        Index("ix_calls_meeting_id_state", "meeting_id", "state"),
        # One live call per meeting and workspace, however many instances register it at once.
        Index(
            "uq_calls_team_id_meeting_id_live",
            "team_id",
            "meeting_id",
            unique=True,
            postgresql_where=LIVE_MEETING_CALL,
            sqlite_where=LIVE_MEETING_CALL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    slack_call_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    external_unique_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    join_url: Mapped[str] = mapped_column(Text)
    # The provider's name for the meeting ("zoom:8501234567", "jitsi:calls-…"), for presence.
    meeting_id: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(32))
    state: Mapped[CallState] = mapped_column(_stored_as_text(CallState))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(32))
    end_reason: Mapped[EndReason | None] = mapped_column(_stored_as_text(EndReason))
    duration_seconds: Mapped[int | None]
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Registered for a pasted meeting link: its unfurls show it, it has no message of its own.
    shown_by_unfurl: Mapped[bool] = mapped_column(default=False, server_default=false())
    # An update of the message failed: the reconciler renders it again from the call's state.
    message_outdated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Until when the holder of a start, post or end alone may finish it (a lease: docs/glossary.md).
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The reconciler's failures on this call in a row; it waits until reconcile_after to retry.
    reconcile_failures: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    reconcile_after: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (
        # One row per person per call: concurrent Join clicks collide here, not in Slack.
        UniqueConstraint("call_id", "slack_user_id"),
        UniqueConstraint("call_id", "external_id"),
        CheckConstraint("(slack_user_id IS NULL) <> (external_id IS NULL)", name="one_identity"),
        Index("ix_participants_slack_user_id_call_id", "slack_user_id", "call_id"),
        # Home's "recent calls": a person's newest ended calls straight off an index.
        Index("ix_participants_slack_user_id_call_ended_at", "slack_user_id", "call_ended_at"),
        Index("ix_participants_slack_user_id_joined_at", "slack_user_id", "joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # Where in the meeting the provider last saw them ("" main room, else a breakout room):
    # a leave from a room they already moved out of is not a leave from the call.
    meeting_part: Mapped[str | None] = mapped_column(String(255))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The call's end, copied here when it ends, so Home can list recent calls by index alone.
    call_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Whether Slack's call lists this person now: the outbox brings Slack in step with
    # left_at, many people per request (see calls_app/participant_sync.py).
    in_slack: Mapped[bool] = mapped_column(default=False, server_default=false())


class Invitation(Base):
    """Someone the starter mentioned: written with the call, so a crash can't lose the DM."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("call_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_error: Mapped[str | None] = mapped_column(String(64))  # Slack refused: not retried
    # Who is sending it holds it until then, so a slow starter and the reconciler don't both.
    attempt_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HomeTab(Base):
    """Who has opened the app's Home tab: only their views go stale when a call changes."""

    __tablename__ = "home_tabs"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxItem(Base):
    """An outbox item (docs/glossary.md): a run that told Slack sets `done_generation`, and
    the row stays to keep the next run at least an interval away."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[int | None]
    user_id: Mapped[str | None] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    done_generation: Mapped[int] = mapped_column(default=-1, server_default="-1")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Wall-clock scheduling (not the app's clock): when it may run next, until when a claim holds.
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SlackDelivery(Base):
    """A request from Slack already acted on: a repeat of it (a retry) is not acted on again."""

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
