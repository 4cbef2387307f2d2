"""The ``navigator`` command: the parser of every role's commands, and errors as messages."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from typing import TYPE_CHECKING, NoReturn

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
    worker,
)
from navigator.errors import NavigatorError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from navigator.cli.common import Caller

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
    worker.register(sub, parser=build_parser, execute=execute)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``navigator`` command; return its exit status.

    A decision command goes to its store's worker when one runs (``navigator worker start``)
    and runs in-process otherwise: same output, same exit status.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    return _guarded(args, lambda: _forwarded_or_run(args, words))


def run() -> NoReturn:
    """Run ``navigator`` as a program (``python -m navigator.cli``, the console script).

    :func:`main`, then the exit handlers, and the process ends without tearing the
    interpreter down: freeing every module's objects (numba's, pandas') cost about 0.2 s
    of CPU after each command's answer was out. With another thread still running the exit
    is the ordinary one (it waits for that thread).
    """
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()  # first: what they write is flushed below
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the descriptor was closed when Python started
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)  # let the ordinary exit report a stream that cannot be written
    os._exit(code)


def execute(args: argparse.Namespace, caller: Caller | None = None) -> int:
    """Run parsed arguments in this process (for ``caller`` in a worker); the exit status.

    Errors become a message on stderr and a non-zero status, as in :func:`main`.
    """
    if caller is None:
        return _guarded(args, lambda: int(args.func(args)))
    return _guarded(args, lambda: int(args.func(args, caller=caller)))


def _forwarded_or_run(args: argparse.Namespace, words: list[str]) -> int:
    answered = worker.forward(args, words)
    if answered is None:
        return int(args.func(args))
    code, out, err = answered
    sys.stderr.write(err)
    sys.stdout.write(out)
    sys.stdout.flush()
    return code


def _guarded(args: argparse.Namespace, call: Callable[[], int]) -> int:
    try:
        return call()
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
    run()
