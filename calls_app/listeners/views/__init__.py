from slack_bolt import App

from calls_app.block_ids import CallbackId
from calls_app.listeners.views import rename_modal, start_modal


def register(app: App) -> None:
    app.view(CallbackId.RENAME_MODAL.value)(rename_modal.handle_rename_submission)
    app.view(CallbackId.START_MODAL.value)(start_modal.handle_start_submission)
