import re

from slack_bolt import App

from calls_app.block_ids import HOME_START_CALL, OPEN_CALL_LINK, ActionId
from calls_app.listeners.actions import call_buttons, call_picker


def register(app: App) -> None:
    app.action(ActionId.JOIN.value)(call_buttons.handle_join)
    app.action(ActionId.LEAVE.value)(call_buttons.handle_leave)
    app.action(ActionId.END.value)(call_buttons.handle_end)
    app.action(ActionId.RENAME.value)(call_buttons.handle_rename)
    app.action(re.compile(rf"^{ActionId.PICK.value}_\d+$"))(call_buttons.handle_pick)
    app.action(ActionId.PICK_MORE.value)(call_picker.handle_pick_more)
    app.action(OPEN_CALL_LINK)(call_buttons.acknowledge_link)
    app.action(HOME_START_CALL)(call_buttons.handle_home_start)
