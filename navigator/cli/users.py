"""``navigator user ACTION NAME``: an operator's account chores on the store.

Lift a login lock, disable or enable an account (disabling ends its sessions), end every
session of an account, turn on or reset its second factor (TOTP). Each action calls one
function of :mod:`navigator.services.accounts` or :mod:`navigator.services.logins`, which
writes the audit entry.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from navigator.cli.common import CliError, add_store_option, open_store, say, settings_from_args

if TYPE_CHECKING:
    import argparse

    from navigator.cli.common import Subcommands
    from navigator.store import Store

__all__ = ["register", "run_user"]

ACTIONS = ("unlock", "disable", "enable", "logout-all", "enable-2fa", "reset-2fa")


def _enable_2fa(store: Store, name: str, actor: str) -> str:
    from navigator.services import accounts

    enrolment = accounts.begin_totp(store, name, actor=actor)
    say(f"TOTP secret for {name} (shown once): {enrolment.secret}")
    say(f"authenticator URI: {enrolment.uri}")
    if not sys.stdin.isatty():
        msg = "enable-2fa needs a terminal to read the first code from the authenticator app"
        raise CliError(msg)
    code = input("first code from the app: ").strip()
    accounts.confirm_totp(store, name, code, actor=actor)
    return f"two-factor login is on for {name}"


def _act(store: Store, action: str, name: str, *, actor: str, address: str | None) -> str:
    from navigator.services import accounts, logins

    if action == "unlock":
        n = logins.unlock(store, actor=actor, username=name, address=address)
        return f"cleared {n} lock(s) of {name}" + (f" and {address}" if address else "")
    if action in ("disable", "enable"):
        accounts.set_disabled(store, name, action == "disable", actor=actor)
        return f"{name} is {action}d" + (" and logged out everywhere" if action == "disable"
                                          else "")
    if action == "logout-all":
        store.user(name)  # NotFoundError for an unknown account
        n = store.revoke_sessions(name, now=datetime.now(UTC))
        return f"ended {n} session(s) of {name}"
    if action == "reset-2fa":
        accounts.reset_totp(store, name, actor=actor)
        return f"two-factor login is off for {name}; they enrol again at the next login"
    return _enable_2fa(store, name, actor)


def run_user(args: argparse.Namespace) -> int:
    """Lift a lock, disable/enable, log out everywhere, enable or reset two-factor login."""
    store = open_store(settings_from_args(args))
    try:
        say(_act(store, args.action, args.username, actor=args.actor, address=args.address))
    finally:
        store.close()
    return 0


def register(sub: Subcommands) -> None:
    """Add ``navigator user`` to the ``navigator`` parser's subcommands ``sub``."""
    p = sub.add_parser("user", help="account chores: unlock, disable, 2FA, log out everywhere",
                       description=(run_user.__doc__ or "").strip())
    p.set_defaults(func=run_user)
    add_store_option(p)
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("username")
    p.add_argument("--address", help="unlock: also lift the lock of this client address")
    p.add_argument("--actor", default="navigator user", help="name recorded in the audit log")
