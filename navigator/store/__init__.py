"""Stores: ``open_store(url)`` picks PostGIS for ``postgresql://`` URLs, else a GeoPackage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from navigator.store.base import Store

if TYPE_CHECKING:
    pass

__all__ = ["Store", "open_store"]

_POSTGRES = ("postgresql://", "postgres://")


def open_store(url: str, *, migrate: bool = True, app_url: str | None = None) -> Store:
    """Open the store a URL names, creating or upgrading its schema.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/db`` for PostGIS (needs the ``postgis`` extra), or a
        path to a GeoPackage file (created when missing). For PostGIS, the schema owner:
        migrations run as it.
    migrate
        Apply pending schema migrations before returning.
    app_url
        PostGIS only: the login the store's connections use instead of ``url``, a role that
        is a member of ``navigator_app`` (see :class:`~navigator.store.postgis.PostGISStore`).
        Either way the connections act as ``navigator_app``, which cannot rewrite the audit
        log.

    Returns
    -------
    Store
    """
    if app_url is not None and not (url.startswith(_POSTGRES)
                                    and app_url.startswith(_POSTGRES)):
        from navigator.errors import ValidationError

        msg = "app_url applies to PostGIS stores only (postgresql://... for both URLs)"
        raise ValidationError(msg)
    if url.startswith(_POSTGRES):
        from navigator.store.postgis import PostGISStore

        store: Store = PostGISStore(url, app_url=app_url)
    elif "://" in url:
        from navigator.errors import ValidationError

        scheme = url.split("://", 1)[0]
        msg = (f"store URL scheme {scheme!r} is not supported: use postgresql://... for "
               "PostGIS or a file path for a GeoPackage")
        raise ValidationError(msg)
    else:
        from navigator.store.embedded import GeoPackageStore

        store = GeoPackageStore(url)
    if migrate:
        store.migrate()
    return store
