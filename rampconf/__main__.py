"""``python -m rampconf``: compose, validate and run (see :mod:`rampconf.cli`)."""

from rampconf.cli import main

if __name__ == "__main__":
    main()
