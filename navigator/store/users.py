"""Web-app accounts in the store: users (password hashes only), their TOTP secret, disabling.

Changing a password or disabling an account revokes sessions (:mod:`navigator.store.sessions`)
in the same transaction, so no request sees the new password and an old session together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, NotFoundError, ValidationError
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
#: Columns of ``users`` a :class:`User` is read from (``u.`` prefixed: sessions join on it).
USER_SELECT = ("u.username, u.role, u.password_hash, u.created_at, u.disabled, "
               "u.totp_secret, u.totp_enabled")
_SELECT = f"{USER_SELECT} FROM users u"
_TOTP_SECRET = re.compile(r"^[A-Z2-7]{16,128}$")


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
    totp_enabled
        Logging in needs a TOTP code after the password.
    totp_secret
        Base32 TOTP secret; set and not enabled while an enrolment awaits its first code.
    """

    username: str
    role: str
    password_hash: str
    created_at: datetime
    disabled: bool = False
    totp_enabled: bool = False
    totp_secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # keep hashes out of logs and tracebacks
        return (f"User(username={self.username!r}, role={self.role!r}, "
                f"disabled={self.disabled}, totp_enabled={self.totp_enabled})")


def check_user(username: object, role: object) -> None:
    """Raise :class:`ValidationError` unless ``username`` and ``role`` are acceptable."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        msg = (f"username {username!r} must be 1-64 letters, digits or _ . @ - "
               "(no spaces)")
        raise ValidationError(msg)
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise ValidationError(msg)


def user_from_row(row: dict[str, Any]) -> User:
    """Return the :class:`User` of a row read with :data:`USER_SELECT`."""
    created = rows.read_ts(row["created_at"]) or rows.utc_now()  # column is NOT NULL
    return User(username=row["username"], role=row["role"], password_hash=row["password_hash"],
                created_at=created, disabled=bool(row["disabled"]),
                totp_enabled=bool(row["totp_enabled"]), totp_secret=row["totp_secret"])


def _check_hash(username: str, password_hash: object) -> None:
    if not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
        msg = f"user {username!r}: password_hash must be an argon2 hash"
        raise ValidationError(msg)


def _changed(found: list[dict[str, Any]], username: str) -> None:
    if not found:
        msg = f"no user {username!r}"
        raise NotFoundError(msg)


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
        _check_hash(username, password_hash)
        with self._transaction(write=True) as tx:
            if tx.fetch("SELECT username FROM users WHERE username = %(u)s", {"u": username}):
                msg = f"user {username!r} already exists"
                raise ConflictError(msg)
            tx.insert("users", {"username": username, "role": role,
                                "password_hash": password_hash, "created_at": rows.utc_now(),
                                "disabled": False})
            append_audit(tx, "add_user", actor=actor, subject=username,
                         inputs={"username": username, "role": role}, result={"ok": True})
            found = tx.fetch(f"SELECT {_SELECT} WHERE u.username = %(u)s", {"u": username})
        return user_from_row(found[0])

    def user(self, username: str) -> User:
        """Return one account; ``NotFoundError`` if there is none of that name."""
        with self._transaction(write=False) as tx:
            found = fetch_one(tx, f"SELECT {_SELECT} WHERE u.username = %(u)s",
                              {"u": username}, f"user {username!r}")
        return user_from_row(found)

    def users(self) -> list[User]:
        """Return every account, by username."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SELECT} ORDER BY u.username")
        return [user_from_row(r) for r in found]

    def set_password(self, username: str, password_hash: str, *, actor: str,
                     keep_session: str | None = None, now: datetime | None = None) -> int:
        """Replace an account's password hash and revoke its other sessions, atomically.

        Parameters
        ----------
        username
            The account; ``NotFoundError`` if unknown.
        password_hash
            The new argon2 hash.
        actor
            Who changes it (audit log; no hash is logged).
        keep_session
            Id of the session that made the change, which stays valid; None revokes all.
        now
            The time of the revocation (default: now).

        Returns
        -------
        int
            Sessions revoked.
        """
        _check_hash(username, password_hash)
        when = rows.to_ms(now) if now is not None else rows.utc_now()
        with self._transaction(write=True) as tx:
            _changed(tx.fetch("UPDATE users SET password_hash = %(h)s WHERE username = %(u)s "
                              "RETURNING username", {"h": password_hash, "u": username}),
                     username)
            revoked = tx.fetch("UPDATE sessions SET revoked_at = %(now)s WHERE username = %(u)s "
                               "AND revoked_at IS NULL AND id != %(keep)s RETURNING id",
                               {"now": when, "u": username, "keep": keep_session or ""})
            append_audit(tx, "change_password", actor=actor, subject=username,
                         result={"sessions_revoked": len(revoked)})
        return len(revoked)

    def set_user_disabled(self, username: str, disabled: bool, *, actor: str,
                          now: datetime | None = None) -> User:
        """Disable (or enable) an account; disabling revokes all its sessions at once."""
        when = rows.to_ms(now) if now is not None else rows.utc_now()
        with self._transaction(write=True) as tx:
            _changed(tx.fetch("UPDATE users SET disabled = %(d)s WHERE username = %(u)s "
                              "RETURNING username", {"d": bool(disabled), "u": username}),
                     username)
            revoked = []
            if disabled:
                revoked = tx.fetch("UPDATE sessions SET revoked_at = %(now)s "
                                   "WHERE username = %(u)s AND revoked_at IS NULL RETURNING id",
                                   {"now": when, "u": username})
            append_audit(tx, "disable_user" if disabled else "enable_user", actor=actor,
                         subject=username, result={"sessions_revoked": len(revoked)})
            found = tx.fetch(f"SELECT {_SELECT} WHERE u.username = %(u)s", {"u": username})
        return user_from_row(found[0])

    def begin_totp(self, username: str, secret: str, *, actor: str) -> None:
        """Store a new TOTP secret awaiting its first code (:meth:`enable_totp`).

        ``ConflictError`` if TOTP is already on (reset it first: a stolen session must not
        replace the second factor); the secret itself is not logged.
        """
        if not isinstance(secret, str) or not _TOTP_SECRET.match(secret):
            msg = "a TOTP secret must be 16-128 base32 characters"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            found = fetch_one(tx, "SELECT totp_enabled FROM users WHERE username = %(u)s",
                              {"u": username}, f"user {username!r}")
            if found["totp_enabled"]:
                msg = f"user {username!r} already has TOTP on; reset it first"
                raise ConflictError(msg)
            tx.fetch("UPDATE users SET totp_secret = %(s)s, totp_last_step = NULL "
                     "WHERE username = %(u)s", {"s": secret, "u": username})
            append_audit(tx, "totp_enrol", actor=actor, subject=username)

    def enable_totp(self, username: str, *, step: int, actor: str) -> bool:
        """Turn TOTP on after a first code (of time ``step``) matched the pending secret.

        Returns False (nothing changed) if no enrolment is pending.
        """
        with self._transaction(write=True) as tx:
            found = tx.fetch("UPDATE users SET totp_enabled = %(t)s, totp_last_step = %(step)s "
                             "WHERE username = %(u)s AND totp_secret IS NOT NULL "
                             "AND NOT totp_enabled RETURNING username",
                             {"t": True, "step": int(step), "u": username})
            if found:
                append_audit(tx, "totp_enabled", actor=actor, subject=username)
        return bool(found)

    def reset_totp(self, username: str, *, actor: str) -> None:
        """Turn TOTP off and forget the secret (a lost phone); ``NotFoundError`` if unknown."""
        with self._transaction(write=True) as tx:
            _changed(tx.fetch("UPDATE users SET totp_enabled = %(f)s, totp_secret = NULL, "
                              "totp_last_step = NULL WHERE username = %(u)s RETURNING username",
                              {"f": False, "u": username}), username)
            append_audit(tx, "totp_reset", actor=actor, subject=username)

    def claim_totp_step(self, username: str, step: int) -> bool:
        """Record that a code of time ``step`` was used; False if it (or a later one) was.

        Each code is accepted once, even by two workers at the same time.
        """
        with self._transaction(write=True) as tx:
            found = tx.fetch("UPDATE users SET totp_last_step = %(step)s "
                             "WHERE username = %(u)s AND totp_enabled "
                             "AND (totp_last_step IS NULL OR totp_last_step < %(step)s) "
                             "RETURNING username", {"step": int(step), "u": username})
        return bool(found)
