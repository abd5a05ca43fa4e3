"""``python -m smarkets.sandbox``: run the sandbox exchange (see :mod:`smarkets.sandbox.cli`)."""

import sys

from smarkets.sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
