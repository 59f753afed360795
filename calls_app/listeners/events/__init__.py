from slack_bolt import App

from calls_app.listeners.events import app_home_opened


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened.handle_app_home_opened)
