"""The Rename modal's submission: check before closing it, rename after."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond

from calls_app import wording
from calls_app.block_ids import TITLE_INPUT, BlockId
from calls_app.blocks.modals import RenameModalMetadata
from calls_app.errors import Busy, CallNotFound, CallsError, NoTitle
from calls_app.listeners.replies import (
    actor_from,
    call_service,
    errors_told_to,
    say_privately,
    work_queue,
)
from calls_app.listeners.views.form import refuse, text_in


def handle_rename_submission(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    title = text_in(view, BlockId.TITLE, TITLE_INPUT)
    metadata = RenameModalMetadata.loads(view.get("private_metadata", ""))
    calls = call_service(context)
    actor = actor_from(context)
    try:
        if not title:
            raise NoTitle()
        if metadata is None:
            raise CallNotFound()
        calls.check_can_rename(actor, call_id=metadata.call_id)
        if not work_queue(context).reserve():
            raise Busy()
    except CallsError as error:
        refuse(ack, view, error)
        return
    reply = Respond(response_url=metadata.response_url) if metadata.response_url else None

    def rename() -> None:
        with errors_told_to(reply or _log_only):
            renamed = calls.rename(actor, title, call_id=metadata.call_id)
            if reply:
                say_privately(reply, wording.renamed(renamed.title))

    ack()
    work_queue(context).run_reserved(rename)


def _log_only(**_message: object) -> None:
    """No response_url to answer on: the error is already logged."""
