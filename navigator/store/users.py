"""Web-app accounts in the store: add, look up and list users (password hashes only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import Role
from navigator.store import rows
from navigator.store.tx import append_audit, fetch_one

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

#: Roles a user can have (``admin`` may do everything, including seeing confidential sites).
ROLES = tuple(r.value for r in Role)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SELECT = "username, role, password_hash, created_at, disabled"


@dataclass(frozen=True)
class User:
    """One account of the web app.

    Attributes
    ----------
    username
        Login name (letters, digits, ``_.@-``; at most 64 characters).
    role
        One of :data:`ROLES`.
    password_hash
        argon2 hash (the password itself is never stored).
    created_at
        When the account was added (UTC).
    disabled
        A disabled account cannot log in.
    """

    username: str
    role: str
    password_hash: str
    created_at: datetime
    disabled: bool = False

    def __repr__(self) -> str:  # keep hashes out of logs and tracebacks
        return f"User(username={self.username!r}, role={self.role!r}, disabled={self.disabled})"


def check_user(username: object, role: object) -> None:
    """Raise :class:`ValidationError` unless ``username`` and ``role`` are acceptable."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        msg = (f"username {username!r} must be 1-64 letters, digits or _ . @ - "
               "(no spaces)")
        raise ValidationError(msg)
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise ValidationError(msg)


def _from_row(row: dict[str, Any]) -> User:
    created = rows.read_ts(row["created_at"]) or rows.utc_now()  # column is NOT NULL
    return User(username=row["username"], role=row["role"], password_hash=row["password_hash"],
                created_at=created, disabled=bool(row["disabled"]))


class UserMethods:
    """The users part of the store contract, on a backend's transaction interface."""

    #: Provided by the backend (annotation only, so it does not shadow the backend's).
    _transaction: Callable[..., AbstractContextManager[Tx]]

    def add_user(self, username: str, role: str, password_hash: str, *, actor: str) -> User:
        """Add an account; ``ConflictError`` if the username exists.

        Parameters
        ----------
        username, role
            Login name and one of :data:`ROLES`.
        password_hash
            argon2 hash (``navigator.services.accounts.hash_password``); never a password.
        actor
            Who adds the account (audit log; the hash is not logged).
        """
        check_user(username, role)
        if not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
            msg = f"user {username!r}: password_hash must be an argon2 hash"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            if tx.fetch("SELECT username FROM users WHERE username = %(u)s", {"u": username}):
                msg = f"user {username!r} already exists"
                raise ConflictError(msg)
            tx.insert("users", {"username": username, "role": role,
                                "password_hash": password_hash, "created_at": rows.utc_now(),
                                "disabled": False})
            append_audit(tx, "add_user", actor=actor, subject=username,
                         inputs={"username": username, "role": role}, result={"ok": True})
            found = tx.fetch(f"SELECT {_SELECT} FROM users WHERE username = %(u)s",
                             {"u": username})
        return _from_row(found[0])

    def user(self, username: str) -> User:
        """Return one account; ``NotFoundError`` if there is none of that name."""
        with self._transaction(write=False) as tx:
            found = fetch_one(tx, f"SELECT {_SELECT} FROM users WHERE username = %(u)s",
                              {"u": username}, f"user {username!r}")
        return _from_row(found)

    def users(self) -> list[User]:
        """Return every account, by username."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SELECT} FROM users ORDER BY username")
        return [_from_row(r) for r in found]
