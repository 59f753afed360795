"""oauth.v2.access and apps.connections.open: the methods that take client credentials or an
app-level token instead of a bot token."""

from __future__ import annotations

from typing import Any

from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import APP_ID, missing
from local_slack.web_api.state import Token
from local_slack.web_api.workspaces import Workspaces


def oauth_v2_access(
    workspaces: Workspaces,
    args: dict[str, Any],
    basic_auth: tuple[str, str] | None,
    *,
    client_id: str | None,
    client_secret: str | None,
) -> dict:
    """Exchange a code from set_oauth_code(); client credentials by Basic auth or args, checked
    against ``client_id`` and ``client_secret`` when those are set."""
    given_id, given_secret = basic_auth or (args.get("client_id"), args.get("client_secret"))
    if missing(given_id) or (client_id and given_id != client_id):
        raise SlackError("invalid_client_id")
    if missing(given_secret) or (client_secret and given_secret != client_secret):
        raise SlackError("bad_client_secret")
    code = args.get("code")
    grant = workspaces.oauth_codes.pop(code, None) if isinstance(code, str) else None
    if grant is None:
        raise SlackError("invalid_code")
    if grant["team_id"] is None:
        return _org_wide_grant(workspaces, grant)
    team_id = grant["team_id"]
    workspaces.add_team(
        team_id,
        bot_token=grant["bot_token"],
        bot_user_id=grant["bot_user_id"],
        bot_id=grant["bot_id"],
        name=grant["team_name"],
        enterprise_id=grant["enterprise_id"],
        scopes=grant["scope"],
    )
    team = workspaces.teams[team_id]
    installer = grant["installer_user_id"]
    if installer not in team.users:
        workspaces.add_user(installer, team_id=team_id, name="installer")
    enterprise = {"id": grant["enterprise_id"], "name": "Enterprise"}
    return {
        "app_id": APP_ID,
        "authed_user": {"id": installer},
        "scope": grant["scope"],
        "token_type": "bot",
        "access_token": grant["bot_token"],
        "bot_user_id": grant["bot_user_id"],
        "team": {"id": team.id, "name": team.name},
        "enterprise": enterprise if grant["enterprise_id"] else None,
        "is_enterprise_install": False,
    }


def _org_wide_grant(workspaces: Workspaces, grant: dict) -> dict:
    """An install on a whole organization: one token for every workspace in it."""
    scopes = frozenset(s for s in grant["scope"].split(",") if s)
    workspaces.tokens[grant["bot_token"]] = Token(
        team_id=None, scopes=scopes, enterprise_id=grant["enterprise_id"]
    )
    return {
        "app_id": APP_ID,
        "authed_user": {"id": grant["installer_user_id"]},
        "scope": grant["scope"],
        "token_type": "bot",
        "access_token": grant["bot_token"],
        "bot_user_id": grant["bot_user_id"],
        "team": None,
        "enterprise": {"id": grant["enterprise_id"], "name": "Enterprise"},
        "is_enterprise_install": True,
    }


def apps_connections_open(workspaces: Workspaces, token: str | None) -> dict:
    """A Socket Mode WebSocket URL for an app-level token from set_app_token()."""
    if not token:
        raise SlackError("not_authed")
    if token in workspaces.tokens:
        raise SlackError("not_allowed_token_type")
    url = workspaces.app_tokens.get(token)
    if url is None:
        raise SlackError("invalid_auth")
    return {"url": url}
