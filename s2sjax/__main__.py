"""`python -m s2sjax ...`: see s2sjax/cli.py."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
