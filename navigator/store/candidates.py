"""What a caseworker search reads: the sites of some kinds with their live beds, in one go.

A bed or care search reads every resource of the wanted kinds and, for a bed search, the
live registry (holds past their expiry returned first) and the site status rows. Read as
three store calls that is three pool check-outs and three pandas frames built and taken
apart again row by row; :meth:`CandidateMethods.search_sites` reads the same rows in one
transaction and hands them over decoded, as plain dicts (the values the frames would hold).
Nothing is cached: every call reads the store, so a count is as live as
:meth:`~navigator.store.base.Store.bed_counts`'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.model import ResourceKind
from navigator.store import rows
from navigator.store.base import RESOURCE_COLUMNS, SearchSites
from navigator.store.tx import enum_values, in_clause

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime

    from navigator.store.tx import Tx

__all__ = ["CandidateMethods"]

_RESOURCE_SELECT = ", ".join((*RESOURCE_COLUMNS, "lon", "lat"))
_REGISTRY_SELECT = ", ".join(rows.REGISTRY_COLUMNS)
_SITE_SELECT = ", ".join(rows.SITE_COLUMNS)


class CandidateMethods:
    """:meth:`search_sites` on a backend's :class:`~navigator.store.tx.Tx`."""

    #: Provided by :class:`~navigator.store.guarded.GuardedStore` (annotations only).
    _transaction: Callable[..., AbstractContextManager[Tx]]
    _expire: Callable[[Tx, datetime], int]

    def search_sites(self, kinds: Sequence[ResourceKind], *, registry: bool) -> SearchSites:
        """Return the resources of ``kinds`` and, with ``registry``, their live beds and sites.

        With ``registry`` it is one write transaction (holds past their expiry are returned
        to the pool first, as :meth:`~navigator.store.base.Store.bed_counts` does), else one
        read.

        Parameters
        ----------
        kinds
            Resource kinds to read.
        registry
            Also read the bed registry and the site status rows of those resources.

        Returns
        -------
        SearchSites

        Raises
        ------
        ValidationError
            An unknown kind.
        """
        params: dict[str, Any] = {}
        where = in_clause("kind", "kind", enum_values("kinds", ResourceKind, kinds), params)
        query = f"SELECT {_RESOURCE_SELECT} FROM resources WHERE {where} ORDER BY id"
        with self._transaction(write=registry) as tx:
            if registry:
                self._expire(tx, rows.utc_now())
            found = rows.records(tx.fetch(query, params), (*RESOURCE_COLUMNS, "lon", "lat"))
            if not registry:
                return SearchSites(resources=tuple(found))
            ids: dict[str, Any] = {}
            among = in_clause("resource_id", "rid", [r["id"] for r in found], ids)
            beds = tx.fetch(f"SELECT {_REGISTRY_SELECT} FROM beds WHERE {among} "
                            "ORDER BY resource_id, position, bed_type", ids)
            sites = tx.fetch(f"SELECT {_SITE_SELECT} FROM bed_sites WHERE {among} "
                             "ORDER BY resource_id", ids)
        return SearchSites(resources=tuple(found),
                           beds=tuple(rows.records(beds, rows.REGISTRY_COLUMNS)),
                           sites=tuple(rows.records(sites, rows.SITE_COLUMNS)))
