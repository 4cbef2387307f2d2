"""The accounts part of the store contract, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.services import accounts


def test_add_and_read_user(store: Any) -> None:
    h = accounts.hash_password("correct horse battery")
    user = store.add_user("ana", "caseworker", h, actor="admin")
    assert (user.username, user.role, user.disabled) == ("ana", "caseworker", False)
    assert user.created_at.tzinfo is not None
    again = store.user("ana")
    assert again == user and accounts.verify_password(again.password_hash,
                                                      "correct horse battery")
    assert [u.username for u in store.users()] == ["ana"]


def test_duplicate_username_conflicts(store: Any) -> None:
    h = accounts.hash_password("correct horse battery")
    store.add_user("ana", "caseworker", h, actor="admin")
    with pytest.raises(ConflictError, match="already exists"):
        store.add_user("ana", "planner", h, actor="admin")
    assert store.user("ana").role == "caseworker"


def test_unknown_user_is_not_found(store: Any) -> None:
    with pytest.raises(NotFoundError, match="no user"):
        store.user("nobody")


@pytest.mark.parametrize(("username", "role", "pw_hash"), [
    ("ana", "superuser", "$argon2id$x"),
    ("has space", "admin", "$argon2id$x"),
    ("", "admin", "$argon2id$x"),
    ("ana", "admin", "plaintext-password"),
])
def test_bad_user_values_are_refused(store: Any, username: str, role: str,
                                     pw_hash: str) -> None:
    with pytest.raises(ValidationError):
        store.add_user(username, role, pw_hash, actor="admin")
    assert store.users() == []


def test_database_refuses_bad_rows_too(raw: Any, db_errors: Any) -> None:
    with pytest.raises(db_errors):
        raw.execute("INSERT INTO users (username, role, password_hash, created_at) "
                    "VALUES ('x', 'root', '$argon2id$x', '2026-01-01T00:00:00Z')")
    with pytest.raises(db_errors):
        raw.execute("INSERT INTO users (username, role, password_hash, created_at) "
                    "VALUES ('x', 'admin', 'plain', '2026-01-01T00:00:00Z')")


def test_add_user_is_audited_without_the_hash(store: Any) -> None:
    h = accounts.hash_password("correct horse battery")
    store.add_user("ana", "planner", h, actor="admin")
    entry = store.audit_log(action="add_user")[0]
    assert (entry.actor, entry.subject, entry.inputs["role"]) == ("admin", "ana", "planner")
    assert h not in repr(entry) and "argon2" not in repr(entry)


def test_demo_users_log_in_and_are_created_once(store: Any) -> None:
    logins = accounts.ensure_demo_users(store)
    accounts.ensure_demo_users(store)
    assert len(store.users()) == len(logins) == len(accounts.Role)
    for username, password, role in logins:
        user = accounts.authenticate(store, username, password)
        assert user is not None and user.role == role
        assert accounts.authenticate(store, username, password + "x") is None
    assert accounts.authenticate(store, "nobody", "whatever-password") is None


def test_password_too_short_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least"):
        accounts.hash_password("short")
