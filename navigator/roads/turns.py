"""Turn restrictions: OSM restriction relations read, mapped onto a built graph, and queried.

``no_*`` and ``only_*`` relations for cars whose via is a node are mapped here onto the
in-edge and out-edges at that node; those whose via is one or more ways onto edge sequences by
:mod:`navigator.roads.via_ways`. :mod:`navigator.roads.turn_graph` then splits the restricted
intersections into ports, copies, ghost chains and sinks joined by turn edges, so every
node-based search (Dijkstra, PHAST, the contraction hierarchy, its buckets) obeys them
unchanged.

Real intersections keep the node ids ``0 .. n_nodes - 1``; the added nodes follow.
``TravelGraph.original_node`` maps every search node to its intersection and
``TravelGraph.target_node`` every intersection to the node a search ends at (its sink where
split, else itself). The helpers at the end map query arguments and answers through them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import NetworkBuildError
from navigator.roads.turn_graph import Restriction, TurnReport, TurnRules
from navigator.roads.via_ways import via_way_sequences

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

Direction = Literal["from", "to"]
log = logging.getLogger(__name__)

__all__ = ["Restriction", "TurnReport", "from_file", "read_restrictions", "restricted_turns"]


def _excepts_cars(tags: Any) -> bool:
    values = {v.strip() for v in str(tags.get("except", "")).split(";")}
    return bool(values & {"motorcar", "motor_vehicle", "vehicle"})


def read_restrictions(path: Path, report: TurnReport) -> list[Restriction]:
    """Read the car turn restrictions of an OSM file (others counted in report).

    ``restriction:motorcar`` wins over ``restriction``; relations whose ``except`` names
    ``motorcar`` (or ``motor_vehicle``/``vehicle``) are left out, as are conditional ones.

    Raises
    ------
    NetworkBuildError
        If the file cannot be read.
    """
    import osmium  # heavy C extension: only needed while building

    out: list[Restriction] = []
    skip = report.skipped
    try:
        for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
            tags = rel.tags
            if tags.get("type") != "restriction":
                continue
            value = tags.get("restriction:motorcar") or tags.get("restriction")
            if not value:
                skip["not for cars (no restriction or restriction:motorcar tag)"] += 1
                continue
            if _excepts_cars(tags):
                skip["except motorcar"] += 1
                continue
            if not value.startswith(("no_", "only_")):
                skip[f"unknown restriction value {value!r}"] += 1
                continue
            members = [(m.type, m.ref, m.role) for m in rel.members]  # type: ignore[union-attr]
            froms = [r for t, r, role in members if role == "from" and t == "w"]
            tos = [r for t, r, role in members if role == "to" and t == "w"]
            via_nodes = [r for t, r, role in members if role == "via" and t == "n"]
            via_ways = tuple(r for t, r, role in members if role == "via" and t == "w")
            if len(froms) != 1 or len(tos) != 1 or len(via_nodes) + bool(via_ways) != 1:
                skip["not one from way, one via node or via ways, and one to way"] += 1
                continue
            out.append(Restriction(froms[0], via_nodes[0] if via_nodes else 0, tos[0],
                                   value.startswith("only_"), value, via_ways))
    except (RuntimeError, OSError, ValueError) as e:
        msg = f"cannot read turn restrictions of {path}: {e}"
        raise NetworkBuildError(msg) from e
    return out


def restricted_turns(
    restrictions: list[Restriction],
    report: TurnReport,
    osmid: npt.NDArray[np.int64],
    is_end: npt.NDArray[np.bool_],
    u: npt.NDArray[np.int64],
    v: npt.NDArray[np.int64],
    geom_ptr: npt.NDArray[np.int64],
    geom_nodes: npt.NDArray[np.int64],
    raw: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> dict[int, npt.NDArray[np.int64]]:
    """Return the out-edges allowed after each restricted in-edge of a built graph.

    Parameters
    ----------
    restrictions
        From :func:`read_restrictions`.
    report
        Collects what was applied and why the rest was skipped.
    osmid
        OSM id per node (ascending) of the graph before simplification.
    is_end
        Nodes kept by simplification (all True for an unsimplified graph).
    u, v, geom_ptr, geom_nodes
        The built edges in those node ids, with the interior nodes of each.
    raw
        ``(tail, head, way id)`` of the OSM segments the edges were built from.

    Returns
    -------
    dict
        In-edge index -> the out-edge indices a driver arriving on it may take.
    """
    restrictions = [r for r in restrictions if not r.via_ways]
    via = {r.via_node for r in restrictions}
    if not via:
        return {}
    pos = np.minimum(np.searchsorted(osmid, np.array(sorted(via), dtype=np.int64)),
                     len(osmid) - 1)
    node_of = {int(o): int(p) for o, p in zip(sorted(via), pos, strict=True)
               if osmid[p] == o}
    nodes = np.array(sorted(node_of.values()), dtype=np.int64)
    ru, rv, rway = raw
    near = np.isin(ru, nodes) | np.isin(rv, nodes)
    ways: dict[tuple[int, int], set[int]] = defaultdict(set)
    for a, b, w in zip(ru[near].tolist(), rv[near].tolist(), rway[near].tolist(), strict=True):
        ways[(a, b)].add(w)
    cnt = np.diff(geom_ptr)
    gn = geom_nodes if len(geom_nodes) else np.zeros(1, dtype=np.int64)
    last_nb = np.where(cnt > 0, gn[np.clip(geom_ptr[1:] - 1, 0, len(gn) - 1)], u)
    first_nb = np.where(cnt > 0, gn[np.clip(geom_ptr[:-1], 0, len(gn) - 1)], v)
    ins: dict[int, list[int]] = defaultdict(list)
    outs: dict[int, list[int]] = defaultdict(list)
    for e in np.flatnonzero(np.isin(v, nodes)).tolist():
        ins[int(v[e])].append(e)
    for e in np.flatnonzero(np.isin(u, nodes)).tolist():
        outs[int(u[e])].append(e)
    only: dict[int, set[int]] = defaultdict(set)
    banned: dict[int, set[int]] = defaultdict(set)
    for r in restrictions:
        n = node_of.get(r.via_node)
        if n is None:
            report.skipped["via node not in the road network"] += 1
            continue
        if not is_end[n]:
            report.skipped["via node inside a road (no turn to restrict)"] += 1
            continue
        e_in = [e for e in ins[n] if r.from_way in ways.get((int(last_nb[e]), n), ())]
        e_out = [e for e in outs[n] if r.to_way in ways.get((n, int(first_nb[e])), ())]
        if not e_in:
            report.skipped["from way does not reach the via node by road"] += 1
            continue
        if not e_out:
            report.skipped["to way does not leave the via node by road"] += 1
            continue
        for e in e_in:
            (only if r.only else banned)[e].update(e_out)
        report.applied.append(r)
        report.turns.extend((int(osmid[u[a]]), r.via_node, int(osmid[v[b]]), r.only)
                            for a in e_in for b in e_out)
    allowed: dict[int, npt.NDArray[np.int64]] = {}
    for e in sorted(set(only) | set(banned)):
        pick = only[e] if e in only else set(outs[int(v[e])])
        allowed[e] = np.array(sorted(pick - banned[e]), dtype=np.int64)
    return allowed


def from_file(path: Path, osmid: npt.NDArray[np.int64], is_end: npt.NDArray[np.bool_],
              u: npt.NDArray[np.int64], v: npt.NDArray[np.int64],
              geom_ptr: npt.NDArray[np.int64], geom_nodes: npt.NDArray[np.int64],
              raw: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
              enabled: bool = True, report: TurnReport | None = None) -> TurnRules:
    """Return the turn rules of an OSM file's relations (none when not ``enabled``).

    Via-node restrictions by :func:`restricted_turns`, via-way ones by
    :func:`navigator.roads.via_ways.via_way_sequences`. Logs how many restrictions were
    applied and, per reason, how many were not (also kept in ``report`` when given).
    """
    if not enabled:
        return TurnRules()
    report = TurnReport() if report is None else report
    restrictions = read_restrictions(path, report)
    rules = TurnRules(
        allowed=restricted_turns(restrictions, report, osmid, is_end, u, v, geom_ptr,
                                 geom_nodes, raw),
        sequences=via_way_sequences(restrictions, report, osmid, u, v, geom_ptr, geom_nodes,
                                    raw))
    log.info("%s: %d turn restrictions applied, %d not (%s)", path.name, len(report.applied),
             sum(report.skipped.values()),
             "; ".join(f"{k}: {c}" for k, c in sorted(report.skipped.items())) or "none")
    return rules


# -- queries on a split graph: intersections in, intersections out ---------------------------

def starts(tg: TravelGraph, nodes: npt.NDArray[np.int64], direction: Direction
           ) -> npt.NDArray[np.int64]:
    """Return the search nodes a search from (``"from"``) or to (``"to"``) nodes starts at.

    The node itself when driving away, its sink when arriving (:mod:`navigator.roads.turns`).
    """
    return nodes if direction == "from" else tg.target_node[nodes]


def start_of(tg: TravelGraph, node: int, direction: Direction) -> npt.NDArray[np.int64]:
    """Return :func:`starts` of one node as a one-element array (a view when arriving).

    A slice instead of building an array and indexing with it: one numpy call less per query,
    which counts when other work has left the caches cold.
    """
    if direction == "from":
        return np.array([node], dtype=np.int64)
    return tg.target_node[node:node + 1]


def ends(tg: TravelGraph, nodes: npt.NDArray[np.int64], direction: Direction
         ) -> npt.NDArray[np.int64]:
    """Return the search nodes whose labels answer for intersections (see :func:`starts`)."""
    return tg.target_node[nodes] if direction == "from" else nodes


def answer_ids(tg: TravelGraph, wanted: npt.NDArray[np.int64] | None, direction: Direction
                ) -> npt.NDArray[np.int64] | None:
    """Return the search nodes to read for ``wanted`` intersections (None: all, unsplit)."""
    if wanted is None:
        if not tg.turn_restricted:
            return None
        wanted = np.arange(tg.n_nodes, dtype=np.int64)
    return ends(tg, wanted, direction)


def road_edges(tg: TravelGraph, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return ``edges`` without the turn edges inside split intersections, ghosts as roads."""
    if not tg.turn_restricted:
        return edges
    edges = edges[~tg.is_turn_edge()[edges]]
    if tg.ghost_edge.shape[0]:
        pos = np.searchsorted(tg.ghost_edge, edges)
        pos = np.minimum(pos, tg.ghost_edge.shape[0] - 1)
        edges = np.where(tg.ghost_edge[pos] == edges, tg.ghost_road[pos], edges)
    return edges


def intersections(tg: TravelGraph, nodes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the intersections a sequence of search nodes passes, consecutive repeats dropped."""
    if not tg.turn_restricted:
        return nodes
    out = tg.original_node[nodes]
    keep = np.ones(len(out), dtype=bool)
    keep[1:] = out[1:] != out[:-1]
    return out[keep]
