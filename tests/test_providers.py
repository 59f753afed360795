"""Join-URL providers: unguessable https rooms on the configured service."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from calls_app.config import load_settings
from calls_app.providers import JitsiMeetProvider, UrlTemplateProvider, provider_from_settings

BASE_ENV = {"SLACK_SIGNING_SECRET": "signing-secret", "SLACK_BOT_TOKEN": "xoxb-bot-token"}
ROOM = re.compile(r"calls-([A-Za-z0-9]+)")
SAMPLES = 2000  # each room name is independent; enough that a 1-in-40 flaw shows every run


def room_of(url: str, prefix: str) -> str:
    assert url.startswith(prefix), url
    match = ROOM.fullmatch(url.removeprefix(prefix))
    assert match, url
    return match.group(1)


@pytest.mark.parametrize(
    ("base", "prefix"),
    [
        ("https://meet.jit.si/", "https://meet.jit.si/"),
        ("https://meet.jit.si", "https://meet.jit.si/"),
        ("https://jitsi.example.org/rooms/", "https://jitsi.example.org/rooms/"),
        ("https://jitsi.example.org/rooms", "https://jitsi.example.org/rooms/"),
    ],
)
def test_jitsi_urls_are_https_on_the_configured_base(base: str, prefix: str) -> None:
    url = JitsiMeetProvider(base).new_join_url()
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == urlsplit(base).netloc
    assert not parts.query and not parts.fragment
    room_of(url, prefix)


def test_jitsi_urls_differ_on_every_call() -> None:
    provider = JitsiMeetProvider("https://meet.jit.si/")
    urls = [provider.new_join_url() for _ in range(SAMPLES)]
    assert len(set(urls)) == SAMPLES
    rooms = [room_of(url, "https://meet.jit.si/") for url in urls]
    assert len(set(rooms)) == SAMPLES


def test_jitsi_room_names_have_at_least_20_random_alphanumerics() -> None:
    provider = JitsiMeetProvider("https://meet.jit.si/")
    for _ in range(SAMPLES):
        assert len(room_of(provider.new_join_url(), "https://meet.jit.si/")) >= 20


def test_template_substitutes_the_room() -> None:
    provider = UrlTemplateProvider("https://meet.example/{room}?pw=1")
    urls = {provider.new_join_url() for _ in range(100)}
    assert len(urls) == 100
    for url in urls:
        assert "{room}" not in url
        assert url.endswith("?pw=1")
        assert urlsplit(url).scheme == "https"
        room_of(url.removesuffix("?pw=1"), "https://meet.example/")


def test_template_with_the_room_twice_names_one_room() -> None:
    url = UrlTemplateProvider("https://{room}.meet.example/{room}").new_join_url()
    host_room, path_room = re.fullmatch(r"https://(.+)\.meet\.example/(.+)", url).groups()
    assert host_room == path_room
    assert ROOM.fullmatch(host_room)


def test_provider_from_settings_defaults_to_jitsi() -> None:
    provider = provider_from_settings(load_settings(BASE_ENV))
    assert isinstance(provider, JitsiMeetProvider)
    room_of(provider.new_join_url(), "https://meet.jit.si/")


def test_provider_from_settings_uses_the_jitsi_base() -> None:
    settings = load_settings({**BASE_ENV, "CALLS_JITSI_BASE_URL": "https://jitsi.example.org"})
    provider = provider_from_settings(settings)
    assert isinstance(provider, JitsiMeetProvider)
    room_of(provider.new_join_url(), "https://jitsi.example.org/")


def test_provider_from_settings_picks_the_template() -> None:
    settings = load_settings(
        {
            **BASE_ENV,
            "CALLS_JOIN_URL_PROVIDER": "template",
            "CALLS_JOIN_URL_TEMPLATE": "https://video.example/r/{room}",
        }
    )
    provider = provider_from_settings(settings)
    assert isinstance(provider, UrlTemplateProvider)
    room_of(provider.new_join_url(), "https://video.example/r/")


def test_template_is_ignored_unless_chosen() -> None:
    settings = load_settings(
        {**BASE_ENV, "CALLS_JOIN_URL_TEMPLATE": "https://video.example/{room}"}
    )
    assert isinstance(provider_from_settings(settings), JitsiMeetProvider)
