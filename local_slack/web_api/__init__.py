"""Slack's Web API, faked: a real HTTP server that refuses what Slack refuses. The tests run the
app against it, and so does ``make demo`` (the local Slack); one implementation for both.

Why a server and not mocks: the app talks to Slack through slack_sdk's ``WebClient`` (and Bolt),
whose request encoding (form bodies with JSON-string ``users``, JSON bodies for blocks and views),
retry handlers and error mapping are part of what has to work. Pointing
``WebClient(base_url=fake.base_url)`` at this server exercises all of that for real.

Why strict: a fake that accepts anything lets bugs through that Slack would refuse in production
(a 151-character header, a call block naming an unknown call, a trigger used twice, a
``response_url`` used a sixth time). Every refusal carries a human-readable reason, because a
failing test should say which block and which limit.

Which arguments a method requires, and which are integers or JSON, comes from the Slack method
definitions in ``local_slack/slack_api`` (slack-ruby/slack-api-ref, MIT, see
LICENSE-slack-api-ref.md).

Rate limits are off by default. ``FakeSlack(rate_limits=True)`` enforces ``SLACK_TIERS`` (per
method, per workspace, a sliding window on ``clock``), answering HTTP 429 + Retry-After as Slack
does; ``set_rate_limits()`` changes them on a running fake and ``rate_limited(method)`` counts
the refusals.

The modules, by job:

- ``fake``: ``FakeSlack``, what tests and the demo drive (lifecycle, rate limits, faults)
- ``state``: what it holds and has seen (workspaces, calls, messages, views, the request log)
- ``workspaces``: setting workspaces up (teams, tokens, users, channels, OAuth codes)
- ``server``: HTTP in and out, and the dispatch: auth, rate limits, argument checks, handler
- ``methods``, ``auth``, ``rate_limits``, ``faults``, ``errors``, ``replies``: what dispatch uses
- ``blockkit``: Block Kit validation
- ``users``, ``conversations``, ``calls``, ``chat``, ``views``, ``oauth``, ``response_urls``:
  the method families

Usage::

    with FakeSlack() as fake:
        fake.add_user("U1")
        client = WebClient(base_url=fake.base_url, token=fake.bot_token)
        client.calls_add(external_unique_id="x", join_url="https://e.x/1", created_by="U1")
        assert fake.calls_to("calls.add")
"""

from local_slack.web_api.fake import FakeSlack

__all__ = ["FakeSlack"]
