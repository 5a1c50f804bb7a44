"""python -m ccp_operator [kopf run options]: runs the operator through kopf's command line."""

import sys

from kopf.cli import main

if __name__ == "__main__":
    sys.argv = ["kopf", "run", "-m", "ccp_operator.main", *(sys.argv[1:] or ["--all-namespaces"])]
    sys.exit(main())
