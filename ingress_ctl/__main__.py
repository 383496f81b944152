"""`python -m ingress_ctl` runs the command line."""

import sys

from ingress_ctl.cli import main

sys.exit(main())
