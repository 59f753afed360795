"""Two workspaces the app is installed in by Slack's OAuth flow, each with its own token."""

from __future__ import annotations

import re
import urllib.request

from calls_app.installations import BOT_SCOPES
from local_slack.web_api import FakeSlack
from local_slack.web_api.workspaces import DEFAULT_OAUTH_SCOPE
from tests.support.app import RunningApp, app_env
from tests.support.workspace import ALICE, GENERAL

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-abcdef"
TEAM_A, TEAM_B = "T0AAAAAAA", "T0BBBBBBB"
TOKEN_A, TOKEN_B = "xoxb-team-a-000000000000", "xoxb-team-b-111111111111"
BOB_B = "U0BOBINB01"  # a person in workspace B
CHANNEL_B = "C0CHANNELB"


def oauth_env(fake: FakeSlack, database_url, **extra: str) -> dict[str, str]:
    env = app_env(fake, database_url, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET)
    del env["SLACK_BOT_TOKEN"]
    return {**env, **extra}


def install(app: RunningApp, team: str) -> str:
    """The whole install flow as a browser goes through it; returns the success page."""
    with urllib.request.urlopen(app.base_url + "/slack/install", timeout=10) as response:
        page = response.read().decode()
        cookie = response.headers["Set-Cookie"].split(";")[0]
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize, page
    url = authorize.group(1).replace("&amp;", "&")
    assert f"client_id={CLIENT_ID}" in url
    assert "scope=" + ",".join(BOT_SCOPES) + "&" in url
    state = re.search(r"state=([^&]+)", url).group(1)
    callback = urllib.request.Request(
        f"{app.base_url}/slack/oauth_redirect?code=code-{team}&state={state}",
        headers={"Cookie": cookie},
    )
    with urllib.request.urlopen(callback, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def two_workspaces_fake(*, scope: str = DEFAULT_OAUTH_SCOPE) -> FakeSlack:
    """A started fake Slack with workspaces A and B (a person and a channel each) where the app
    is not installed yet: ``install(app, TEAM_A)`` exchanges the code that gives it TOKEN_A."""
    fake = FakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    for team, token in ((TEAM_A, TOKEN_A), (TEAM_B, TOKEN_B)):
        fake.add_team(team, bot_token="xoxb-unused-" + team)  # the workspace exists in Slack
        fake.set_oauth_code(f"code-{team}", team_id=team, bot_token=token, scope=scope)
    fake.add_user(ALICE, team_id=TEAM_A)
    fake.add_channel(GENERAL, name="general", team_id=TEAM_A)
    fake.add_user(BOB_B, team_id=TEAM_B)
    fake.add_channel(CHANNEL_B, name="random", team_id=TEAM_B)
    return fake
