"""`python -m dedup`: the same command line as the `dedup` script."""

import sys

from dedup.cli import main

sys.exit(main())
