"""``python -m heron.cli``."""

from heron.cli.main import main

main()
