from slack_bolt import App


def register(app: App) -> None:
    """No events yet."""
