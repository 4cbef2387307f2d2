"""Logging in: failed-login throttling, the TOTP second factor, server-side sessions.

Every web worker shares the counters and sessions through the store
(:mod:`navigator.store.logins`, :mod:`navigator.store.sessions`), so a lock or a logout
holds for every worker and survives restarts. A login goes:

1. :func:`attempt_login`: refused at once (no password check, so a correct password during a
   lock reveals nothing) while the account or the client address is locked; a wrong password
   counts one failure against both; a right one either needs a second factor or is done.
2. :func:`attempt_second_factor`: the TOTP code (each code once), or the first code of an
   enrolment that :data:`LoginPolicy.admin_2fa` ``required`` forces on an admin without TOTP.
   Wrong codes count as failed logins too.
3. :func:`start_session`: a random token for the cookie; the account's counter is reset.

Then :func:`session_user` on every request (one store read, a write at most once a minute),
:func:`end_session` at logout, :func:`change_password` revoking every other session.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from navigator.errors import AccessDeniedError, NotFoundError, TooManyAttemptsError
from navigator.services import accounts
from navigator.store.logins import ThrottlePolicy
from navigator.store.sessions import SessionGuard, session_id

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.store import Store
    from navigator.store.users import User

__all__ = ["LoginAttempt", "LoginPolicy", "attempt_login", "attempt_second_factor", "begin_totp",
           "change_password", "end_session", "policy_from_settings", "session_guard",
           "session_user", "start_session", "unlock"]


@dataclass(frozen=True)
class LoginPolicy:
    """How logins are throttled and how long sessions last.

    Attributes
    ----------
    throttle
        Failures that lock an account or an address, and the locks' lengths.
    idle_s
        Seconds without a request after which a session ends.
    max_age_s
        Seconds after login at which a session ends however active.
    touch_s
        A session's ``last_seen_at`` is written at most this often (not on every request).
    admin_2fa
        ``required``: an admin without TOTP enrols at login; ``optional``: TOTP is opt-in.
    pending_s
        Seconds between a right password and the second factor before the login restarts.
    """

    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    idle_s: float = 3600.0
    max_age_s: float = 12 * 3600.0
    touch_s: float = 60.0
    admin_2fa: str = "optional"
    pending_s: float = 300.0


def policy_from_settings(settings: Settings) -> LoginPolicy:
    """Return the login policy the ``NAVIGATOR_*`` settings describe."""
    return LoginPolicy(
        throttle=ThrottlePolicy(account_failures=settings.login_max_failures,
                                address_failures=settings.login_address_max_failures,
                                window_s=settings.login_window_s, lock_s=settings.login_lock_s,
                                max_lock_s=max(settings.login_max_lock_s,
                                               settings.login_lock_s)),
        idle_s=settings.session_idle_min * 60.0, max_age_s=settings.session_max_h * 3600.0,
        admin_2fa=settings.admin_2fa)


@dataclass(frozen=True)
class LoginAttempt:
    """What a login step decided.

    Attributes
    ----------
    user
        The account, once its password (and any second factor) is right; else None.
    second_factor
        ``totp`` (ask for a code), ``enrol`` (show ``enrolment`` and ask for its first code)
        or None (done: start the session).
    enrolment
        The new TOTP secret to show, once, when ``second_factor == "enrol"``.
    refused
        Why the attempt was refused (the same words for an unknown user and a wrong
        password); empty when it was not.
    retry_after_s
        Seconds until the account or address may try again, while it is locked; else None.
    """

    user: User | None = None
    second_factor: str | None = None
    enrolment: accounts.TotpEnrolment | None = None
    refused: str = ""
    retry_after_s: float | None = None

    def error(self) -> AccessDeniedError:
        """Return the refusal as an exception (``TooManyAttemptsError`` while locked)."""
        if self.retry_after_s is not None:
            return TooManyAttemptsError(self.refused, retry_after_s=self.retry_after_s)
        return AccessDeniedError(self.refused)


def _retry_after_s(until: datetime, now: datetime) -> float:
    return float(max(1, math.ceil((until - now).total_seconds())))


def _locked(until: datetime, now: datetime) -> LoginAttempt:
    retry = _retry_after_s(until, now)
    return LoginAttempt(refused=f"too many failed logins; try again in {int(retry)} s",
                        retry_after_s=retry)


def _lock_of(store: Store, username: str, address: str, *, now: datetime
             ) -> LoginAttempt | None:
    until = store.login_locked_until(username, address, now=now)
    return _locked(until, now) if until is not None else None


def _fail(store: Store, username: str, address: str, *, policy: LoginPolicy, now: datetime,
          msg: str) -> LoginAttempt:
    until = store.login_failed(username, address, policy=policy.throttle, now=now)
    return _locked(until, now) if until is not None else LoginAttempt(refused=msg)


def attempt_login(store: Store, username: str, password: str, *, address: str,
                  policy: LoginPolicy, now: datetime) -> LoginAttempt:
    """Check a password, throttled per account and per client address.

    Returns
    -------
    LoginAttempt
        With ``user`` set when the password is right (``second_factor`` says whether a TOTP
        code must follow). Refused with ``retry_after_s`` while the account or address is
        locked (the password is not even checked) or when this failure starts a lock;
        refused without it for a wrong username or password (the same words either way).
    """
    locked = _lock_of(store, username, address, now=now)
    if locked is not None:
        return locked
    user = accounts.authenticate(store, username, password) if username else None
    if user is None:
        return _fail(store, username, address, policy=policy, now=now,
                     msg="wrong username or password")
    if user.totp_enabled:
        return LoginAttempt(user=user, second_factor="totp")
    if policy.admin_2fa == "required" and user.role == accounts.Role.ADMIN:
        enrolment = accounts.begin_totp(store, user.username, actor=user.username)
        return LoginAttempt(user=user, second_factor="enrol", enrolment=enrolment)
    return LoginAttempt(user=user)


def attempt_second_factor(store: Store, username: str, code: str, *, address: str,
                          policy: LoginPolicy, now: datetime) -> LoginAttempt:
    """Check the TOTP code (or the first code of a forced enrolment) after the password.

    Returns
    -------
    LoginAttempt
        With ``user`` set when the code is right; refused as :func:`attempt_login` (a wrong
        or replayed code counts as a failed login).
    """
    locked = _lock_of(store, username, address, now=now)
    if locked is not None:
        return locked
    try:
        user = store.user(username)
    except NotFoundError:
        user = None
    ok = False
    if user is not None and not user.disabled:
        if user.totp_enabled:
            ok = accounts.check_totp(store, user, code, now=now)
        elif user.totp_secret:
            step = accounts.totp_step(user.totp_secret, code, now=now)
            ok = step is not None and store.enable_totp(username, step=step, actor=username)
    if not ok or user is None:
        return _fail(store, username, address, policy=policy, now=now,
                     msg="wrong or already used code")
    return LoginAttempt(user=store.user(username))


def start_session(store: Store, user: User, *, address: str, policy: LoginPolicy,
                  now: datetime) -> str:
    """Start a session for a user who passed every factor; return the cookie's token.

    Resets the account's failure counter (not the address's: one good account must not
    clear an address that guesses others), records the login (with the failures before
    it), and deletes sessions that are over.
    """
    token = secrets.token_urlsafe(32)
    store.add_session(session_id(token), user.username, address=address, now=now)
    failures = store.login_succeeded(user.username)
    store.record("login", actor=user.username,
                 result={"role": user.role, "address": address, "failures_before": failures,
                         "second_factor": user.totp_enabled})
    store.prune_sessions(started_before=now - timedelta(seconds=policy.max_age_s),
                         seen_before=now - timedelta(seconds=policy.idle_s + policy.touch_s))
    return token


def session_user(store: Store, token: str, *, policy: LoginPolicy, now: datetime
                 ) -> User | None:
    """Return the user of a live session, or None (unknown, revoked, idle, too old, disabled).

    One store read; ``last_seen_at`` is written only when older than ``policy.touch_s``.
    """
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return None
    sid = session_id(token)
    try:
        found, user = store.session(sid)
    except NotFoundError:
        return None
    if not session_guard(token, found.username, policy=policy, now=now).admits(found, user):
        return None
    if now - found.last_seen_at >= timedelta(seconds=policy.touch_s):
        store.touch_session(sid, now=now)
    return user


def session_guard(token: str, username: str, *, policy: LoginPolicy, now: datetime
                  ) -> SessionGuard:
    """Return what keeps the session of ``token`` live now: the rule :func:`session_user` uses.

    Not revoked, ``username``'s account not disabled, no older than ``policy.max_age_s``,
    idle no longer than ``policy.idle_s``. A write given it (a bed hold) checks it in its
    own round trip.
    """
    return SessionGuard(id=session_id(token), username=username,
                        started_after=now - timedelta(seconds=policy.max_age_s),
                        seen_after=now - timedelta(seconds=policy.idle_s))


def end_session(store: Store, token: str, *, now: datetime) -> None:
    """Revoke the session of ``token`` (logout): its cookie is refused from now on."""
    if isinstance(token, str) and token:
        store.revoke_session(session_id(token), now=now)


def change_password(store: Store, username: str, current: str, new: str, *, token: str,
                    address: str, policy: LoginPolicy, now: datetime) -> int:
    """Change a password (the current one is required) and end every other session.

    A wrong current password counts as a failed login (a stolen session cannot guess it
    freely). Returns the sessions ended.

    Raises
    ------
    TooManyAttemptsError, AccessDeniedError
        As :func:`attempt_login`.
    ValidationError
        If the new password is too short.
    """
    _check_password(store, username, current, address=address, policy=policy, now=now)
    new_hash = accounts.hash_password(new)
    return store.set_password(username, new_hash, actor=username,
                              keep_session=session_id(token), now=now)


def begin_totp(store: Store, username: str, password: str, *, address: str,
               policy: LoginPolicy, now: datetime) -> accounts.TotpEnrolment:
    """Start TOTP enrolment of a logged-in user after checking their password.

    A stolen session cannot put its own second factor on the account; wrong passwords count
    as failed logins. ``ConflictError`` if TOTP is already on.
    """
    _check_password(store, username, password, address=address, policy=policy, now=now)
    return accounts.begin_totp(store, username, actor=username)


def _check_password(store: Store, username: str, password: str, *, address: str,
                    policy: LoginPolicy, now: datetime) -> None:
    """Raise unless ``password`` is the user's, throttled as logins are."""
    locked = _lock_of(store, username, address, now=now)
    if locked is not None:
        raise locked.error()
    if accounts.authenticate(store, username, password) is None:
        raise _fail(store, username, address, policy=policy, now=now,
                    msg="the password is wrong").error()


def unlock(store: Store, *, actor: str, username: str | None = None,
           address: str | None = None) -> int:
    """Lift the lock of an account and/or a client address; return how many were cleared."""
    cleared = 0
    if username:
        cleared += store.unlock_login("account", username, actor=actor)
    if address:
        cleared += store.unlock_login("address", address, actor=actor)
    return cleared
