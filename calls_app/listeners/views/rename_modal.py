"""The Rename modal's submission: check before closing it, rename after."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond

from calls_app import blocks
from calls_app.errors import Busy, CallNotFound, CallsError
from calls_app.listeners.replies import (
    actor_from,
    call_service,
    errors_told_to,
    say_privately,
    work_queue,
)
from calls_app.text import escape_mrkdwn


def handle_rename_submission(ack: Ack, view: dict, context: BoltContext) -> None:
    title = (
        view["state"]["values"]
        .get(blocks.BlockId.TITLE, {})
        .get(blocks.TITLE_INPUT, {})
        .get("value")
        or ""
    ).strip()
    metadata = blocks.RenameModalMetadata.loads(view.get("private_metadata", ""))
    calls = call_service(context)
    actor = actor_from(context)
    if not title:
        ack(response_action="errors", errors={blocks.BlockId.TITLE: "A call needs a title."})
        return
    try:
        if metadata is None:
            raise CallNotFound()
        calls.check_can_rename(actor, call_id=metadata.call_id)
        if not work_queue(context).reserve():
            raise Busy()
    except CallsError as error:
        ack(response_action="errors", errors={blocks.BlockId.TITLE: error.user_message})
        return
    reply = Respond(response_url=metadata.response_url) if metadata.response_url else None

    def rename() -> None:
        with errors_told_to(reply or _log_only):
            renamed = calls.rename(actor, title, call_id=metadata.call_id)
            if reply:
                say_privately(reply, f"Renamed the call to *{escape_mrkdwn(renamed.title)}*.")

    ack()
    work_queue(context).run_reserved(rename)


def _log_only(**_message: object) -> None:
    """No response_url to answer on: the error is already logged."""
