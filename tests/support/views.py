"""Home tabs and the start modal, as a person opens them in Slack."""

from __future__ import annotations

from tests.support.workspace import ALICE


def home_of(app, user: str) -> dict:
    """Open Home as Slack does and return the view the app published."""
    before = len(app.fake.attempts_to("views.publish"))
    result = app.slack.open_home(user=user)
    assert result.status == 200
    app.fake.wait_for(lambda: len(app.fake.attempts_to("views.publish")) > before)
    return app.fake.home_views[user]


def texts(view: dict) -> str:
    """Every piece of text in the view, one per line."""
    out = []
    for block in view["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else text or "")
    return "\n".join(out)


def open_start_modal(app, user: str = ALICE) -> dict:
    before = len(app.fake.views)
    result, trigger_id = app.slack.click_in_home("home_start_call", "start", user=user)
    assert result.status == 200
    app.fake.wait_for(lambda: len(app.fake.views) > before)
    opened = app.fake.views[-1]
    assert opened["method"] == "views.open"
    assert opened["trigger_id"] == trigger_id
    return opened


def values(*, channel: str | None, title: str | None = None, people: list[str] | None = None):
    return {
        "channel_block": {
            "channel_input": {"type": "conversations_select", "selected_conversation": channel}
        },
        "title_block": {"title_input": {"type": "plain_text_input", "value": title}},
        "people_block": {
            "people_input": {"type": "multi_users_select", "selected_users": people or []}
        },
    }
