"""The one error path: what the person who acted is told, whatever went wrong."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from slack_bolt import BoltContext

from calls_app import wording
from calls_app.blocks.elements import Message, mrkdwn_section
from calls_app.blocks.picker import call_picker
from calls_app.errors import Busy, CallsError, ChooseCall
from calls_app.home import HomeService
from calls_app.records import Actor
from calls_app.service.starting import CallStarter
from calls_app.service.verbs import CallService
from calls_app.work_queue import WorkQueue

log = logging.getLogger(__name__)

Reply = Callable[..., object]  # Bolt's respond(), or one built from a stored response_url


def actor_from(context: BoltContext) -> Actor:
    return Actor(
        team_id=context.get("workspace_id") or context.enterprise_id or "",
        enterprise_id=context.enterprise_id,
        user_id=context.user_id or "",
    )


def call_service(context: BoltContext) -> CallService:
    return cast(CallService, context["calls"])  # BoltContext holds Any; attach_services sets it


def call_starter(context: BoltContext) -> CallStarter:
    return cast(CallStarter, context["starter"])  # set by attach_services


def home_service(context: BoltContext) -> HomeService:
    return cast(HomeService, context["home"])  # set by attach_services


def reply_for(body: dict[str, Any], respond: Reply | None, context: BoltContext) -> Reply:
    """Where to answer a click: the message's response_url or, for a click in the Home tab
    (which has none), the Home tab itself, re-published with the answer on top."""
    if body.get("response_url") and respond is not None:
        return respond
    home, actor = home_service(context), actor_from(context)

    def show_in_home(*, text: str, **_message: object) -> None:
        home.publish(team_id=actor.team_id, user_id=actor.user_id, notice=text)

    return show_in_home


def say_privately(reply: Reply, message: Message | str, *, replace_original: bool = False) -> None:
    """Answer the person alone; `replace_original` puts it in place of the private message
    whose button they pressed (a picker's next page)."""
    message = as_message(message)
    reply(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=replace_original,
    )


def as_message(message: Message | str) -> Message:
    if isinstance(message, str):
        return Message(text=message, blocks=[mrkdwn_section(message)])
    return message


@contextmanager
def errors_told_to(reply: Reply) -> Iterator[None]:
    """Run a service call; tell the person any error, once, privately."""
    try:
        yield
    except Exception as error:
        say_privately(reply, message_for(error))


def outcome_of(action: Callable[[], Message | str]) -> Message | str:
    """What to tell the person: the action's answer, or what went wrong."""
    try:
        return action()
    except Exception as error:
        return message_for(error)


def message_for(error: Exception) -> Message | str:
    if isinstance(error, ChooseCall):
        return call_picker(
            question=error.user_message, verb=error.verb, calls=error.calls, title=error.title
        )
    if isinstance(error, CallsError):
        return error.user_message
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return wording.unexpected(error_id)


def work_queue(context: BoltContext) -> WorkQueue:
    return cast(WorkQueue, context["work"])  # set by attach_services


def later(context: BoltContext, reply: Reply, job: Callable[[], None]) -> bool:
    """Queue `job`; if the queue is full, tell the person (off this thread) and return False."""
    queue = work_queue(context)
    if queue.submit(job):
        return True
    queue.tell(lambda: say_privately(reply, Busy().user_message))
    return False
