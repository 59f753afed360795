"""The local Slack over HTTP, without a browser: what it sends the app, what it shows to whom,
and what it refuses (told to the person, nothing sent, nothing changed)."""

from __future__ import annotations

import http.client
import json
import shutil
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy.engine import make_url

from local_slack.slack import LocalSlack
from tests.support.app import FakeClock, RunningApp, serve_app
from tests.support.demo import ADA, BEN, CHLOE, DESIGN, GENERAL, app_settings


class Page:
    """The page's HTTP endpoints, as its script uses them."""

    def __init__(self, page_url: str) -> None:
        self.netloc = urlsplit(page_url).netloc

    def request(
        self, method: str, path: str, body: str = "", headers: dict | None = None
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(self.netloc, timeout=10)
        connection.request(method, path, body=body.encode(), headers=headers or {})
        response = connection.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        connection.close()
        return response

    def post(self, path: str, *, script: bool = True, **fields: str) -> http.client.HTTPResponse:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if script:
            headers["X-Local-Slack"] = "1"
        return self.request("POST", path, urlencode(fields), headers)

    def say(self, text: str, *, person: str, at: str = GENERAL) -> None:
        assert self.post("/message", text=text, **{"as": person, "at": at}).status == 204

    def state(self, *, person: str, at: str = GENERAL, tab: str = "home") -> dict:
        response = self.request("GET", "/state?" + urlencode({"as": person, "at": at, "tab": tab}))
        assert response.status == 200
        return json.loads(response.body)  # type: ignore[attr-defined]

    def main(self, **where: str) -> str:
        return self.state(**where)["main"]["html"]


@pytest.fixture
def page(local_slack: LocalSlack, demo: RunningApp) -> Page:
    return Page(local_slack.page_url)


def test_a_command_is_signed_and_its_private_reply_is_shown_to_its_person_only(
    page: Page, demo: RunningApp
) -> None:
    page.say("/call start Standup @ben", person=ADA)
    demo.fake.wait_for(lambda: "Started <strong>Standup" in page.main(person=ADA))
    call = demo.db.only_call()
    assert call.title == "Standup"
    assert call.created_by == ADA
    assert [args["channel"] for args in demo.sent("chat.postMessage")] == [GENERAL, BEN]
    assert "Started <strong>Standup" not in page.main(person=BEN)
    assert "call-card live" in page.main(person=BEN)  # the channel's message is everyone's


def test_an_unknown_command_is_told_to_its_person_and_never_reaches_the_app(
    page: Page, demo: RunningApp
) -> None:
    before = len(demo.fake.requests)  # the app's auth.test at start
    page.say("/cal start Standup", person=ADA)
    said = "<code>/cal</code> is not a valid command."
    assert said in page.main(person=ADA)
    assert said not in page.main(person=BEN)
    assert demo.db.calls() == []
    assert len(demo.fake.requests) == before  # the app was asked nothing, so asked Slack nothing


def test_a_message_is_shown_to_everyone_escaped_with_its_mentions(
    page: Page, demo: RunningApp
) -> None:
    before = len(demo.fake.requests)
    page.say("hi @ben, see #design <script>alert(1)</script> & https://example.org", person=ADA)
    html = page.main(person=CHLOE)
    assert '<span class="mention">@Ben Carter</span>' in html
    assert '<span class="mention">#design</span>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html
    assert "<script>" not in html
    assert '<a href="https://example.org" target="_blank"' in html
    assert len(demo.fake.requests) == before


def test_an_empty_message_shows_and_sends_nothing(page: Page, demo: RunningApp) -> None:
    before, asked = page.state(person=ADA), len(demo.fake.requests)
    page.say("   ", person=ADA)
    assert page.state(person=ADA) == before
    assert len(demo.fake.requests) == asked


def test_an_unchanged_page_keeps_its_versions_so_the_script_replaces_nothing(
    page: Page, demo: RunningApp
) -> None:
    first = page.state(person=ADA)
    assert page.state(person=ADA) == first
    page.say("/call start Standup", person=ADA)
    demo.fake.wait_for(lambda: page.state(person=ADA)["main"] != first["main"])
    assert page.state(person=ADA)["modal"] == first["modal"]


def test_buttons_the_person_cannot_see_press_nothing(page: Page, demo: RunningApp) -> None:
    page.say("/call start Standup", person=ADA)
    demo.fake.wait_for(lambda: "Open the call" in page.main(person=ADA))
    demo.settle()
    call = demo.db.only_call()
    message = f"message:{GENERAL}:{call.message_ts}"
    before = len(demo.fake.requests)
    for container, element in (
        (message, "1.9"),  # no such button
        (message, "0.0"),  # the call block: no button there
        (f"message:{DESIGN}:{call.message_ts}", "1.0"),  # no such message in #design
        ("entry:1", "1.0"),  # Ada's private reply, pressed by Ben
        ("view:V0NOTAVIEW", "0.0"),
        ("nonsense", "x"),
    ):
        response = page.post(
            "/press", container=container, element=element, **{"as": BEN, "at": GENERAL}
        )
        assert response.status == 204
    assert len(demo.fake.requests) == before
    assert demo.db.present(call.id) == [ADA]
    assert "You joined" not in page.main(person=BEN)


def test_a_modal_is_submitted_only_by_the_person_it_is_open_for(
    page: Page, demo: RunningApp
) -> None:
    page.say("/call start Standup", person=ADA)
    demo.fake.wait_for(lambda: "Open the call" in page.main(person=ADA))
    demo.settle()
    call = demo.db.only_call()
    rename = {"container": f"message:{GENERAL}:{call.message_ts}", "element": "1.2"}
    page.post("/press", **rename, **{"as": ADA, "at": GENERAL})
    demo.fake.wait_for(lambda: page.state(person=ADA)["modal"]["html"])
    (opened,) = demo.sent("views.open")
    view_id = demo.fake.views[-1]["id"]
    assert opened["view"]["callback_id"] == "call_rename_modal"

    for person, view in ((BEN, view_id), (ADA, "V0NOTOPEN")):
        page.post(
            "/submit", view=view, **{"block:title_block": "Hijacked", "as": person, "at": GENERAL}
        )
    assert demo.db.only_call().title == "Standup"
    assert page.state(person=BEN)["modal"]["html"] == ""
    assert "Rename call" in page.state(person=ADA)["modal"]["html"]

    page.post("/close", view=view_id, **{"as": ADA, "at": GENERAL})
    assert page.state(person=ADA)["modal"]["html"] == ""
    page.post("/submit", view=view_id, **{"block:title_block": "Late", "as": ADA, "at": GENERAL})
    assert demo.db.only_call().title == "Standup"  # a closed modal submits nothing


def test_without_the_script_a_form_comes_back_to_the_page(page: Page, demo: RunningApp) -> None:
    response = page.post("/message", script=False, text="hello", **{"as": BEN, "at": DESIGN})
    assert response.status == 303
    assert response.getheader("Location") == f"/?as={BEN}&at={DESIGN}&tab=home"


@pytest.mark.parametrize(
    "path", ["/static/../server.py", "/static/page.py", "/static/nothing.css", "/nothing"]
)
def test_only_the_page_and_its_two_static_files_are_served(page: Page, path: str) -> None:
    assert page.request("GET", path).status == 404


def test_a_form_too_big_is_refused(page: Page, demo: RunningApp) -> None:
    response = page.post("/message", text="x" * 70_000, **{"as": ADA, "at": GENERAL})
    assert response.status == 413
    assert "xxxx" not in page.main(person=ADA)


def test_an_app_that_is_down_is_said_as_slack_says_it(local_slack: LocalSlack) -> None:
    local_slack.connect("http://127.0.0.1:9/slack/events")  # nothing listens there
    page = Page(local_slack.page_url)
    page.say("/call start Standup", person=ADA)
    assert "failed with the error “dispatch_failed”" in page.main(person=ADA)


def test_an_app_with_another_signing_secret_refuses_the_requests(
    local_slack: LocalSlack, _sqlite_template: str, tmp_path, clock: FakeClock
) -> None:
    """The signature is what the app checks: with a secret other than the local Slack's, the
    app answers 401 and the person is told the command failed."""
    path = tmp_path / "demo.db"
    shutil.copy(_sqlite_template, path)
    url = make_url(f"sqlite:///{path}")
    settings = {**app_settings(local_slack, str(url)), "SLACK_SIGNING_SECRET": "not-the-one"}
    with serve_app(local_slack.api, url, clock, settings) as app:
        local_slack.connect(f"{app.base_url}/slack/events")
        page = Page(local_slack.page_url)
        page.say("/call start Standup", person=ADA)
        assert "failed with the error “http_service_error”" in page.main(person=ADA)
        assert app.db.calls() == []
