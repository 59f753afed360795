"""The app as `python app.py` runs it: commands through its HTTP port, its /metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from local_slack.app_requests import SlackDriver, get
from local_slack.web_api import FakeSlack
from tests.app_process import AppProcess
from tests.support.app import command_reply
from tests.support.workspace import ALICE

REPLY_TIMEOUT = 10.0


StartApp = Callable[..., AppProcess]


def driver(app: AppProcess, fake: FakeSlack) -> SlackDriver:
    return SlackDriver(app.events_url, fake.new_response_url)


def command(app: AppProcess, fake: FakeSlack, text: str, *, user: str = ALICE) -> dict:
    """`/call …` through the app's HTTP port; returns the private reply."""
    result, response_url = driver(app, fake).command(text, user=user)
    assert result.status == 200, (result, app.output())
    return command_reply(fake, text, result.body, response_url, timeout=REPLY_TIMEOUT)


@dataclass
class Scrape:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def __sub__(self, before: Scrape):
        return lambda name, **labels: self.value(name, **labels) - before.value(name, **labels)


def scrape(base_url: str) -> Scrape:
    result = get(f"{base_url}/metrics")
    assert result.status == 200, result
    content_type = {k.lower(): v for k, v in result.headers.items()}["content-type"]
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    samples = {}
    for family in text_string_to_metric_families(result.body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return Scrape(samples)
