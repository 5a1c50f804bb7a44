"""python -m ccp_operator [options]: the same as the ccp-operator command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
