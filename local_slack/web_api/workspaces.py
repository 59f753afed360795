"""The workspaces a test or the demo sets up: teams and their tokens, users, channels, views,
app-level tokens and OAuth codes."""

from __future__ import annotations

from typing import Any

from local_slack.web_api.state import SlackState, Team, Token

DEFAULT_OAUTH_SCOPE = "commands,chat:write,calls:read,calls:write,users:read"


class Workspaces(SlackState):
    """SlackState with the methods that populate it."""

    def add_team(
        self,
        team_id: str,
        *,
        bot_token: str,
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        name: str | None = None,
        domain: str | None = None,
        enterprise_id: str | None = None,
        scopes: str | None = None,
    ) -> None:
        """A workspace with its own bot token (tokens map to teams).

        ``scopes`` (comma-separated) limits what the token may call (``missing_scope``);
        None allows everything. Adding an existing team adds another token for it.
        """
        with self.lock:
            team = self.teams.get(team_id)
            if team is None:
                team = Team(
                    id=team_id,
                    name=name or f"Workspace {team_id}",
                    domain=domain or team_id.lower(),
                    bot_user_id=bot_user_id,
                    bot_id=bot_id,
                )
                self.teams[team_id] = team
            team.bot_user_id, team.bot_id = bot_user_id, bot_id
            if enterprise_id is not None:
                team.enterprise_id = enterprise_id
            if bot_user_id not in team.users:
                team.users[bot_user_id] = _user_record(
                    team_id, bot_user_id, "calls-bot", is_bot=True
                )
            scope_set = frozenset(s for s in scopes.split(",") if s) if scopes else None
            self.tokens[bot_token] = Token(team_id=team_id, scopes=scope_set)

    def revoke_token(self, token: str, *, error: str = "token_revoked") -> None:
        """Make ``token`` fail every call with ``error`` (as after an uninstall)."""
        with self.lock:
            self.tokens[token].revoked_error = error

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        home_team_id: str | None = None,
        enterprise_user: dict | None = None,
        email: str | None = None,
    ) -> None:
        """A user of ``team_id`` (default: the fake's own team).

        ``home_team_id``: the workspace users.info names instead, its roles being theirs there
        (a Slack Connect user from another organization, or of another workspace of the same
        Grid organization); ``enterprise_user``: users.info's Enterprise Grid object
        (``enterprise_id``, ``is_admin``, ``is_owner``, ``teams``).
        """
        with self.lock:
            team = self.team(team_id)
            team.users[user_id] = _user_record(
                home_team_id or team.id,
                user_id,
                name or f"user_{user_id.lower()}",
                is_admin=is_admin,
                is_owner=is_owner,
                is_primary_owner=is_primary_owner,
                is_bot=is_bot,
            )
            if enterprise_user is not None:
                team.users[user_id]["enterprise_user"] = {"id": user_id, **enterprise_user}
            if email is not None:
                team.users[user_id]["profile"]["email"] = email

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str = "general",
        bot_is_member: bool = True,
        is_private: bool = False,
        team_id: str | None = None,
        members: list[str] | None = None,
    ) -> None:
        """A channel of ``team_id`` (default: the fake's own team).

        As in Slack, a private channel the bot is not in is invisible to it (channel_not_found);
        a public one it is not in answers not_in_channel to posting.

        ``members`` are the people in it, in the order conversations.members lists them (each a
        user of the team); by default every user of the team is, now or added later. Either
        way the bot is listed when ``bot_is_member``.
        """
        with self.lock:
            team = self.team(team_id)
            unknown = [user for user in members or () if user not in team.users]
            if unknown:
                raise ValueError(f"add_user() {unknown} before making them channel members")
            team.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_member": bot_is_member,
                "is_private": is_private,
            }
            if members is None:
                team.channel_members.pop(channel_id, None)
            else:
                team.channel_members[channel_id] = list(dict.fromkeys(members))

    def add_view(
        self,
        view_id: str,
        *,
        view: dict | None = None,
        team_id: str | None = None,
        view_hash: str | None = None,
    ) -> None:
        """Register a view the app did not open through the fake (e.g. from a test payload),
        so views.update accepts its id. Without ``view_hash`` any hash is accepted."""
        with self.lock:
            team = self.team(team_id)
            stored = {
                "type": "modal",
                "blocks": [],
                **(view or {}),
                "id": view_id,
                "team_id": team.id,
                "hash": view_hash,
            }
            self.open_views[view_id] = {"team_id": team.id, "view": stored}

    def set_app_token(self, token: str, *, url: str) -> None:
        """An app-level token (``xapp-...``): apps.connections.open with it answers ``url``.

        As in Slack, a bot token there is refused (not_allowed_token_type) and any other
        token is invalid_auth.
        """
        with self.lock:
            self.app_tokens[token] = url

    def set_oauth_code(
        self,
        code: str,
        *,
        team_id: str | None,
        bot_token: str,
        bot_user_id: str = "U0BOT",
        enterprise_id: str | None = None,
        scope: str = DEFAULT_OAUTH_SCOPE,
        bot_id: str = "B0BOT",
        installer_user_id: str = "U0INSTALLER",
        team_name: str | None = None,
    ) -> None:
        """A one-time code oauth.v2.access exchanges for ``bot_token`` of ``team_id``; with
        ``team_id`` None, an organization-wide install of ``enterprise_id``."""
        if team_id is None and enterprise_id is None:
            raise ValueError("an organization-wide install needs its enterprise_id")
        with self.lock:
            self.oauth_codes[code] = {
                "team_id": team_id,
                "bot_token": bot_token,
                "bot_user_id": bot_user_id,
                "bot_id": bot_id,
                "enterprise_id": enterprise_id,
                "scope": scope,
                "installer_user_id": installer_user_id,
                "team_name": team_name,
            }


def _user_record(team_id: str, user_id: str, name: str, **flags: bool) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "real_name": name,
        "deleted": False,
        "is_admin": flags.get("is_admin", False),
        "is_owner": flags.get("is_owner", False),
        "is_primary_owner": flags.get("is_primary_owner", False),
        "is_bot": flags.get("is_bot", False),
        "tz": "UTC",
        "tz_offset": 0,
        "profile": {"display_name": name, "real_name": name},
    }
