"""Build a TravelGraph from a local OSM file, cache it on disk, and load the valid cache.

Graphs are simplified by default: chains of interior OSM nodes become one edge whose travel
time and length are the sums over its segments (not osmnx's mean-speed re-computation), so
fastest times between kept nodes equal those of the unsimplified graph. Kept nodes are
intersections, dead ends and one-way changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from navigator.errors import NetworkBuildError, ValidationError
from navigator.roads import turn_costs, turn_graph, turns
from navigator.roads.area import area_timezone
from navigator.roads.graph import TravelGraph, take_rows
from navigator.roads.osm import SPEED_FALLBACK_KPH, edge_speeds_kph, great_circle_m, read_drive_ways

log = logging.getLogger(__name__)

#: Bumped whenever the build or the cache layout changes; part of the settings hash.
CACHE_FORMAT = 5


def speed_table(speeds: Mapping[str, float] | None, simplify: bool = True,
                turn_restrictions: bool = True, turn_penalties: str = ""
                ) -> tuple[dict[str, float], str]:
    """Return the fallback speed table (km/h) with overrides, and the build-settings hash."""
    turn_costs.turn_profile(turn_penalties)  # an unknown profile name fails here
    table = dict(SPEED_FALLBACK_KPH)
    for hw, kph in (speeds or {}).items():
        try:
            value = float(kph)
        except (TypeError, ValueError) as e:
            msg = f"speed for highway={hw!r} must be a number of km/h, got {kph!r}"
            raise ValidationError(msg) from e
        if not (0 < value < np.inf):
            msg = f"speed for highway={hw!r} must be positive and finite, got {kph!r}"
            raise ValidationError(msg)
        table[str(hw)] = value
    blob = json.dumps({"format": CACHE_FORMAT, "speeds": sorted(table.items()),
                       "simplify": simplify, "turn_restrictions": turn_restrictions,
                       "turn_penalties": turn_penalties}).encode()
    return table, hashlib.sha256(blob).hexdigest()


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_graph(
    osm_path: str | os.PathLike[str],
    *,
    speeds: Mapping[str, float] | None = None,
    simplify: bool = True,
    turn_restrictions: bool = True,
    turn_penalties: str = "",
    turn_report: turns.TurnReport | None = None,
) -> TravelGraph:
    """Build the drivable network of a local OSM file with osmnx's semantics.

    Ways pass osmnx 2.x's ``drive`` filter; one-way rules follow osmnx (``oneway`` yes/true/1/
    -1/reverse, ``junction=roundabout``; ``reversible`` stays two-way). Edge ``length`` is the
    great-circle distance in metres; speeds come from ``maxspeed`` (km/h, "mph" converted),
    else the mean observed speed of the edge's highway type, else ``speeds``/the fallback table;
    ``travel_time = length / speed`` in seconds. Only the largest strongly connected component
    is kept. With ``simplify`` chains of interior nodes are merged (osmnx's endpoint rules) with
    summed travel times and lengths, so shortest times between kept nodes are unchanged.
    With ``turn_restrictions`` the file's ``no_*``/``only_*`` relations for cars (via a node
    or via ways) are applied by splitting the restricted intersections
    (:mod:`navigator.roads.turns`); with ``turn_penalties`` (``"osrm-car"``) every turn costs
    the seconds of OSRM's car profile (:mod:`navigator.roads.turn_costs`).

    Parameters
    ----------
    osm_path
        ``.osm``, ``.osm.bz2``/``.gz`` or ``.osm.pbf`` file.
    speeds
        Fallback speeds, km/h, by highway type, over :data:`SPEED_FALLBACK_KPH` (key
        ``"default"`` for types not listed).
    simplify
        Merge interior nodes (the default) or keep every OSM node as a graph node.
    turn_restrictions
        Obey OSM turn restrictions (the default) or ignore them.
    turn_penalties
        Name of a turn penalty profile (:data:`navigator.roads.turn_costs.PROFILES`), or ""
        (the default): turns cost nothing.
    turn_report
        Filled with the restrictions applied and, per reason, the ones that were not.

    Returns
    -------
    TravelGraph

    Raises
    ------
    NetworkBuildError
        If the file is missing, unreadable or has no drivable roads.
    ValidationError
        If a speed is not a positive number or the turn penalty profile is unknown.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from navigator.roads import _kernels

    path = Path(osm_path)
    table, settings_hash = speed_table(speeds, simplify, turn_restrictions, turn_penalties)
    profile = turn_costs.turn_profile(turn_penalties)
    if not path.is_file():
        msg = f"OSM file not found: {path}"
        raise NetworkBuildError(msg)
    sha = file_sha256(path)
    raw = read_drive_ways(path)
    n0 = len(raw.osmid)
    adj = csr_matrix((np.ones(len(raw.u), dtype=np.int8), (raw.u, raw.v)), shape=(n0, n0))
    _, labels = connected_components(adj, directed=True, connection="strong")
    keep_node = labels == np.argmax(np.bincount(labels))
    keep = keep_node[raw.u] & keep_node[raw.v]
    if keep_node.sum() < 2 or not keep.any():
        msg = f"{path}: no two drivable nodes are mutually reachable"
        raise NetworkBuildError(msg)
    new_id = np.cumsum(keep_node) - 1
    u, v = new_id[raw.u[keep]], new_id[raw.v[keep]]
    lon, lat, osmid = raw.lon[keep_node], raw.lat[keep_node], raw.osmid[keep_node]
    length = great_circle_m(lat[u], lon[u], lat[v], lon[v])
    speed = edge_speeds_kph(raw.way_highway, raw.way_maxspeed, table, edge_way=raw.way[keep])
    travel_time = (length / 1000) / (speed / 3600)  # osmnx's add_edge_travel_times
    segments = (u, v, raw.way_osmid[raw.way[keep]])  # OSM way ids, for turn restrictions
    # the raw network and its masks are done with: free them before the larger temporaries
    # (simplification, contraction) so those reuse the memory (a lower peak RSS)
    del raw, adj, labels, keep_node, keep, new_id, speed
    u, v, travel_time, length = min_parallel_edges(u, v, travel_time, length)
    n = len(osmid)
    geom_ptr = np.zeros(len(u) + 1, dtype=np.int64)
    geom_nodes = np.zeros(0, dtype=np.int64)
    is_end = np.ones(n, dtype=bool)
    full_osmid = osmid
    if simplify:
        fwd = _csr(u, v, n)
        rev = _csr(v, u, n)
        is_end, u, v, travel_time, length, geom_ptr, geom_nodes = _kernels.simplify_chains(
            fwd[0], fwd[1], travel_time[fwd[2]], length[fwd[2]], rev[0], rev[1]
        )
        del fwd, rev
        # drop self-loops, then keep the fastest of parallel simplified edges
        ok = u != v
        u, v, travel_time, length = u[ok], v[ok], travel_time[ok], length[ok]
        geom_ptr, geom_nodes = take_rows(geom_ptr, geom_nodes, np.flatnonzero(ok))
        u, v, travel_time, length, pick = min_parallel_edges(u, v, travel_time, length,
                                                             return_pick=True)
        geom_ptr, geom_nodes = take_rows(geom_ptr, geom_nodes, pick)
        geom_xy = np.column_stack([lon[geom_nodes], lat[geom_nodes]])
    else:
        geom_xy = np.zeros((0, 2))
    rules = turns.from_file(path, full_osmid, is_end, u, v, geom_ptr, geom_nodes, segments,
                            turn_restrictions, turn_report)
    relabel = np.cumsum(is_end) - 1
    u, v = relabel[u], relabel[v]
    lon, lat, osmid = lon[is_end], lat[is_end], osmid[is_end]
    node_maps: dict[str, Any] = {}
    if profile is not None:
        signal = np.isin(full_osmid, turn_costs.read_signals(path))
        # a signal inside a road delays that road (OSRM adds it while compressing its graph)
        inside = np.bincount(np.repeat(np.arange(len(u)), np.diff(geom_ptr)),
                             weights=signal[geom_nodes], minlength=len(u))
        travel_time = travel_time + profile.signal_penalty_s * inside
        rules.costs = turn_costs.turn_costs(profile, len(osmid), u, v, lon, lat, geom_ptr,
                                            geom_xy, signal[is_end])
    if rules:
        ex = turn_graph.expand(len(osmid), u, v, travel_time, length, geom_ptr, geom_xy, rules)
        u, v, travel_time, length, geom_ptr, geom_xy = (ex.u, ex.v, ex.travel_time, ex.length,
                                                        ex.geom_ptr, ex.geom_xy)
        node_maps = {"original_node": ex.original_node, "target_node": ex.target_node,
                     "ghost_edge": ex.ghost_edge, "ghost_road": ex.ghost_road}
    return assemble_graph(u, v, travel_time, length, osmid, lon, lat, geom_ptr, geom_xy,
                          source=str(path), source_sha256=sha, settings_hash=settings_hash,
                          simplified=simplify, **node_maps)


def _csr(u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], n: int) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64]
]:
    order = np.argsort(u * np.int64(n) + v, kind="stable")  # as lexsort((v, u)), ~2x faster
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return indptr, v[order].astype(np.int32), order


def min_parallel_edges(u, v, tt, ln, *, return_pick=False):  # type: ignore[no-untyped-def]
    """Keep, per (u, v), the edge with the least travel time (osmnx ``to_digraph``)."""
    key = u * (np.int64(max(int(u.max(initial=0)), int(v.max(initial=0))) + 1)) + v
    order = np.lexsort((tt, key))  # as lexsort((tt, v, u)): one key fewer to sort by
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    pick = order[first]
    out = (u[pick], v[pick], tt[pick], ln[pick])
    return (*out, pick) if return_pick else out


def assemble_graph(u, v, travel_time, length, osmid, lon, lat, geom_ptr, geom_xy,  # type: ignore[no-untyped-def]
                   *, original_node=None, target_node=None, ghost_edge=None,
                   ghost_road=None, **meta) -> TravelGraph:
    """Return a TravelGraph of edges ``u -> v``: nodes in Z-order, CSR both ways, CH built.

    ``original_node``/``target_node`` (:mod:`navigator.roads.turn_graph`) give the
    intersection of each search node beyond ``len(osmid)`` and the node a search to an
    intersection ends at; the added nodes keep their order after the Z-ordered intersections.
    ``ghost_edge``/``ghost_road``: the ghost edges and the road edges they duplicate.
    """
    n_real = len(osmid)
    n = n_real if original_node is None else len(original_node)
    # number nodes along a Z-order curve so searches touch nearby memory
    span = max(float(np.ptp(lon)), float(np.ptp(lat)), 1e-12)
    ix = ((lon - lon.min()) / span * 65535).astype(np.uint64)
    iy = ((lat - lat.min()) / span * 65535).astype(np.uint64)
    code = np.zeros(n_real, dtype=np.uint64)
    for bit in range(16):
        code |= ((ix >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        code |= ((iy >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    perm = np.argsort(code, kind="stable")
    rank = np.arange(n, dtype=np.int64)
    rank[perm] = np.arange(n_real)
    u, v = rank[u], rank[v]
    if original_node is not None:
        original = np.empty(n, dtype=np.int64)
        original[rank] = rank[original_node]
        target = np.empty(n_real, dtype=np.int64)
        target[rank[:n_real]] = rank[target_node]
        meta.update(original_node=original, target_node=target)
    indptr, indices, order = _csr(u, v, n)
    if ghost_edge is not None and len(ghost_edge):
        at = np.empty(len(order), dtype=np.int64)
        at[order] = np.arange(len(order))
        by = np.argsort(at[ghost_edge])
        meta.update(ghost_edge=at[ghost_edge][by], ghost_road=at[ghost_road][by])
    geom_ptr, geom_xy = take_rows(geom_ptr, geom_xy, order)
    rindptr, rindices, rorder = _csr(v[order], u[order], n)
    tt = np.ascontiguousarray(travel_time[order], dtype=np.float64)
    ch = contraction_hierarchy(indptr, indices, tt)
    return TravelGraph(
        indptr=indptr, indices=indices, travel_time=tt,
        length=np.ascontiguousarray(length[order], dtype=np.float64),
        rindptr=rindptr, rindices=rindices, rtravel_time=tt[rorder],
        redge=rorder.astype(np.int64), osmid=osmid[perm], lon=lon[perm], lat=lat[perm],
        geom_ptr=geom_ptr, geom_lon=np.ascontiguousarray(geom_xy[:, 0]),
        geom_lat=np.ascontiguousarray(geom_xy[:, 1]), **ch, **meta,
    )


def contraction_hierarchy(indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int32],
                          weight: npt.NDArray[np.float64], *,
                          ch_pos: npt.NDArray[np.int64] | None = None) -> dict[str, Any]:
    """Contract a CSR graph; return the ``ch_*``, ``up_*`` and ``dn_*`` fields of TravelGraph.

    Parameters
    ----------
    indptr, indices, weight
        Forward CSR with travel times, seconds.
    ch_pos
        Keep this node order (a built graph's ``ch_pos``) instead of choosing one: for
        re-contracting after travel times change (road closures), several times faster.

    Returns
    -------
    dict
        Keyword arguments for :class:`TravelGraph`.
    """
    from navigator.roads import _ch

    n = len(indptr) - 1
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    dst = indices.astype(np.int64)
    capacity = 3 * len(dst) + 64
    order = None if ch_pos is None else np.argsort(n - 1 - ch_pos).astype(np.int64)
    while True:
        if order is None:
            rank, a, b, w, mid = _ch.contraction_order(n, src, dst, weight, capacity)
        else:
            rank, a, b, w, mid = _ch.contract_in_order(n, src, dst, weight, order, capacity)
        if len(rank) == n:
            break
        capacity *= 2
    pos = (n - 1 - rank).astype(np.int64)  # highest rank first
    pa, pb = pos[a], pos[b]
    up = pa > pb  # a ranks below b: an upward edge of a
    pm = np.where(mid >= 0, pos[np.maximum(mid, 0)], -1).astype(np.int32)
    u_ptr, u_idx, u_order = _csr(pa[up], pb[up], n)
    d_ptr, d_idx, d_order = _csr(pb[~up], pa[~up], n)
    return {
        "ch_pos": pos, "up_indptr": u_ptr, "up_indices": u_idx, "up_weight": w[up][u_order],
        "up_mid": pm[up][u_order], "dn_indptr": d_ptr, "dn_indices": d_idx,
        "dn_weight": w[~up][d_order], "dn_mid": pm[~up][d_order],
    }


# a graph with road closures is derived at run time, never cached: closed_edges is not stored
_ARRAYS = [f.name for f in fields(TravelGraph) if f.name not in ("_memo", "closed_edges")
           and f.type.startswith("npt.")]
_META = ["source", "source_sha256", "settings_hash", "crs"]
#: Written by every save; a cache from before they existed reads them as "".
_OPTIONAL_META = ["timezone"]


def save_graph(tg: TravelGraph, path: str | os.PathLike[str]) -> Path:
    """Write a graph to an uncompressed ``.npz`` file, atomically.

    Parameters
    ----------
    tg
        The graph.
    path
        Target file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if tg.closures_in_effect:
        msg = "a graph with road closures is derived at run time; save the graph it came from"
        raise ValidationError(msg)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {name: getattr(tg, name) for name in _ARRAYS}
    arrays.update({name: np.array(getattr(tg, name)) for name in _META + _OPTIONAL_META})
    arrays["simplified"] = np.array(tg.simplified)
    arrays["format"] = np.array(CACHE_FORMAT)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_graph(path: str | os.PathLike[str]) -> TravelGraph:
    """Read a graph written by :func:`save_graph`.

    Raises
    ------
    NetworkBuildError
        If the file is missing, not a graph cache, or of another cache format.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["format"]) != CACHE_FORMAT:
                msg = f"{path} is cache format {int(z['format'])}, expected {CACHE_FORMAT}"
                raise NetworkBuildError(msg)
            kw: dict[str, Any] = {name: z[name] for name in _ARRAYS}
            kw.update({name: str(z[name]) for name in _META})
            kw.update({name: str(z[name]) for name in _OPTIONAL_META if name in z.files})
            kw["simplified"] = bool(z["simplified"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as e:
        msg = f"cannot read graph cache {path}: {e}"
        raise NetworkBuildError(msg) from e
    return TravelGraph(**kw)


def _with_timezone(tg: TravelGraph) -> TravelGraph:
    """Return ``tg`` with its time zone recorded, so loading its cache needs no lookup.

    The offline lookup (timezonefinder) costs ~1.7 s of import and compilation per process:
    most of a CLI command's time. A network at sea keeps "" (and fails where a zone is needed).
    """
    try:
        zone = area_timezone(float(np.median(tg.lon)), float(np.median(tg.lat)))
    except ValidationError:
        return tg
    return dataclasses.replace(tg, timezone=zone, _memo={})


def cache_path(osm_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *,
               speeds: Mapping[str, float] | None = None, simplify: bool = True,
               turn_restrictions: bool = True, turn_penalties: str = "") -> Path:
    """Return where :func:`load_graph` keeps the cache of an OSM file for given settings."""
    path = Path(osm_path).resolve()
    where = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    settings_hash = speed_table(speeds, simplify, turn_restrictions, turn_penalties)[1]
    return Path(cache_dir) / f"{path.name}.{where}.{settings_hash[:12]}.npz"


def load_graph(
    osm_path: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    speeds: Mapping[str, float] | None = None,
    simplify: bool = True,
    turn_restrictions: bool = True,
    turn_penalties: str = "",
) -> TravelGraph:
    """Load the cached graph of an OSM file, building (and caching) it when needed.

    The cache is used only when its recorded SHA-256 of the OSM file's bytes and its settings
    hash (speeds table, simplification, turn restrictions and penalties, cache format) match;
    otherwise the graph is rebuilt with :func:`build_graph` and the cache rewritten. An
    unreadable cache is rebuilt.

    Parameters
    ----------
    osm_path
        Local OSM file.
    cache_dir
        Cache folder (``Settings().cache_dir`` when None).
    speeds, simplify, turn_restrictions, turn_penalties
        As in :func:`build_graph`.

    Returns
    -------
    TravelGraph
    """
    if cache_dir is None:
        from navigator.config import Settings

        cache_dir = Settings().cache_dir
    path = Path(osm_path)
    if not path.is_file():
        msg = f"OSM file not found: {path}"
        raise NetworkBuildError(msg)
    target = cache_path(path, cache_dir, speeds=speeds, simplify=simplify,
                        turn_restrictions=turn_restrictions, turn_penalties=turn_penalties)
    settings_hash = speed_table(speeds, simplify, turn_restrictions, turn_penalties)[1]
    if target.is_file():
        try:
            tg = read_graph(target)
        except NetworkBuildError as e:
            log.warning("rebuilding unreadable graph cache: %s", e)
        else:
            if tg.settings_hash == settings_hash and tg.source_sha256 == file_sha256(path):
                if tg.timezone:
                    return tg
                tg = _with_timezone(tg)  # a cache from before the time zone was kept
                with contextlib.suppress(OSError):
                    save_graph(tg, target)
                return tg
            log.info("graph cache %s is stale; rebuilding", target)
    tg = _with_timezone(build_graph(path, speeds=speeds, simplify=simplify,
                                    turn_restrictions=turn_restrictions,
                                    turn_penalties=turn_penalties))
    try:
        save_graph(tg, target)
    except OSError as e:  # a read-only cache folder must not stop routing
        log.warning("cannot write graph cache %s: %s", target, e)
    return tg
