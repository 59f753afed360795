"""The demo's own workspace (its people and channels) and the settings the app runs with
beside it."""

from __future__ import annotations

from local_slack.slack import LocalSlack
from local_slack.workspace import DEMO

ADA, BEN, CHLOE, DEV = (person.id for person in DEMO.people)  # Ada is the workspace's admin
GENERAL, DESIGN, RANDOM = (channel.id for channel in DEMO.channels)  # the app is not in #random


def app_settings(slack: LocalSlack, database_url: str) -> dict[str, str]:
    return {
        **slack.app_settings(),
        "DATABASE_URL": database_url,
        "CALLS_JITSI_BASE_URL": "https://meet.invalid/",  # a name that never resolves
        "CALLS_HOME_REFRESH": "1",
    }
