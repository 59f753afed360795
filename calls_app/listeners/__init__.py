"""Bolt listeners, one package per kind; each package's register(app) wires its callbacks."""

from __future__ import annotations

from slack_bolt import App

from calls_app.listeners import actions, commands, events, views
from calls_app.uninstalls import Uninstalls


def register_listeners(app: App, *, uninstalls: Uninstalls) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app, uninstalls)
