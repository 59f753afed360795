"""The Home tab's Start-a-call modal: what can be checked is shown as field errors before it
closes; the start itself runs after the ack and reports into the same modal."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from calls_app import blocks
from calls_app.errors import Busy, CannotPostInChannel, NotInChannel, SlackFailure, UsageError
from calls_app.listeners.replies import (
    actor_from,
    call_service,
    errors_told_to,
    home_service,
    work_queue,
)
from calls_app.service import default_title
from calls_app.text import escape_mrkdwn


def handle_start_submission(ack: Ack, view: dict, context: BoltContext) -> None:
    values = view["state"]["values"]
    channel_id = (
        values.get(blocks.BlockId.CHANNEL, {})
        .get(blocks.CHANNEL_INPUT, {})
        .get("selected_conversation")
    )
    title = (
        values.get(blocks.BlockId.TITLE, {}).get(blocks.TITLE_INPUT, {}).get("value") or ""
    ).strip()
    invitees = (
        values.get(blocks.BlockId.PEOPLE, {}).get(blocks.PEOPLE_INPUT, {}).get("selected_users")
        or []
    )
    if not channel_id:
        ack(response_action="errors", errors={blocks.BlockId.CHANNEL: "Pick a channel."})
        return
    calls, actor = call_service(context), actor_from(context)
    try:
        channel_name = calls.check_can_start(actor, channel_id=channel_id, invitees=invitees)
    except CannotPostInChannel:
        ack(
            response_action="errors",
            errors={
                blocks.BlockId.CHANNEL: "I'm not in that channel. Invite me with "
                "/invite @calls-app, or pick another."
            },
        )
        return
    except NotInChannel as error:
        ack(response_action="errors", errors={blocks.BlockId.CHANNEL: error.user_message})
        return
    except UsageError as error:
        ack(response_action="errors", errors={blocks.BlockId.PEOPLE: error.user_message})
        return
    except SlackFailure as failure:
        ack(response_action="errors", errors={blocks.BlockId.CHANNEL: failure.user_message})
        return
    queue = work_queue(context)
    if not queue.reserve():
        ack(response_action="errors", errors={blocks.BlockId.CHANNEL: Busy().user_message})
        return
    home = home_service(context)

    def show_problem(*, text: str, **_message: object) -> None:
        home.show_modal(view_id=view["id"], view=blocks.modal_message("Call not started", text))

    def start() -> None:
        with errors_told_to(show_problem):
            started = calls.start(
                actor,
                channel_id=channel_id,
                title=title or default_title(channel_name),
                invitees=invitees,
            )
            home.show_modal(
                view_id=view["id"],
                view=blocks.modal_message(
                    "Call started",
                    f"*{escape_mrkdwn(started.call.title)}* is live in <#{channel_id}>.",
                ),
            )

    ack(
        response_action="update",
        view=blocks.modal_message("Start a call", "Starting your call…"),
    )
    queue.run_reserved(start)
