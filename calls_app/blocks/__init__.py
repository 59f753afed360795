"""Every Block Kit message and view the app sends, built by small pure functions, a module per
surface. The sentences come from wording.py; the limits are kept in elements.py."""
