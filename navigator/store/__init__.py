"""Stores: ``open_store(url)`` picks PostGIS for ``postgresql://`` URLs, else a GeoPackage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from navigator.store.base import Store

if TYPE_CHECKING:
    pass

__all__ = ["Store", "open_store"]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a URL names, creating or upgrading its schema.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/db`` for PostGIS (needs the ``postgis`` extra), or a
        path to a GeoPackage file (created when missing).
    migrate
        Apply pending schema migrations before returning.

    Returns
    -------
    Store
    """
    if url.startswith(("postgresql://", "postgres://")):
        from navigator.store.postgis import PostGISStore

        store: Store = PostGISStore(url)
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
