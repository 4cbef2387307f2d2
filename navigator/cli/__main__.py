"""``python -m navigator.cli``."""

from navigator.cli.main import run

run()
