"""An Enterprise Grid organization of two workspaces, the app installed on the whole of it,
and one workspace outside it with an install of its own."""

from __future__ import annotations

from calls_app.installations import BOT_SCOPES
from local_slack.web_api import FakeSlack
from tests.support.app import RunningApp
from tests.support.oauth import CLIENT_ID, CLIENT_SECRET
from tests.support.workspace import ALICE, GENERAL

ORG = "E0ORG00001"
TEAM_A, TEAM_B = "T0ORGAAAA", "T0ORGBBBB"  # two workspaces of the organization
OTHER_TEAM = "T0ELSEWHER"  # a workspace of its own, outside it
ORG_TOKEN = "xoxb-org-wide-000000000000"
OTHER_TOKEN = "xoxb-elsewhere-11111111111"
BOB_B, CHANNEL_B = "U0BOBORGB1", "C0ORGBCHAN"
CAROL_X, CHANNEL_X = "U0CAROLX01", "C0XCHANNEL"


def start_in(app: RunningApp, team: str, title: str):
    """`/call start` in a workspace of the organization."""
    user, channel = {TEAM_A: (ALICE, GENERAL), TEAM_B: (BOB_B, CHANNEL_B)}[team]
    return app.start_call(
        f"start {title}", user=user, team_id=team, channel=channel, enterprise_id=ORG, org_wide=True
    )


def org_fake_slack() -> FakeSlack:
    """A started fake Slack: the organization's two workspaces and one outside it, each with a
    person and a channel, and the codes that install the app on the organization and on it."""
    fake = FakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    for team in (TEAM_A, TEAM_B):
        fake.add_team(team, bot_token="xoxb-unused-" + team, enterprise_id=ORG)
    fake.add_team(OTHER_TEAM, bot_token="xoxb-unused-" + OTHER_TEAM)
    fake.set_oauth_code(
        f"code-{ORG}",
        team_id=None,
        enterprise_id=ORG,
        bot_token=ORG_TOKEN,
        scope=",".join(BOT_SCOPES),
    )
    fake.set_oauth_code(
        f"code-{OTHER_TEAM}", team_id=OTHER_TEAM, bot_token=OTHER_TOKEN, scope=",".join(BOT_SCOPES)
    )
    fake.add_user(ALICE, team_id=TEAM_A)
    fake.add_channel(GENERAL, name="general", team_id=TEAM_A)
    fake.add_user(BOB_B, team_id=TEAM_B)
    fake.add_channel(CHANNEL_B, name="random", team_id=TEAM_B)
    fake.add_user(CAROL_X, team_id=OTHER_TEAM)
    fake.add_channel(CHANNEL_X, name="elsewhere", team_id=OTHER_TEAM)
    return fake
