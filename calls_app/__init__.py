"""calls-app: video calls in Slack through Slack's Calls API."""
