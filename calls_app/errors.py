"""Errors a user can act on. The service raises them; the listeners render them once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from calls_app.text import escape_mrkdwn

if TYPE_CHECKING:
    from calls_app.command_text import Verb
    from calls_app.models import Call


class CallsError(Exception):
    """An error whose message is shown to the person who acted."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class Busy(CallsError):
    """This process has more work waiting than it takes on: nothing was done."""

    def __init__(self) -> None:
        super().__init__("calls-app is busy right now, so nothing was done. Try again in a moment.")


class UsageError(CallsError):
    """The command text could not be understood."""


class NoLiveCall(CallsError):
    def __init__(self) -> None:
        super().__init__("There is no call running in this channel. Start one with `/call start`.")


class CallNotFound(CallsError):
    def __init__(self) -> None:
        super().__init__("That call doesn't exist (any more).")


class CallNeverStarted(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"The call “{escape_mrkdwn(title)}” couldn't be started, so it isn't running. "
            "Start a new one with `/call start`."
        )


class CallStillStarting(CallsError):
    def __init__(self) -> None:
        super().__init__("That call is still starting. Try again in a moment.")


class CallAlreadyEnded(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(f"The call “{escape_mrkdwn(title)}” has already ended.")


class CallBeingEnded(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(f"The call “{escape_mrkdwn(title)}” is being ended right now.")


class NotAllowed(CallsError):
    def __init__(self, verb: Verb) -> None:
        super().__init__(
            f"Only the person who started this call or a workspace admin can {verb} it."
        )


class TooManyCalls(CallsError):
    """A start would take the channel's or the person's running calls past their limit."""

    @classmethod
    def in_channel(cls, limit: int) -> TooManyCalls:
        return cls(
            f"This channel already has the most calls it may have running at once ({limit}). "
            "End one before starting another."
        )

    @classmethod
    def by_person(cls, limit: int) -> TooManyCalls:
        return cls(
            f"You already have the most calls one person may have running at once ({limit}). "
            "End one before starting another."
        )


class NotInCall(CallsError):
    def __init__(self, title: str) -> None:
        super().__init__(f"You're not in the call “{escape_mrkdwn(title)}”.")


class ChooseCall(CallsError):
    """Several calls fit; the person picks one instead of the app guessing."""

    def __init__(self, verb: Verb, calls: Sequence[Call], title: str | None = None) -> None:
        super().__init__(self.question(verb))
        self.verb = verb
        self.calls = list(calls)
        self.title = title

    @staticmethod
    def question(verb: Verb) -> str:
        return f"Several calls are running here. Which one do you want to {verb}?"


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

    def __init__(self) -> None:
        super().__init__(
            "I can't post in this channel, so I didn't start the call. "
            "Invite me first with `/invite @calls-app`, then try again."
        )


class NotInChannel(CallsError):
    """The person isn't in the channel they picked, or (``confirmed=False``) it has too many
    members to find them before the modal must close. Plain text: it is a modal field error."""

    def __init__(self, *, confirmed: bool = True) -> None:
        if confirmed:
            message = "You're not in that channel. Join it first, or pick another."
        else:
            message = (
                "That channel is too big for me to check that you're in it. "
                "Type /call start in the channel instead."
            )
        super().__init__(message)
        self.confirmed = confirmed
