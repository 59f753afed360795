"""manifest.yml is a valid Slack app manifest that asks for exactly what the app uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from calls_app.installations import BOT_SCOPES

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "slack_manifest"


def load_manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema():
    schema = json.loads((SCHEMAS / "schemas" / "manifest.schema.1.0.0.json").read_text())
    registry = Registry()
    for path in (SCHEMAS / "schemas").glob("*.json"):
        registry = registry.with_resource(
            f"./schemas/{path.name}", Resource.from_contents(json.loads(path.read_text()))
        )
    errors = sorted(
        Draft7Validator(schema, registry=registry).iter_errors(load_manifest()), key=str
    )
    assert errors == []


def test_manifest_declares_the_call_command_interactivity_and_home():
    manifest = load_manifest()
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/call"
    assert command["should_escape"] is True  # mentions arrive as <@U…>, which we parse
    assert command["url"].endswith("/slack/events")
    assert command["usage_hint"]
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_uninstalled",  # forget the workspace, close its calls
        "link_shared",  # a pasted meeting link unfolds into a live call
        "tokens_revoked",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # The hosts of the providers whose links unfurl (Slack takes at most 5).
    assert {"zoom.us", "meet.jit.si"} <= set(manifest["features"]["unfurl_domains"])
    assert len(manifest["features"]["unfurl_domains"]) <= 5
    assert manifest["features"]["bot_user"]["display_name"]


def test_manifest_scopes_are_exactly_those_the_code_uses():
    """Each Web API method the gateway calls needs a scope; no scope is asked for unused."""
    needed_by_method = {
        "calls_add": "calls:write",
        "calls_end": "calls:write",
        "calls_update": "calls:write",
        "calls_participants_add": "calls:write",
        "calls_participants_remove": "calls:write",
        "calls_info": "calls:read",
        "chat_postMessage": "chat:write",
        "chat_delete": "chat:write",
        "chat_update": "chat:write",
        "chat_unfurl": "links:write",
        "users_info": "users:read",
        # A provider's participant with a Slack member's email is shown as that member.
        "users_lookupByEmail": "users:read.email",
        # Home's start modal checks the app is in the picked channel, public or private…
        "conversations_info": {"channels:read", "groups:read"},
        # …and that the person is: the same scopes, nothing more.
        "conversations_members": {"channels:read", "groups:read"},
    }
    source = "\n".join(p.read_text() for p in (ROOT / "calls_app").rglob("*.py"))
    used_methods = set(re.findall(r"self\._client\.(\w+)\b(?!\s*=)", source))  # not assignments
    unknown = used_methods - set(needed_by_method) - {"views_open", "views_publish", "views_update"}
    assert unknown == set(), f"add the scope for {unknown} to this test and the manifest"
    needed = {"commands", "links:read"}  # links:read: the link_shared event
    for method in used_methods & set(needed_by_method):
        scopes = needed_by_method[method]
        needed |= {scopes} if isinstance(scopes, str) else scopes
    assert set(load_manifest()["oauth_config"]["scopes"]["bot"]) == needed
    assert set(BOT_SCOPES) == needed  # what the OAuth install flow asks for
