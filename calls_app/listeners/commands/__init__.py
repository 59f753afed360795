from slack_bolt import App

from calls_app.listeners.commands import call_command


def register(app: App) -> None:
    app.command("/call")(call_command.handle_call_command)
