"""The ``navigator`` command: the parser of every role's commands, and errors as messages."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from navigator import __version__
from navigator.cli import (
    admin,
    caseworker,
    closures,
    compliance,
    dispatcher,
    planner,
    region,
    shelter,
    simulate,
    surge,
    users,
)
from navigator.errors import NavigatorError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: One module per role; each adds its commands with ``register(subcommands)``.
ROLE_COMMANDS = (admin, caseworker, dispatcher, compliance, closures, planner, simulate, region,
                 shelter, surge, users)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``navigator`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="navigator",
        description="Road-network resource navigation and mobile dispatch for crisis services.")
    parser.add_argument("--version", action="version", version=f"navigator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in ROLE_COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``navigator`` command; return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except NavigatorError as e:
        print(f"navigator {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `navigator find-bed ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        print(f"navigator {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
