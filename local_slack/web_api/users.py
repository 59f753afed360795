"""auth.test, team.info, users.*: who the token is, and the people of its workspace."""

from __future__ import annotations

from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import missing
from local_slack.web_api.state import SlackState, Team


def auth_test(state: SlackState, team: Team, args: dict) -> dict:
    result = {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": "calls-bot",
        "team_id": team.id,
        "user_id": team.bot_user_id,
        "bot_id": team.bot_id,
        "is_enterprise_install": team.id == team.enterprise_id,  # an org token's own view
    }
    if team.enterprise_id:
        result["enterprise_id"] = team.enterprise_id
    return result


def team_info(state: SlackState, team: Team, args: dict) -> dict:
    if not missing(args.get("team")) and args["team"] != team.id:
        raise SlackError("team_not_found")
    return {"team": {"id": team.id, "name": team.name, "domain": team.domain}}


def users_info(state: SlackState, team: Team, args: dict) -> dict:
    user = team.users.get(args["user"])
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


def users_lookup_by_email(state: SlackState, team: Team, args: dict) -> dict:
    wanted = str(args["email"]).strip().lower()
    for user in team.users.values():
        if str(user["profile"].get("email", "")).lower() == wanted:
            return {"user": user}
    raise SlackError("users_not_found")


HANDLERS = {
    "auth.test": auth_test,
    "team.info": team_info,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
}
