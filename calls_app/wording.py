"""Every sentence calls-app tells a person, in one place: errors, replies, messages, help, Home.

Block Kit's structure (and short labels such as a button's) stays in blocks/. Sentences
that carry user text take it raw and escape it for mrkdwn here; modal field errors are plain
text. Terms are defined in docs/glossary.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from calls_app.text import escape_mrkdwn

# -- what went wrong -----------------------------------------------------------------------

BUSY = "calls-app is busy right now, so nothing was done. Try again in a moment."
STALE_BUTTON = "That button no longer works. Run the command again."
NO_LIVE_CALL = "There is no call running in this channel. Start one with `/call start`."
CALL_NOT_FOUND = "That call doesn't exist (any more)."
CALL_STILL_STARTING = "That call is still starting. Try again in a moment."
NEEDS_TITLE = "A call needs a title."
PICK_A_CHANNEL = "Pick a channel."
CANNOT_POST_IN_CHANNEL = (
    "I can't post in this channel, so I didn't start the call. "
    "Invite me first with `/invite @calls-app`, then try again."
)
CANNOT_POST_IN_PICKED_CHANNEL = (  # a modal field error: plain text
    "I'm not in that channel. Invite me with /invite @calls-app, or pick another."
)
NOT_IN_PICKED_CHANNEL = "You're not in that channel. Join it first, or pick another."
PICKED_CHANNEL_TOO_BIG = (
    "That channel is too big for me to check that you're in it. "
    "Type /call start in the channel instead."
)
MEETING_ALREADY_LIVE = (
    "That meeting is already a live call in Slack: paste its link to show it here, "
    "or start a call without a link for a new meeting."
)
SLACK_TOO_SLOW_TO_REGISTER = (
    "Slack took too long to register the call, so it wasn't started. Try again."
)


def unexpected(error_id: str) -> str:
    return f"Something went wrong on our side. Quote error id `{error_id}` if you report it."


def call_never_started(title: str) -> str:
    return (
        f"The call “{escape_mrkdwn(title)}” couldn't be started, so it isn't running. "
        "Start a new one with `/call start`."
    )


def call_already_ended(title: str) -> str:
    return f"The call “{escape_mrkdwn(title)}” has already ended."


def call_being_ended(title: str) -> str:
    return f"The call “{escape_mrkdwn(title)}” is being ended right now."


def not_allowed(verb: str) -> str:
    return f"Only the person who started this call or a workspace admin can {verb} it."


def too_many_in_channel(limit: int) -> str:
    return (
        f"This channel already has the most calls it may have running at once ({limit}). "
        "End one before starting another."
    )


def too_many_by_person(limit: int) -> str:
    return (
        f"You already have the most calls one person may have running at once ({limit}). "
        "End one before starting another."
    )


def too_many_invitees(limit: int) -> str:
    return f"Invite at most {limit} people at once."


def not_in_call(title: str) -> str:
    return f"You're not in the call “{escape_mrkdwn(title)}”."


def which_call(verb: str) -> str:
    return f"Several calls are running here. Which one do you want to {verb}?"


# -- what was typed after /call ----------------------------------------------------------------

RENAME_NEEDS_TITLE = "Give the new title: `/call rename <new title>`."
ONE_LINK_AT_MOST = "Give at most one link for people to join."
LINK_TOO_LONG = "That link is too long (over 2000 characters)."


def unknown_verb(word: str) -> str:
    return f"I don't know `{word[:40]}`."  # still escaped as Slack sent it


def takes_nothing_after(verb: str) -> str:
    return f"`/call {verb}` takes nothing after it."


def not_a_link(url: str) -> str:
    return f"`{url[:80]}` isn't a link I can use."


def https_only(url: str) -> str:
    return f"Only https:// links can be used to join a call, not `{url[:80]}`."


def usage(problem: str | None = None) -> str:
    lines = [
        "*Calls in Slack* — `/call` followed by:",
        "• `start [title] [@people…] [https://link]` — start a call here and invite people",
        "• `join` / `leave` — join or leave this channel's call",
        "• `rename <new title>` — rename the call (its starter or an admin)",
        "• `end` — end the call (its starter or an admin)",
        "• `status` — who is in this channel's call(s), and for how long",
        "• `help` — this message",
    ]
    return "\n".join([problem, *lines] if problem else lines)


# -- Slack's and Zoom's refusals -------------------------------------------------------------

SLACK_TOKEN_REFUSED = (
    "Slack didn't accept calls-app's token. Ask a workspace admin to reinstall the app."
)
SLACK_SCOPE_MISSING = (
    "calls-app is missing a Slack permission it needs. Ask a workspace admin to reinstall the app."
)
SLACK_RATE_LIMITED = "Slack is rate-limiting calls-app right now. Try again in a minute."
SLACK_REFUSES_CALLS_HERE = "Slack doesn't allow calls to be started in this channel."
SLACK_UNREACHABLE = "calls-app couldn't reach Slack. Try again in a moment."
SLACK_TIMED_OUT = "Slack took too long to answer. Try again in a moment."
ZOOM_NEEDS_HOST = (
    "Zoom needs a host for the meeting: Slack doesn't show your email to the app and "
    "no ZOOM_DEFAULT_HOST is set. Ask whoever runs calls-app to set one."
)
ZOOM_NO_ACCOUNT = (
    "You have no Zoom account in this organization's Zoom, and no "
    "ZOOM_DEFAULT_HOST is set, so the meeting wasn't made."
)
ZOOM_UNREACHABLE = "Zoom can't be reached right now, so the call wasn't started."
ZOOM_FAILED = "Zoom couldn't make the meeting, so the call wasn't started. Try again."


def slack_in_trouble(method: str, status: str) -> str:
    return f"Slack is having trouble ({method} answered {status}). Try again in a moment."


def slack_members_unknown(error: str) -> str:
    return (
        f"Slack couldn't tell me who is in that channel ({error}), so I didn't start "
        "the call. Try again in a moment."
    )


def slack_refused(method: str, error: str) -> str:
    return f"Slack refused the request ({method}: {error}). Try again in a moment."


# -- replies to the person who acted ---------------------------------------------------------


def started(title: str, invited: Sequence[str], not_invited: Sequence[str]) -> str:
    lines = [f"Started *{escape_mrkdwn(title)}*."]
    if invited:
        lines.append("Invited " + ", ".join(mention(u) for u in invited) + ".")
    if not_invited:
        lines.append("Couldn't invite " + ", ".join(mention(u) for u in not_invited) + ".")
    return " ".join(lines)


def joined(title: str, *, already_in: bool) -> str:
    title = escape_mrkdwn(title)
    return f"You're already in *{title}*." if already_in else f"You joined *{title}*."


def left(title: str) -> str:
    return f"You left *{escape_mrkdwn(title)}*."


def renamed(title: str) -> str:
    return f"Renamed the call to *{escape_mrkdwn(title)}*."


def you_ended(title: str, summary: str) -> str:
    return f"You ended *{escape_mrkdwn(title)}*. {summary}"


def started_in(title: str, channel_id: str) -> str:
    return f"*{escape_mrkdwn(title)}* is live in <#{channel_id}>."


STARTING = "Starting your call…"


def picker_range(first: int, last: int, total: int) -> str:
    return f"Calls {first}–{last} of {total}."


def status_of_call(title: str, starter: str, running: str, people: Sequence[str]) -> str:
    """One call of `/call status`: `starter` and `people` already mentions or escaped names."""
    return (
        f"*{escape_mrkdwn(title)}*\nStarted by {starter}, running for {running}.\n"
        f"In the call ({len(people)}): {', '.join(people) or 'nobody'}"
    )


def calls_running(count: int) -> str:
    return f"{count} call(s) running in this channel."


UNKNOWN_TIME = "an unknown time"
SOMEONE = "someone"

# -- the call message and invitations --------------------------------------------------------


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def call_started_by(created_by: str, title: str) -> str:
    return f"{mention(created_by)} started a call: {escape_mrkdwn(title)}"


def call_ended(title: str, summary: str) -> str:
    return f"Call ended: {escape_mrkdwn(title)}. {summary}"


def call_unstarted(title: str) -> str:
    return (
        f":warning: {escape_mrkdwn(title)} couldn't be started: Slack didn't confirm this "
        "message in time. Start a new call with `/call start`."
    )


def call_shown_elsewhere(title: str) -> str:
    return (
        f":information_source: {escape_mrkdwn(title)} is shown in another message in this "
        "channel; this copy has no buttons."
    )


def lasted(duration: str) -> str:
    return f"It lasted {duration}."


ENDED_AT_MAX_DURATION = "Ended automatically: it reached the longest a call may run."
ENDED_EMPTY = "Ended automatically after everyone left."
ENDED_IN_SLACK = "Ended in Slack."
ENDED_WITH_MEETING = "Ended when the meeting ended."


def ended_by(ender: str | None) -> str:
    return f"Ended by {mention(ender) if ender else 'calls-app'}."


def invited_you(created_by: str, title: str) -> str:
    return f"{mention(created_by)} invited you to a call: {escape_mrkdwn(title)}"


def invited_you_to(created_by: str, title: str, channel_id: str) -> str:
    return f"{mention(created_by)} invited you to *{escape_mrkdwn(title)}* in <#{channel_id}>."


# -- App Home ------------------------------------------------------------------------------

NO_CALLS_YET = (
    "*No calls yet.* Type `/call start Standup` in any channel the app is in, "
    "or press *Start a call*."
)
NONE_RIGHT_NOW = "None right now."
NONE_YET = "None yet."
MORE_CALLS_RUNNING = "More calls are running: `/call status` in a channel lists them."


def active_call(title: str, channel_id: str, started_ago: str, present: int) -> str:
    return (
        f"*{escape_mrkdwn(title)}* in <#{channel_id}>\n"
        f"Started {started_ago} ago · {present} in the call"
    )


def recent_call(title: str, channel_id: str, when: str, duration: str, took_part: int) -> str:
    people = "1 person" if took_part == 1 else f"{took_part} people"
    return (
        f"*{escape_mrkdwn(title)}* in <#{channel_id}>\n"
        f"{when} · lasted {duration} · {people} took part"
    )
