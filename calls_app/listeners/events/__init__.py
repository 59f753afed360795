from slack_bolt import App

from calls_app.listeners.events import app_home_opened, link_shared, uninstall
from calls_app.uninstalls import Uninstalls


def register(app: App, uninstalls: Uninstalls) -> None:
    app.event("app_home_opened")(app_home_opened.handle_app_home_opened)
    app.event("link_shared")(link_shared.handle_link_shared)
    app.event("app_uninstalled")(uninstall.app_uninstalled_handler(uninstalls))
    app.event("tokens_revoked")(uninstall.tokens_revoked_handler(uninstalls))
    # Only for an organization-wide install (README, *Enterprise Grid*).
    app.event("team_access_revoked")(uninstall.team_access_revoked_handler(uninstalls))
