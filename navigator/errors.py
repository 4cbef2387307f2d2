"""The one exception tree Navigator raises; the CLI and the web app turn it into messages."""

from __future__ import annotations


class NavigatorError(Exception):
    """Base class of every error Navigator raises on purpose."""


class ValidationError(NavigatorError, ValueError):
    """An input is malformed or out of range; the message names the record and field."""


class NotFoundError(NavigatorError, LookupError):
    """An id names no record in the store."""


class NoAvailableResourceError(NavigatorError):
    """No resource, bed or team fits the request (the message says what was searched)."""

    def __init__(self, msg: str, *, alternatives: tuple[object, ...] = ()) -> None:
        super().__init__(msg)
        self.alternatives = alternatives


class UnreachableError(NavigatorError):
    """A point cannot be reached on the road network (too far from a road, or disconnected)."""


class ConflictError(NavigatorError):
    """A write lost a race: the last bed was taken, the team is already assigned."""


class ForbiddenError(NavigatorError, PermissionError):
    """The user may not act on this record (a shelter worker on another shelter's beds)."""


class StoreError(NavigatorError):
    """The store cannot be opened, migrated or written."""


class NetworkBuildError(NavigatorError):
    """A road network cannot be built from the given OSM file."""


class AccessDeniedError(NavigatorError, PermissionError):
    """A credential is wrong (current password, one-time code) or an action is not allowed."""


class SessionEndedError(AccessDeniedError):
    """The login session ended (logout, password change, disabled account, timeout)."""


class TooManyAttemptsError(AccessDeniedError):
    """Too many failed logins: the account or client address is locked for a while."""

    def __init__(self, msg: str, *, retry_after_s: float) -> None:
        super().__init__(msg)
        self.retry_after_s = retry_after_s


class BusyError(NavigatorError):
    """The server is at its limit for this kind of request (live streams); retry later."""

    def __init__(self, msg: str, *, retry_after_s: float) -> None:
        super().__init__(msg)
        self.retry_after_s = retry_after_s
