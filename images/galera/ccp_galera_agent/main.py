"""ccp-galera-agent CONFIG.json: run the agent of one Galera member."""

import logging
import sys
from pathlib import Path

from .agent import Agent, Config


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return Agent(Config.from_file(Path(sys.argv[1]))).run()


if __name__ == "__main__":
    sys.exit(main())
