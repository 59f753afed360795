"""The people and channels of the workspace the ``fake_slack`` fixture sets up."""

from __future__ import annotations

ALICE = "U0ALICE001"  # starts most calls
BOB = "U0BOB00001"
CAROL = "U0CAROL001"
ADMIN = "U0ADMIN001"  # a workspace admin
OWNER = "U0OWNER001"  # the workspace's primary owner
GENERAL = "C0GENERAL"  # a channel the app is in
OUTSIDE = "C0OUTSIDE"  # a channel the app was never invited to
OTHER_TEAM = "T0OTHER"
