"""Errors a user can act on. The service raises them; the listeners render them once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from calls_app import wording
from calls_app.block_ids import BlockId

if TYPE_CHECKING:
    from calls_app.models import Call
    from calls_app.records import Verb


class CallsError(Exception):
    """An error whose message is shown to the person who acted. In a modal it goes under the
    input block `field` (None: the modal's first), worded as `field_message` (plain text)."""

    field: BlockId | None = None

    def __init__(self, user_message: str, *, field_message: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.field_message = field_message or user_message


class Busy(CallsError):
    """This process has more work waiting than it takes on: nothing was done."""

    def __init__(self) -> None:
        super().__init__(wording.BUSY)


class UsageError(CallsError):
    """The command text could not be understood."""


class NoTitle(UsageError):
    field = BlockId.TITLE

    def __init__(self) -> None:
        super().__init__(wording.NEEDS_TITLE)


class NoChannel(UsageError):
    field = BlockId.CHANNEL

    def __init__(self) -> None:
        super().__init__(wording.PICK_A_CHANNEL)


class TooManyInvitees(UsageError):
    field = BlockId.PEOPLE

    def __init__(self, limit: int) -> None:
        super().__init__(wording.too_many_invitees(limit))


class NoLiveCall(CallsError):
    def __init__(self) -> None:
        super().__init__(wording.NO_LIVE_CALL)


class CallNotFound(CallsError):
    def __init__(self) -> None:
        super().__init__(wording.CALL_NOT_FOUND)


class MeetingAlreadyLive(CallsError):
    """The link given names a meeting that is a live call in the workspace already."""

    def __init__(self) -> None:
        super().__init__(wording.MEETING_ALREADY_LIVE)


class CallNeverStarted(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(wording.call_never_started(title))


class CallStillStarting(CallsError):
    def __init__(self) -> None:
        super().__init__(wording.CALL_STILL_STARTING)


class CallAlreadyEnded(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(wording.call_already_ended(title))


class CallBeingEnded(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(wording.call_being_ended(title))


class NotAllowed(CallsError):
    def __init__(self, verb: Verb) -> None:
        super().__init__(wording.not_allowed(verb))


class TooManyCalls(CallsError):
    """A start would take the channel's or the person's running calls past their limit."""

    @classmethod
    def in_channel(cls, limit: int) -> TooManyCalls:
        return cls(wording.too_many_in_channel(limit))

    @classmethod
    def by_person(cls, limit: int) -> TooManyCalls:
        return cls(wording.too_many_by_person(limit))


class NotInCall(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(wording.not_in_call(title))


class ChooseCall(CallsError):
    """Several calls fit; the person picks one instead of the app guessing."""

    def __init__(self, verb: Verb, calls: Sequence[Call], title: str | None = None) -> None:
        super().__init__(wording.which_call(verb))
        self.verb = verb
        self.calls = list(calls)
        self.title = title


class SlackFailure(CallsError):
    """Slack refused or could not be reached; the log names the method and error."""

    def __init__(
        self, method: str, error: str, user_message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(user_message)
        self.method = method
        self.error = error
        self.retry_after = retry_after  # seconds, when Slack (or our pacing) says when to retry

    @property
    def transient(self) -> bool:
        """Worth trying again later: Slack was unreachable, overloaded or rate-limiting."""
        return self.error in ("unreachable", "ratelimited") or self.error.startswith("http_5")


class CannotPostInChannel(CallsError):
    """The app isn't in the channel (or can't see it), so the call can't be shown there."""

    ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
    field = BlockId.CHANNEL

    def __init__(self) -> None:
        super().__init__(
            wording.CANNOT_POST_IN_CHANNEL, field_message=wording.CANNOT_POST_IN_PICKED_CHANNEL
        )


class NotInChannel(CallsError):
    """The person isn't in the channel they picked, or (``confirmed=False``) it has too many
    members to find them before the modal must close."""

    field = BlockId.CHANNEL

    def __init__(self, *, confirmed: bool = True) -> None:
        super().__init__(
            wording.NOT_IN_PICKED_CHANNEL if confirmed else wording.PICKED_CHANNEL_TOO_BIG
        )
