"""Accounts of the web app: roles, argon2 passwords, TOTP enrolment, disabling, demo logins.

Logging in (throttling, sessions, the second factor) is :mod:`navigator.services.logins`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from navigator.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from navigator.model import Role
from navigator.store.users import User, check_user

if TYPE_CHECKING:
    from navigator.store import Store

# ``Role`` is defined in navigator.model and re-exported here for callers of accounts.
__all__ = ["DEMO_USERS", "Role", "TotpEnrolment", "User", "authenticate",
           "begin_totp", "check_user", "confirm_totp", "create_user", "ensure_demo_users",
           "hash_password", "reset_totp", "set_disabled", "totp_step", "verify_password"]


#: Demo logins ``(username, password, role)``, printed by ``navigator demo``. Demo only.
DEMO_USERS = tuple((r.value, f"{r.value}-demo", r.value) for r in Role)
#: Shortest password :func:`hash_password` accepts (demo passwords are 12+ characters).
MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()
#: A hash to verify against when the user does not exist (same time either way).
_DUMMY_HASH = _HASHER.hash("navigator-no-such-user")


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``.

    Raises
    ------
    ValidationError
        If the password is shorter than :data:`MIN_PASSWORD_LENGTH` characters.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        msg = f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        raise ValidationError(msg)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash`` (never raises on a mismatch)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(store: Store, username: str, password: str) -> User | None:
    """Return the user if ``password`` is theirs and the account is enabled, else None.

    Unknown users cost the same argon2 verification as known ones (no timing oracle).
    """
    try:
        user = store.user(username)
    except NotFoundError:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    return user


def create_user(store: Store, username: str, role: Role | str, password: str, *,
                actor: str) -> User:
    """Hash ``password`` and add the account (``ConflictError`` if the name exists)."""
    check_user(username, str(role))
    return store.add_user(username, Role(role).value, hash_password(password), actor=actor)


def ensure_demo_users(store: Store, *, actor: str = "navigator demo"
                      ) -> tuple[tuple[str, str, str], ...]:
    """Add the demo logins that are missing; return every ``(username, password, role)``.

    The ``shelter`` login is tied to the demo's first public 24/7 shelter
    (:func:`navigator.demo.registry.demo_shelter_site`) unless it has sites already.
    """
    from navigator.demo.registry import demo_shelter_site

    have = {u.username for u in store.users()}
    for username, password, role in DEMO_USERS:
        if username not in have:
            create_user(store, username, role, password, actor=actor)
    # The shelter login reports for one demo shelter (when the store has one).
    site = demo_shelter_site(store) if not store.user_sites(Role.SHELTER.value) else None
    if site is not None:
        store.set_user_sites(Role.SHELTER.value, [site], actor=actor)
    return DEMO_USERS


def set_disabled(store: Store, username: str, disabled: bool, *, actor: str) -> User:
    """Disable (ending every session of the account at once) or enable an account.

    Raises
    ------
    ConflictError
        If an admin tries to disable their own account (nobody would be left to undo it).
    """
    if disabled and username == actor:
        msg = "you cannot disable your own account"
        raise ConflictError(msg)
    return store.set_user_disabled(username, disabled, actor=actor)


# -- TOTP (RFC 6238, 30-second steps, 6 digits) -----------------------------------------------
#: Name authenticator apps show next to the account.
TOTP_ISSUER = "Navigator"
#: Steps either side of now a code may come from (phone clocks drift).
TOTP_DRIFT_STEPS = 1


@dataclass(frozen=True)
class TotpEnrolment:
    """A TOTP secret awaiting its first code; shown to the user once.

    Attributes
    ----------
    secret
        Base32 secret, for typing into an authenticator app.
    uri
        ``otpauth://`` provisioning URI (what a QR code would hold).
    """

    secret: str
    uri: str

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return "TotpEnrolment(secret=***)"


def totp_step(secret: str, code: str, *, now: datetime) -> int | None:
    """Return the 30-second step ``code`` belongs to (now ± :data:`TOTP_DRIFT_STEPS`), or None."""
    code = "".join(str(code).split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(totp.timecode(now.astimezone(UTC)))
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def begin_totp(store: Store, username: str, *, actor: str) -> TotpEnrolment:
    """Store a new TOTP secret for ``username`` and return it (to show once).

    The secret is not in force until :func:`confirm_totp` sees a first code from it. Callers
    check the password first (:func:`navigator.services.logins.begin_totp`); the CLI's
    operator is trusted. ``ConflictError`` if TOTP is already on.
    """
    secret = pyotp.random_base32(32)
    store.begin_totp(username, secret, actor=actor)
    return _enrolment(username, secret)


def _enrolment(username: str, secret: str) -> TotpEnrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
    return TotpEnrolment(secret=secret, uri=uri)


def pending_enrolment(store: Store, username: str) -> TotpEnrolment | None:
    """Return the enrolment awaiting its first code (to show again after a mistyped code)."""
    user = store.user(username)
    if user.totp_enabled or not user.totp_secret:
        return None
    return _enrolment(username, user.totp_secret)


def confirm_totp(store: Store, username: str, code: str, *, now: datetime | None = None,
                 actor: str | None = None) -> None:
    """Turn TOTP on once ``code`` matches the pending secret (that code is then used up).

    Raises
    ------
    AccessDeniedError
        If no enrolment is pending or the code does not match.
    """
    user = store.user(username)
    step = (totp_step(user.totp_secret, code, now=now or datetime.now(UTC))
            if user.totp_secret and not user.totp_enabled else None)
    if step is None or not store.enable_totp(username, step=step, actor=actor or username):
        msg = "the code does not match a pending TOTP enrolment"
        raise AccessDeniedError(msg)


def check_totp(store: Store, user: User, code: str, *, now: datetime) -> bool:
    """Return whether ``code`` is a current TOTP code of ``user`` not used before.

    Each code is accepted once: a replay within its 30-second window (or an older code after
    a newer one) is refused, also when two workers see it at the same moment.
    """
    if not user.totp_enabled or not user.totp_secret:
        return False
    step = totp_step(user.totp_secret, code, now=now)
    return step is not None and store.claim_totp_step(user.username, step)


def reset_totp(store: Store, username: str, *, actor: str) -> None:
    """Turn TOTP off for an account (a lost phone); the next login may enrol again."""
    store.reset_totp(username, actor=actor)
