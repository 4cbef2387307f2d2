"""The local worker's transport: a Unix socket per store and graph, one JSON request each.

A client connects, sends one JSON object and shuts its side down; the worker answers one JSON
object and closes. Sockets live in ``$XDG_RUNTIME_DIR/navigator`` (else
``/tmp/navigator-<uid>``), a folder of mode 0700 owned by the user; each socket is 0600 and
the worker checks every peer's user id (``SO_PEERCRED``), so another user can neither connect
nor be answered. A client trusts a socket only when it and its folder are the user's own.
Anything unexpected on the client side (no worker, a stale socket file, a worker killed
mid-answer, a refusal) is ``None``: the command then runs in-process, as without a worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from navigator.errors import NavigatorError

__all__ = ["MAX_REQUEST_BYTES", "PROTOCOL", "WorkerBusyError", "exchange", "hold_lock",
           "serve", "socket_folder", "socket_path"]

log = logging.getLogger(__name__)

#: Version of the request and reply format; a worker refuses requests of another.
PROTOCOL = 1
#: Largest request a worker reads (bytes); a larger one is refused.
MAX_REQUEST_BYTES = 1 << 20
_READ_TIMEOUT_S = 10.0  # a client that connects and sends nothing does not hold a thread
_SUN_PATH_MAX = 100  # AF_UNIX paths are limited to 108 bytes


class WorkerBusyError(NavigatorError, RuntimeError):
    """Another worker already serves this store and graph."""


def socket_folder(*, create: bool = False) -> Path | None:
    """Return the user's folder of worker sockets; None when it is missing or not safe.

    Parameters
    ----------
    create
        Make the folder (mode 0700) when missing.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(runtime) / "navigator" if runtime else Path(f"/tmp/navigator-{os.getuid()}")
    if create:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return folder


def socket_path(key: str, *, create: bool = False) -> Path | None:
    """Return the socket of the worker with ``key`` (:func:`navigator.cli.common.worker_key`).

    None when the folder is missing or not safe (owned by another user, open to others).
    """
    folder = socket_folder(create=create)
    if folder is None:
        return None
    path = folder / f"{key[:24]}.sock"
    return path if len(os.fsencode(path)) <= _SUN_PATH_MAX else None


def _trusted(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid()


def exchange(path: Path, request: Mapping[str, Any], *, timeout_s: float = 300.0
             ) -> dict[str, Any] | None:
    """Send ``request`` to the worker at ``path``; return its reply, or None.

    None when no worker listens there (a stale socket file), the socket is not the user's
    own, the worker closes before a whole reply (killed mid-way), gives none within
    ``timeout_s`` seconds, or the reply is not a JSON object.
    """
    if not _trusted(path):
        return None
    data = json.dumps(request).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            s.connect(str(path))
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            reply = _read_all(s, limit=None)
    except OSError:
        return None
    try:
        answer = json.loads(reply)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _read_all(conn: socket.socket, *, limit: int | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if limit is not None and size > limit:
            msg = f"request larger than {limit} bytes"
            raise ValueError(msg)
        chunks.append(chunk)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def _answer(conn: socket.socket, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    with conn:
        try:
            if _peer_uid(conn) != os.getuid():
                reply: dict[str, Any] = {"ok": False, "error": "refused: another user"}
            else:
                conn.settimeout(_READ_TIMEOUT_S)
                reply = _reply(_read_all(conn, limit=MAX_REQUEST_BYTES), handle)
            conn.settimeout(_READ_TIMEOUT_S)
            conn.sendall(json.dumps(reply).encode())
        except (OSError, ValueError) as e:  # the client went away or sent too much
            log.info("dropped a request: %s", e)


def _reply(raw: bytes, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    try:
        request = json.loads(raw)
    except ValueError:
        return {"ok": False, "error": "bad request: not JSON"}
    if not isinstance(request, dict):
        return {"ok": False, "error": "bad request: not a JSON object"}
    if request.get("protocol") != PROTOCOL:
        return {"ok": False, "error": f"bad request: protocol must be {PROTOCOL}"}
    try:
        return handle(request)
    except Exception as e:  # one bad request must not take the worker down
        log.exception("request failed")
        return {"ok": False, "error": f"worker error: {type(e).__name__}: {e}"}


def hold_lock(path: Path) -> int:
    """Take the exclusive lock of the worker whose socket is ``path``; return its descriptor.

    Raises
    ------
    WorkerBusyError
        If another process holds it (a worker serves, or starts to serve, this store).
    """
    import fcntl

    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        os.close(fd)
        msg = f"a worker already serves this store and graph (socket {path})"
        raise WorkerBusyError(msg) from e
    return fd


def serve(path: Path, handle: Callable[[dict[str, Any]], dict[str, Any]],
          stop: threading.Event, *, ready: Callable[[], None] | None = None) -> None:
    """Answer requests on a new socket at ``path`` until ``stop`` is set; remove it after.

    Each connection is answered in its own thread by ``handle(request) -> reply`` (it
    serialises what must not run at once); a request that is not a JSON object of this
    protocol, or whose handler raises, gets ``{"ok": false, "error": ...}``. Serving also ends
    when the socket file is removed or replaced. Hold :func:`hold_lock` first: a stale socket
    file at ``path`` is removed here.
    """
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        old = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(old)
        ours = os.lstat(path).st_ino
        listener.listen(16)
        listener.settimeout(0.5)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    try:
                        if os.lstat(path).st_ino != ours:
                            break  # another worker took the path over
                    except FileNotFoundError:
                        break  # the socket file was removed: nobody can reach us
                    continue
                threading.Thread(target=_answer, args=(conn, handle), daemon=True).start()
        finally:
            with contextlib.suppress(OSError):
                if os.lstat(path).st_ino == ours:
                    path.unlink()
