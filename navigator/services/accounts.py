"""Accounts of the web app: argon2 password hashing, log-in checks and the demo logins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from navigator.errors import NotFoundError, ValidationError
from navigator.model import Role
from navigator.store.users import User, check_user

if TYPE_CHECKING:
    from navigator.store import Store

# ``Role`` is defined in navigator.model and re-exported here for callers of accounts.
__all__ = ["DEMO_USERS", "Role", "User", "authenticate", "check_user", "create_user",
           "ensure_demo_users", "hash_password", "verify_password"]


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
