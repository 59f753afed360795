"""`python -m local_slack`: the demo (see local_slack/demo.py)."""

import sys

from local_slack.demo import main

sys.exit(main())
