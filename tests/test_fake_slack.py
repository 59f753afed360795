"""Fast checks that the fake Slack refuses what Slack refuses, through a real WebClient."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from local_slack.web_api import FakeSlack
from local_slack.web_api.rate_limits import SLACK_TIERS, RateLimit

USER = "U0ALICE01"


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    fake.add_user(USER, name="alice")
    fake.add_channel("C0GENERAL", name="general")
    yield fake
    fake.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    # no retry handlers: every failure reaches the test as it came from the server
    return WebClient(base_url=fake.base_url, token=fake.bot_token, retry_handlers=[])


def _error_of(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def _add_call(client: WebClient, **kwargs) -> str:
    response = client.calls_add(
        external_unique_id=kwargs.pop("external_unique_id", "meeting-1"),
        join_url="https://meet.example/j/1",
        created_by=USER,
        **kwargs,
    )
    return response["call"]["id"]


def test_call_lifecycle_refuses_what_slack_refuses(fake: FakeSlack, client: WebClient) -> None:
    call_id = _add_call(client, title="Standup", users=[{"slack_id": USER}])
    assert call_id.startswith("R") and len(call_id) == 11

    guest = {"external_id": "g-1", "display_name": "Guest"}
    client.calls_participants_add(id=call_id, users=[guest])
    again = _error_of(lambda: client.calls_participants_add(id=call_id, users=[guest]))
    assert again.response["error"] == "bad_users"

    client.calls_end(id=call_id, duration=1800)
    ended = _error_of(lambda: client.calls_end(id=call_id))
    assert ended.response["error"] == "inactive_call"

    call = fake.calls[call_id]
    assert call.ended and call.duration == 1800
    assert call.users == [{"slack_id": USER}, guest]
    assert fake.calls_to("calls.add")[0]["users"] == [{"slack_id": USER}]  # decoded
    assert [r.response.get("error") for r in fake.attempts_to("calls.end")] == [
        None,
        "inactive_call",
    ]
    info = client.calls_info(id=call_id)["call"]
    assert info["duration"] == 1800 and info["title"] == "Standup"


def test_calls_arguments_are_checked(fake: FakeSlack, client: WebClient) -> None:
    no_creator = _error_of(
        lambda: client.calls_add(external_unique_id="x", join_url="https://meet.example/j/1")
    )
    assert no_creator.response["error"] == "invalid_created_by"
    bad_users = _error_of(lambda: _add_call(client, users=[{"display_name": "nobody"}]))
    assert bad_users.response["error"] == "invalid_users"
    stranger = _error_of(lambda: _add_call(client, users=[{"slack_id": "U0NOBODY"}]))
    assert stranger.response["error"] == "user_not_found"
    call_id = _add_call(client)
    fractional = _error_of(lambda: client.calls_end(id=call_id, duration="12.5"))
    assert fractional.response["error"] == "invalid_arguments"
    assert _error_of(lambda: client.calls_end(id="R0NOTACALL")).response["error"] == (
        "invalid_call_id"
    )


def test_a_value_of_the_wrong_json_type_is_refused_as_slack_does(client: WebClient) -> None:
    # A list where Slack wants a string once crashed the fake (a dict lookup of an unhashable).
    no_call = _error_of(lambda: client.api_call("calls.info", json={"id": ["R0"]}))
    assert no_call.response["error"] == "invalid_call_id"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    no_trigger = _error_of(lambda: client.views_open(trigger_id=["1.2.x"], view=modal))
    assert no_trigger.response["error"] == "invalid_arguments"
    odd_block = [{"type": ["section"]}]
    refused = _error_of(lambda: client.chat_postMessage(channel="C0GENERAL", blocks=odd_block))
    assert refused.response["error"] == "invalid_blocks"
    assert "/blocks/0" in refused.response["errors"][0]


def test_tokens_are_checked_and_teams_kept_apart(fake: FakeSlack, client: WebClient) -> None:
    anonymous = WebClient(base_url=fake.base_url, retry_handlers=[])
    assert _error_of(anonymous.auth_test).response["error"] == "not_authed"
    wrong = WebClient(base_url=fake.base_url, token="xoxb-wrong", retry_handlers=[])
    assert _error_of(wrong.auth_test).response["error"] == "invalid_auth"

    fake.add_team("T0002", bot_token="xoxb-other")
    other = WebClient(base_url=fake.base_url, token="xoxb-other", retry_handlers=[])
    assert other.auth_test()["team_id"] == "T0002"
    call_id = _add_call(client)
    assert _error_of(lambda: other.calls_info(id=call_id)).response["error"] == "invalid_call_id"


def test_call_block_must_name_a_known_call(fake: FakeSlack, client: WebClient) -> None:
    unknown = [{"type": "call", "call_id": "R0UNKNOWN1"}]
    refused = _error_of(
        lambda: client.chat_postMessage(channel="C0GENERAL", text="call", blocks=unknown)
    )
    assert refused.response["error"] == "invalid_blocks"
    assert "R0UNKNOWN1" in refused.response["errors"][0]

    call_id = _add_call(client)
    posted = client.chat_postMessage(
        channel="C0GENERAL", text="call", blocks=[{"type": "call", "call_id": call_id}]
    )
    assert fake.messages[0].ts == posted["ts"]
    assert fake.messages[0].blocks == [{"type": "call", "call_id": call_id}]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_block_kit_limits(client: WebClient) -> None:
    header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    refused = _error_of(lambda: client.chat_postMessage(channel="C0GENERAL", blocks=header))
    assert refused.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in refused.response["errors"][0]

    mrkdwn_button = [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "mrkdwn", "text": "Join"}}],
        }
    ]
    refused = _error_of(
        lambda: client.chat_postMessage(channel="C0GENERAL", text="t", blocks=mrkdwn_button)
    )
    assert "plain_text" in refused.response["errors"][0]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_channels_and_messages(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C0OUTSIDE", bot_is_member=False)
    fake.add_channel("G0SECRET", is_private=True, bot_is_member=False)
    post = client.chat_postMessage
    assert _error_of(lambda: post(channel="C0OUTSIDE", text="x")).response["error"] == (
        "not_in_channel"
    )
    assert _error_of(lambda: post(channel="G0SECRET", text="x")).response["error"] == (
        "channel_not_found"
    )
    assert _error_of(lambda: post(channel="C0GENERAL")).response["error"] == "no_text"

    dm = post(channel=USER, text="hello")
    assert dm["channel"] == "D" + USER
    first = post(channel="C0GENERAL", text="one")
    client.chat_update(channel="C0GENERAL", ts=first["ts"], text="two")
    assert float(dm["ts"]) < float(first["ts"])
    assert fake.messages_in("C0GENERAL")[0].text == "two"
    assert fake.messages_in("C0GENERAL")[0].updates == 1
    missing = _error_of(lambda: client.chat_update(channel="C0GENERAL", ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"


def test_channel_members_come_in_pages(fake: FakeSlack, client: WebClient) -> None:
    people = [f"U0PERSON{i:02d}" for i in range(5)]
    for person in people:
        fake.add_user(person)
    fake.add_channel("C0BIG", members=people)
    fake.add_channel("C0OUTSIDE", bot_is_member=False, members=people[:1])
    fake.add_channel("G0SECRET", is_private=True, bot_is_member=False)

    seen, cursor, pages = [], None, 0
    while True:
        page = client.conversations_members(channel="C0BIG", limit=2, cursor=cursor)
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (seen, pages) == ([*people, "U0BOT"], 3)  # the bot is in it too
    fake.members_per_page = 1  # Slack may answer fewer than asked for
    assert client.conversations_members(channel="C0BIG", limit=999)["members"] == people[:1]
    # by default every user of the team is in a channel; the bot only where it was invited
    assert client.conversations_members(channel="C0GENERAL")["members"] == [USER]
    fake.members_per_page = None
    assert client.conversations_members(channel="C0OUTSIDE")["members"] == people[:1]

    def error(**kwargs) -> str:
        return _error_of(lambda: client.conversations_members(**kwargs)).response["error"]

    assert error(channel="C0BIG", cursor="bm90LWEtY3Vyc29y") == "invalid_cursor"
    assert error(channel="C0BIG", cursor="%%%") == "invalid_cursor"
    assert error(channel="C0BIG", limit=0) == "invalid_limit"
    assert error(channel="C0BIG", limit=1000) == "invalid_limit"
    assert error(channel="C0NOSUCH") == "channel_not_found"
    assert error(channel="G0SECRET") == "channel_not_found"
    with pytest.raises(ValueError, match="add_user"):
        fake.add_channel("C0STRANGERS", members=["U0NOBODY"])


def test_rate_limit_is_a_429_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    limited = _error_of(lambda: client.chat_postMessage(channel="C0GENERAL", text="hi"))
    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "1"
    assert limited.response["error"] == "ratelimited"
    client.chat_postMessage(channel="C0GENERAL", text="hi")  # only the next one failed
    assert [r.status for r in fake.attempts_to("chat.postMessage")] == [429, 200]


class _Clock:
    """The fake's clock, moved by the test instead of sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limited(call) -> SlackApiError:
    """The SlackApiError of a request the rate limits refused; a WebClient without retry
    handlers raises it with the 429 and its Retry-After."""
    error = _error_of(call)
    assert error.response.status_code == 429
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    return error


def test_rate_limits_are_off_by_default(fake: FakeSlack, client: WebClient) -> None:
    fake.clock = _Clock()
    assert fake.rate_limits == {}
    for n in range(SLACK_TIERS["calls.add"][0].calls + 1):  # one more than Tier 2 allows
        _add_call(client, external_unique_id=f"meeting-{n}")
    assert fake.rate_limited() == 0
    assert FakeSlack(rate_limits=False).rate_limits == {}
    assert FakeSlack(rate_limits=True).rate_limits == SLACK_TIERS


def test_the_51st_participants_add_in_a_minute_is_refused_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    clock = fake.clock = _Clock()
    start = clock.now
    fake.set_rate_limits(True)
    call_id = _add_call(client)
    guests = [{"external_id": f"g-{n}", "display_name": f"Guest {n}"} for n in range(50)]
    for guest in guests:  # Tier 3: 50 a minute, one every half second here
        client.calls_participants_add(id=call_id, users=[guest])
        clock.now += 0.5
    latecomer = [{"external_id": "g-late", "display_name": "Late"}]

    refused = _limited(lambda: client.calls_participants_add(id=call_id, users=latecomer))
    assert refused.response.headers["Retry-After"] == "35"  # the first leaves the window at 60 s
    assert fake.calls[call_id].users == guests  # nothing changed
    attempts = fake.attempts_to("calls.participants.add")
    assert [a.status for a in attempts] == [200] * 50 + [429]
    assert attempts[-1].args["users"] == latecomer  # recorded, as it was sent
    assert len(fake.calls_to("calls.participants.add")) == 50
    assert fake.rate_limited("calls.participants.add") == 1

    # another method of the same workspace has windows of its own
    client.calls_update(id=call_id, title="Still on")
    assert client.calls_info(id=call_id)["call"]["title"] == "Still on"
    # another workspace too
    fake.add_team("T0002", bot_token="xoxb-other")
    fake.add_user("U0BOB00001", team_id="T0002")
    other = WebClient(base_url=fake.base_url, token="xoxb-other", retry_handlers=[])
    other_call = other.calls_add(
        external_unique_id="m-2", join_url="https://e.x/2", created_by="U0BOB00001"
    )
    other.calls_participants_add(id=other_call["call"]["id"], users=latecomer)

    clock.now = start + 59.9
    again = _limited(lambda: client.calls_participants_add(id=call_id, users=latecomer))
    assert again.response.headers["Retry-After"] == "1"  # whole seconds, at least 1
    # the first has left the window, and the refusals never entered it: room for exactly one
    clock.now = start + 60
    client.calls_participants_add(id=call_id, users=latecomer)
    assert fake.calls[call_id].users == guests + latecomer
    _limited(lambda: client.calls_participants_add(id=call_id, users=[{"external_id": "g-x"}]))
    assert fake.rate_limited("calls.participants.add") == 3
    assert fake.rate_limited() == 3


def test_chat_post_message_is_limited_per_channel_and_per_workspace(
    fake: FakeSlack, client: WebClient
) -> None:
    clock = fake.clock = _Clock()
    fake.add_channel("C0RANDOM", name="random")
    fake.add_channel("C0THIRD", name="third")
    fake.set_rate_limits(True)
    for n in range(3):  # a burst of a few
        client.chat_postMessage(channel="C0GENERAL", text=f"burst {n}")
    refused = _limited(lambda: client.chat_postMessage(channel="C0GENERAL", text="too fast"))
    assert refused.response.headers["Retry-After"] == "3"
    assert [m.text for m in fake.messages_in("C0GENERAL")] == [f"burst {n}" for n in range(3)]
    client.chat_postMessage(channel="C0RANDOM", text="another channel")
    clock.now += 1
    _limited(lambda: client.chat_postMessage(channel="C0GENERAL", text="still too fast"))
    clock.now += 2  # one a second on average
    client.chat_postMessage(channel="C0GENERAL", text="in time")
    assert fake.messages_in("C0GENERAL")[-1].text == "in time"

    # the workspace-wide limit, here made small on the running fake
    fake.set_rate_limits({"chat.postMessage": (RateLimit(1, 1.0, per_channel=True), RateLimit(2))})
    client.chat_postMessage(channel="C0GENERAL", text="one")
    client.chat_postMessage(channel="C0RANDOM", text="two")
    refused = _limited(lambda: client.chat_postMessage(channel="C0THIRD", text="three"))
    assert refused.response.headers["Retry-After"] == "60"
    assert fake.messages_in("C0THIRD") == []
    assert fake.rate_limited("chat.postMessage") == 3
    for n in range(SLACK_TIERS["calls.add"][0].calls + 1):  # a method not in the table: no limit
        _add_call(client, external_unique_id=f"unlimited-{n}")


def test_rate_limits_are_checked(fake: FakeSlack) -> None:
    with pytest.raises(ValueError, match="no.such"):
        fake.set_rate_limits({"no.such": 5})
    with pytest.raises(ValueError, match="at least one call"):
        fake.set_rate_limits({"calls.add": 0})
    with pytest.raises(TypeError):
        fake.set_rate_limits({"calls.add": True})
    fake.set_rate_limits({"calls.add": 5})
    assert fake.rate_limits == {"calls.add": (RateLimit(5),)}
    fake.set_rate_limits(None)
    assert fake.rate_limits == {}


def test_a_burst_of_a_thousand_requests_is_served_and_limited_exactly() -> None:
    with FakeSlack(rate_limits=True) as fake:
        fake.clock = _Clock()

        def auth_test(_: int) -> tuple[int, str | None]:
            request = urllib.request.Request(
                fake.base_url + "auth.test",
                data=b"",
                headers={
                    "Authorization": f"Bearer {fake.bot_token}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, None
            except urllib.error.HTTPError as error:
                return error.code, error.headers["Retry-After"]

        with ThreadPoolExecutor(max_workers=200) as pool:
            answers = list(pool.map(auth_test, range(1000)))
    assert answers.count((200, None)) == 100  # Tier 4, however the requests interleave
    assert answers.count((429, "60")) == 900
    assert fake.rate_limited("auth.test") == 900
    assert len(fake.attempts_to("auth.test")) == 1000


def test_server_errors_drops_and_hangs(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("auth.test", status=503)
    assert _error_of(client.auth_test).response.status_code == 503

    fake.fail_next("auth.test", drop_connection=True)
    with pytest.raises(Exception) as dropped:  # noqa: B017 (urllib's exact type varies)
        client.auth_test()
    assert not isinstance(dropped.value, SlackApiError)

    release = threading.Event()
    fake.fail_next("auth.test", hang=release)
    answers: list[str] = []
    worker = threading.Thread(target=lambda: answers.append(client.auth_test()["user_id"]))
    worker.start()
    worker.join(0.1)
    assert worker.is_alive() and not answers
    release.set()
    worker.join(2)
    assert answers == ["U0BOT"]


def test_a_landed_fault_takes_effect_though_the_client_gets_the_fault(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail_next("chat.postMessage", status=503, landed=True)
    failed = _error_of(lambda: client.chat_postMessage(channel="C0GENERAL", text="hi"))
    assert failed.response.status_code == 503
    fake.fail_next("chat.postMessage", drop_connection=True, landed=True)
    with pytest.raises(Exception):  # noqa: B017 (urllib's exact type varies)
        client.chat_postMessage(channel="C0GENERAL", text="again")
    assert [m.text for m in fake.messages_in("C0GENERAL")] == ["hi", "again"]
    assert [r.status for r in fake.attempts_to("chat.postMessage")] == [503, 0]
    with pytest.raises(ValueError, match="landed"):
        fake.fail_next("chat.postMessage", error="channel_not_found", landed=True)


def test_views_and_triggers(fake: FakeSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Start a call"},
        "submit": {"type": "plain_text", "text": "Start"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "title"},
            }
        ],
    }
    trigger = fake.new_trigger_id()
    opened = client.views_open(trigger_id=trigger, view=modal)
    assert opened["view"]["id"].startswith("V")
    reused = _error_of(lambda: client.views_open(trigger_id=trigger, view=modal))
    assert reused.response["error"] == "exchanged_trigger_id"

    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    trigger = fake.new_trigger_id()
    refused = _error_of(lambda: client.views_open(trigger_id=trigger, view=long_title))
    assert refused.response["error"] == "invalid_arguments"
    assert "/view/title/text" in refused.response["errors"][0]

    client.views_publish(user_id=USER, view={"type": "home", "blocks": []})
    assert fake.home_views[USER] == {"type": "home", "blocks": []}


def test_oauth_code_exchange(fake: FakeSlack) -> None:
    fake.set_oauth_code("code-1", team_id="T0NEW", bot_token="xoxb-new", bot_user_id="U0NEWBOT")
    anonymous = WebClient(base_url=fake.base_url, retry_handlers=[])
    granted = anonymous.oauth_v2_access(client_id="111.222", client_secret="s3cret", code="code-1")
    assert granted["access_token"] == "xoxb-new" and granted["team"]["id"] == "T0NEW"
    reused = _error_of(
        lambda: anonymous.oauth_v2_access(client_id="111.222", client_secret="s", code="code-1")
    )
    assert reused.response["error"] == "invalid_code"
    installed = WebClient(base_url=fake.base_url, token="xoxb-new", retry_handlers=[])
    assert installed.auth_test()["user_id"] == "U0NEWBOT"
    # the default OAuth scopes do not include team:read
    assert _error_of(installed.team_info).response["error"] == "missing_scope"


def _post(url: str, body: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_response_url_works_five_times(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    for n in range(5):
        assert _post(url, {"text": f"update {n}"}) == (200, b"ok")
    status, body = _post(url, {"text": "one too many"})
    assert status == 404 and json.loads(body)["error"] == "used_url"
    assert [r["text"] for r in fake.responses_to(url)] == [f"update {n}" for n in range(5)]
    assert fake.rejected_responses[-1]["error"] == "used_url"
    assert fake.wait_for_response(url, count=5)["text"] == "update 4"
    assert _post(fake.root_url + "/response/unknown", {"text": "x"})[0] == 404


def test_wait_for_explains_a_timeout(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match="auth.test -> ok"):
        fake.wait_for(lambda: fake.calls_to("calls.add"), timeout=0.05)


def test_an_org_wide_token_acts_only_in_a_workspace_of_its_organization(fake: FakeSlack) -> None:
    fake.add_team("T0INORG", bot_token="xoxb-unused-in", enterprise_id="E0ORG")
    fake.add_team("T0OUTSIDE", bot_token="xoxb-unused-out")
    fake.add_channel("C0INORG", name="in-org", team_id="T0INORG")
    fake.set_oauth_code("org-code", team_id=None, enterprise_id="E0ORG", bot_token="xoxb-org")
    grant = WebClient(base_url=fake.base_url).oauth_v2_access(
        client_id="id", client_secret="secret", code="org-code"
    )
    assert (grant["is_enterprise_install"], grant["team"]) == (True, None)
    org = WebClient(base_url=fake.base_url, token="xoxb-org", retry_handlers=[])
    assert org.auth_test()["enterprise_id"] == "E0ORG"  # no workspace needed to ask who it is
    missing = _error_of(lambda: org.chat_postMessage(channel="C0INORG", text="hi"))
    assert missing.response["error"] == "missing_argument"
    outside = _error_of(
        lambda: org.chat_postMessage(channel="C0INORG", text="hi", team_id="T0OUTSIDE")
    )
    assert outside.response["error"] == "team_access_not_granted"
    org.chat_postMessage(channel="C0INORG", text="hi", team_id="T0INORG")
    assert [m.text for m in fake.messages_in("C0INORG")] == ["hi"]
