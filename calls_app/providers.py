"""Join-URL providers: where a call without a link given in the command takes place."""

from __future__ import annotations

import secrets
from typing import Protocol

from calls_app.config import Settings


class JoinUrlProvider(Protocol):
    def new_join_url(self) -> str:
        """An https URL for a new meeting room nobody can guess."""
        ...


def _room_name() -> str:
    # 128 random bits: an open Jitsi room is only as private as its name is unguessable.
    return "calls-" + secrets.token_hex(16)


class JitsiMeetProvider:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/") + "/"

    def new_join_url(self) -> str:
        return self._base_url + _room_name()


class UrlTemplateProvider:
    """Any service whose rooms are made by naming them in a URL, e.g. https://meet.example/{room}."""

    def __init__(self, template: str) -> None:
        self._template = template

    def new_join_url(self) -> str:
        return self._template.replace("{room}", _room_name())


def provider_from_settings(settings: Settings) -> JoinUrlProvider:
    if settings.join_url_provider == "template":
        assert settings.join_url_template is not None  # checked by load_settings
        return UrlTemplateProvider(settings.join_url_template)
    return JitsiMeetProvider(settings.jitsi_base_url)
