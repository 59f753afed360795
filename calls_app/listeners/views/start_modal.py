"""The Home tab's Start-a-call modal: what can be checked is shown as field errors before it
closes; the start itself runs after the ack and reports into the same modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from calls_app.block_ids import CHANNEL_INPUT, PEOPLE_INPUT, TITLE_INPUT, BlockId
from calls_app.blocks.modals import not_started_modal, started_modal, starting_modal
from calls_app.errors import Busy, CallsError, NoChannel
from calls_app.listeners.replies import (
    actor_from,
    call_starter,
    errors_told_to,
    home_service,
    work_queue,
)
from calls_app.listeners.views.form import refuse, submitted, text_in
from calls_app.service.starting import default_title


def handle_start_submission(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    channel_id = submitted(view, BlockId.CHANNEL, CHANNEL_INPUT).get("selected_conversation")
    title = text_in(view, BlockId.TITLE, TITLE_INPUT)
    invitees = submitted(view, BlockId.PEOPLE, PEOPLE_INPUT).get("selected_users") or []
    starter, actor, queue = call_starter(context), actor_from(context), work_queue(context)
    try:
        if not channel_id:
            raise NoChannel()
        channel_name = starter.check_can_start(actor, channel_id=channel_id, invitees=invitees)
        if not queue.reserve():
            raise Busy()
    except CallsError as error:
        refuse(ack, view, error)
        return
    home = home_service(context)

    def show_problem(*, text: str, **_message: object) -> None:
        home.show_modal(view_id=view["id"], view=not_started_modal(text))

    def start() -> None:
        with errors_told_to(show_problem):
            started = starter.start(
                actor,
                channel_id=channel_id,
                title=title or default_title(channel_name),
                invitees=invitees,
            )
            home.show_modal(view_id=view["id"], view=started_modal(started.call))

    ack(response_action="update", view=starting_modal())
    queue.run_reserved(start)
