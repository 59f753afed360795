"""The local Slack's workspace: a few people (one of them an admin) and channels, set up in the
Web API fake so that users.info, conversations.* and posting answer for them as Slack would."""

from __future__ import annotations

from dataclasses import dataclass

from local_slack.web_api import FakeSlack

SLACKBOT = "USLACKBOT"  # Slack's own voice: "not a valid command" and the like


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    handle: str  # what follows @ in a message: @ben
    is_admin: bool = False

    @property
    def email(self) -> str:
        """What users.lookupByEmail finds them by (a meeting names people by it)."""
        return f"{self.handle}@example.com"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    app_is_member: bool = True  # False: the app was never invited, as after a fresh install


@dataclass(frozen=True)
class Workspace:
    team_id: str
    name: str
    people: tuple[Person, ...]
    channels: tuple[Channel, ...]
    bot_user_id: str = "U0BOT"
    app_name: str = "calls-app"

    def person(self, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def name_of(self, user_id: str) -> str:
        """A person's name as Slack shows it; the app's own name for its bot user."""
        if user_id == self.bot_user_id:
            return self.app_name
        if user_id == SLACKBOT:
            return "Slackbot"
        person = self.person(user_id)
        return person.name if person else user_id

    def set_up(self, fake: FakeSlack) -> None:
        """Make the fake's workspace this one."""
        for person in self.people:
            fake.add_user(
                person.id, name=person.name, is_admin=person.is_admin, email=person.email
            )
        for channel in self.channels:
            fake.add_channel(channel.id, name=channel.name, bot_is_member=channel.app_is_member)


DEMO = Workspace(
    team_id="T0001",
    name="Example",
    people=(
        Person("U0ADA00001", "Ada Okafor", "ada", is_admin=True),
        Person("U0BEN00001", "Ben Carter", "ben"),
        Person("U0CHLOE001", "Chloé Martin", "chloe"),
        Person("U0DEV00001", "Dev Patel", "dev"),
    ),
    channels=(
        Channel("C0GENERAL", "general"),
        Channel("C0DESIGN", "design"),
        Channel("C0RANDOM", "random", app_is_member=False),
    ),
)
