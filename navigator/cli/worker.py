"""``navigator worker start|stop|status|run`` and ``navigator warm-up``: decisions answered warm.

A worker is a local process that keeps one store's road network and the routing kernels
loaded and answers the CLI's decision commands (:data:`WORKER_COMMANDS`) over a Unix socket
(:mod:`navigator.cli.transport`): one worker per store and graph. The CLI asks it when it
runs and otherwise answers in-process; either way it prints the same output and exits with
the same code. The worker runs each command exactly as the CLI would (the caller's options,
``NAVIGATOR_*`` variables and folder; the store opened and read for every command, road
closures included), reloads the network when its graph cache changes, and stops when asked,
on SIGTERM, when its socket file goes away or when its code changed on disk.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.cli import transport
from navigator.cli.common import (
    Caller,
    CliError,
    add_region_option,
    add_store_option,
    print_json,
    say,
    settings_from_args,
    store_settings,
    worker_key,
)
from navigator.errors import NavigatorError

if TYPE_CHECKING:
    from navigator.cli.common import Subcommands
    from navigator.config import Settings

__all__ = ["WORKER_COMMANDS", "forward", "register"]

#: Commands a worker answers: decisions that route and write nothing but their audit entry.
WORKER_COMMANDS = frozenset({"find-bed", "find-service", "rank-teams", "batch"})
#: Builds the ``navigator`` parser / runs parsed arguments (for a caller) to an exit status.
Parser = Callable[[], argparse.ArgumentParser]
Execute = Callable[[argparse.Namespace, "Caller | None"], int]

_MAX_ARGS = 200


def caller_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the ``NAVIGATOR_*`` variables of ``environ`` (what a worker runs with)."""
    return {k: v for k, v in environ.items() if k.startswith("NAVIGATOR_")}


def forward(args: argparse.Namespace, argv: list[str]) -> tuple[int, str, str] | None:
    """Answer a command through its store's worker; None when no worker answers it.

    Returns
    -------
    tuple or None
        ``(exit status, stdout, stderr)`` of the command as the worker ran it; None when the
        command is not one a worker answers, no worker runs for this store and graph, or
        the worker did not give a whole answer (then run the command in-process).
    """
    if args.command not in WORKER_COMMANDS:
        return None
    cwd, env = Path.cwd(), caller_environ(os.environ)
    try:
        key = worker_key(args, environ=env, cwd=cwd)
    except (NavigatorError, OSError, ValueError):
        return None  # in-process gives the error its usual words
    path = transport.socket_path(key)
    if path is None:
        return None
    reply = transport.exchange(path, {"protocol": transport.PROTOCOL, "op": "run", "key": key,
                                      "argv": argv, "cwd": str(cwd), "env": env})
    if reply is None or reply.get("ok") is not True:
        return None
    code, out, err = reply.get("exit"), reply.get("stdout"), reply.get("stderr")
    if type(code) is not int or not isinstance(out, str) or not isinstance(err, str):
        return None
    return code, out, err


def _code_fingerprint() -> str:
    """Return a digest of the package's source files (names, sizes, modification times)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@dataclass
class _Worker:
    """One worker's state: what it serves and how it answers."""

    key: str
    store_url: str
    parser: argparse.ArgumentParser
    execute: Execute
    network: Callable[..., Any]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fingerprint: str = field(default_factory=_code_fingerprint)
    started: float = field(default_factory=time.time)
    served: int = 0

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return {"ok": True, "pid": os.getpid(), "store": self.store_url, "key": self.key,
                    "served": self.served, "uptime_s": round(time.time() - self.started, 1)}
        if op == "stop":
            self.stop.set()
            return {"ok": True, "pid": os.getpid()}
        if op != "run":
            return {"ok": False, "error": "bad request: op must be run, status or stop"}
        argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
        if (not isinstance(argv, list) or not 0 < len(argv) <= _MAX_ARGS
                or not all(isinstance(a, str) for a in argv)):
            return {"ok": False, "error": "bad request: argv must be a list of strings"}
        if not isinstance(cwd, str) or not os.path.isabs(cwd) or not os.path.isdir(cwd):
            return {"ok": False, "error": "bad request: cwd must be an existing absolute folder"}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in env.items()):
            return {"ok": False, "error": "bad request: env must map names to strings"}
        if request.get("key") != self.key:
            return {"ok": False, "error": "bad request: this worker serves another store"}
        with self.lock:
            if _code_fingerprint() != self.fingerprint:
                self.stop.set()
                return {"ok": False, "error": "the code changed since the worker started"}
            caller = Caller(environ=caller_environ(env), cwd=Path(cwd), network=self.network)
            return self._run(argv, caller)

    def _run(self, argv: list[str], caller: Caller) -> dict[str, Any]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                args = self.parser.parse_args(argv)
            except SystemExit:
                return {"ok": False, "error": "bad request: " + err.getvalue().strip()[-300:]}
            if args.command not in WORKER_COMMANDS:
                return {"ok": False, "error": f"bad request: {args.command} is not a command "
                                              "a worker answers"}
            try:
                same = worker_key(args, environ=caller.environ, cwd=caller.cwd) == self.key
            except (NavigatorError, ValueError):
                same = False
            if not same:
                return {"ok": False, "error": "bad request: this worker serves another store"}
            code = self.execute(args, caller)
        self.served += 1
        return {"ok": True, "exit": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


# -- commands -----------------------------------------------------------------------------
def _settings(args: argparse.Namespace) -> Settings:
    """Return the settings of the store the worker is for (its recorded region applied)."""
    from navigator.store import open_store

    settings = settings_from_args(args, cwd=Path.cwd())
    url = settings.store_url
    if "://" not in url and not Path(url).exists():
        msg = f"no store at {url}: load one first (navigator demo), or pass --store"
        raise CliError(msg)
    store = open_store(url)
    try:
        return store_settings(settings, store, args)
    finally:
        store.close()


def _socket(args: argparse.Namespace) -> tuple[str, Path]:
    key = worker_key(args, environ=caller_environ(os.environ), cwd=Path.cwd())
    path = transport.socket_path(key, create=True)
    if path is None:
        msg = (f"no safe folder for worker sockets ({transport.socket_folder()}: it must be "
               "yours, mode 0700, with a path under 100 bytes)")
        raise CliError(msg)
    return key, path


def _status(path: Path) -> dict[str, Any] | None:
    reply = transport.exchange(path, {"protocol": transport.PROTOCOL, "op": "status"},
                               timeout_s=10.0)
    return reply if reply is not None and reply.get("ok") is True else None


def run_worker(args: argparse.Namespace) -> int:
    """Serve this store's decisions in the foreground until stopped (for a service manager)."""
    from navigator.services.worker import warm_network, warm_up

    key, path = _socket(args)
    lock = transport.hold_lock(path)
    try:
        settings = _settings(args)
        osm = None if args.osm_file is None else Path.cwd() / args.osm_file
        ready = warm_up(settings, osm)
        worker = _Worker(key=key, store_url=settings.store_url, parser=args.parser(),
                         execute=args.execute, network=warm_network)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
        transport.serve(path, worker.handle, worker.stop, ready=lambda: say(
            f"worker {os.getpid()} serving {settings.store_url} on {path}: "
            f"{ready.nodes:,} nodes from {Path(ready.source).name}, network "
            f"{ready.network_s:.1f} s, kernels {ready.kernels_s:.1f} s"))
    finally:
        os.close(lock)
    say(f"worker {os.getpid()} stopped")
    return 0


def _store_argv(args: argparse.Namespace) -> list[str]:
    out = []
    for flag, value in (("--store", args.store), ("--osm-file", args.osm_file),
                        ("--cache-dir", args.cache_dir), ("--region", args.region)):
        if value is not None:
            out += [flag, str(value)]
    return out


def run_start(args: argparse.Namespace) -> int:
    """Start this store's worker in the background; wait until it answers."""
    _, path = _socket(args)
    running = _status(path)
    if running is not None:
        say(f"worker {running['pid']} already serves {running['store']} ({path})")
        return 0
    _settings(args)  # a missing store or a changed region file is refused here, not in a log
    log_path = path.with_suffix(".log")
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:  # its own session, no Popen object: it outlives this command quietly
        pid = os.posix_spawn(
            sys.executable, [sys.executable, "-m", "navigator.cli", "worker", "run",
                             *_store_argv(args)], os.environ, setsid=True,
            file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                          (os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2)])
    finally:
        os.close(log)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        running = _status(path)
        if running is not None and running["pid"] == pid:
            say(f"worker {pid} serving {running['store']} ({path}); log {log_path}")
            return 0
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            msg = (f"the worker exited ({os.waitstatus_to_exitcode(status)}): "
                   + " / ".join(tail))
            raise CliError(msg)
        time.sleep(0.2)
    os.kill(pid, signal.SIGTERM)
    msg = f"the worker did not answer within {args.wait:g} s (log {log_path})"
    raise CliError(msg)


def run_stop(args: argparse.Namespace) -> int:
    """Stop this store's worker (nothing to do when none runs)."""
    _, path = _socket(args)
    reply = transport.exchange(path, {"protocol": transport.PROTOCOL, "op": "stop"},
                               timeout_s=10.0)
    if reply is None or reply.get("ok") is not True:
        say("no worker runs for this store")
        return 0
    deadline = time.monotonic() + 10.0
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    say(f"worker {reply['pid']} stopped")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Say whether this store's worker runs (exit 1 when not)."""
    _, path = _socket(args)
    running = _status(path)
    if args.json:
        print_json({"running": running is not None, "socket": str(path), **(running or {})})
    elif running is None:
        say(f"no worker runs for this store ({path})")
    else:
        say(f"worker {running['pid']} serves {running['store']} ({path}): "
            f"{running['served']} answers in {running['uptime_s']:.0f} s")
    return 0 if running is not None else 1


def run_warm_up(args: argparse.Namespace) -> int:
    """Compile (or load from cache) the routing kernels the decisions use; load the network."""
    from navigator.services.worker import warm_up

    osm = None if args.osm_file is None else Path.cwd() / args.osm_file
    settings = settings_from_args(args, cwd=Path.cwd())
    url = settings.store_url
    if "://" in url or Path(url).exists():
        settings = _settings(args)
    ready = warm_up(settings, osm)
    say(f"{Path(ready.source).name}: {ready.nodes:,} nodes; network {ready.network_s:.1f} s, "
        f"routing kernels and snapping index {ready.kernels_s:.1f} s")
    return 0


def _options(p: argparse.ArgumentParser) -> None:
    add_store_option(p)
    p.add_argument("--osm-file", type=Path, help="road extract (default: the region's)")
    p.add_argument("--cache-dir", type=Path, help="where built networks are cached")
    add_region_option(p)


def register(sub: Subcommands, *, parser: Parser, execute: Execute) -> None:
    """Add ``worker`` and ``warm-up`` to the parser's subcommands ``sub``.

    ``parser`` builds the ``navigator`` parser and ``execute`` runs parsed arguments for a
    caller (both from :mod:`navigator.cli.main`): what a worker answers with.
    """
    p = sub.add_parser("worker", help="a local process answering decisions warm",
                       description=(__doc__ or "").split("\n\n")[1].replace("\n", " "))
    actions = p.add_subparsers(dest="worker_command", metavar="ACTION", required=True)
    for name, run, help_ in (
            ("start", run_start, "start this store's worker in the background"),
            ("stop", run_stop, "stop this store's worker"),
            ("status", run_status, "whether this store's worker runs"),
            ("run", run_worker, "serve in the foreground (for a service manager)")):
        a = actions.add_parser(name, help=help_, description=run.__doc__)
        _options(a)
        a.set_defaults(func=run, parser=parser, execute=execute)
        if name == "start":
            a.add_argument("--wait", type=float, default=300.0,
                           help="seconds to wait for it to answer (first run compiles)")
        if name == "status":
            a.add_argument("--json", action="store_true", help="print the status as JSON")
    p = sub.add_parser("warm-up", help="compile the routing kernels and load the network now",
                       description=run_warm_up.__doc__)
    _options(p)
    p.set_defaults(func=run_warm_up)
