"""A local Slack: Slack's Web API (strict, as the tests use it) and, for `make demo`, a page in
the browser where people of one workspace use the app as they would in Slack."""
