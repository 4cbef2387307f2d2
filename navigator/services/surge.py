"""Surge shelters: an admin activates or deactivates an evacuation shelter; the list of them.

A surge shelter is a resource of kind ``evacuation_shelter`` with bed types by need
(:data:`~navigator.model.SURGE_NEEDS`). It is inactive until activated: the maps hide it and
evacuee placement does not offer it. Its staff report counts like any shelter's (the bed
registry). Each change is one store write with its audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from navigator.model import SURGE_NEEDS, ResourceKind

if TYPE_CHECKING:
    import geopandas as gpd

    from navigator.model import SurgeSite
    from navigator.store import Store

__all__ = ["set_surge_shelter", "surge_shelters"]


def set_surge_shelter(store: Store, *, resource_id: str, active: bool, actor: str,
                      opens_at: datetime | None = None, note: str = "") -> SurgeSite:
    """Activate (open for evacuees from ``opens_at``, default now) or deactivate a shelter.

    Parameters
    ----------
    store
        Where the activation is written (and audited).
    resource_id
        An ``evacuation_shelter`` resource.
    active
        True to activate, False to deactivate.
    actor
        Who decides (an admin; the web and CLI edges check the role).
    opens_at
        Timezone-aware opening time when activating; None: now.
    note
        Why (e.g. the incident), at most 500 characters.

    Returns
    -------
    SurgeSite
        The activation as stored.

    Raises
    ------
    NotFoundError
        Unknown resource.
    ValidationError
        Not a surge shelter, a naive time, a note too long; nothing written.
    ConflictError
        Already in that state.
    """
    return store.set_surge_active(resource_id, active, actor=actor, opens_at=opens_at,
                                  note=note)


def surge_shelters(store: Store) -> gpd.GeoDataFrame:
    """Return every surge shelter with its activation and free spaces per need.

    Columns: the resource columns, ``active`` (bool), ``opens_at`` (aware or None), ``note``,
    and ``free_<need>`` / ``capacity_<need>`` for each of
    :data:`~navigator.model.SURGE_NEEDS` (0 where the shelter lists no such beds).
    """
    res = store.resources(kinds=[ResourceKind.EVACUATION_SHELTER]).reset_index(drop=True)
    sites = store.surge_sites(res["id"].tolist())
    res["active"] = [sites[r].active for r in res["id"]]
    res["opens_at"] = [sites[r].opens_at for r in res["id"]]
    res["note"] = [sites[r].note for r in res["id"]]
    beds = store.beds(res["id"].tolist())
    for need in SURGE_NEEDS:
        mine = beds[beds["bed_type"].astype(str) == need.value]
        free = dict(zip(mine["resource_id"], mine["free"], strict=True))
        cap = dict(zip(mine["resource_id"], mine["capacity"], strict=True))
        res[f"free_{need.value}"] = [int(free.get(r, 0)) for r in res["id"]]
        res[f"capacity_{need.value}"] = [int(cap.get(r, 0)) for r in res["id"]]
    return res
