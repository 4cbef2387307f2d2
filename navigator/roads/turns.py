"""Turn restrictions: OSM restriction relations, mapped onto a built graph by node splitting.

A restricted intersection ``N`` (one with a ``no_*`` or ``only_*`` relation whose via is a
node) is split so that every node-based search (Dijkstra, PHAST, the contraction hierarchy,
its buckets) obeys the restriction unchanged:

- each out-edge ``N -> w`` leaves from its own *port* ``P_w`` (``N -> P_w`` costs 0 s), so a
  road edge stays one edge of the graph (snapping, closures and twins see each road once);
- each in-edge ``u -> N`` that a restriction starts from arrives at its own *copy* ``N_u``,
  joined by 0 s *turn edges* to the ports of the turns allowed after it; other in-edges
  arrive at ``N`` itself, which reaches every port;
- a *sink* ``N_t``, reached at 0 s from ``N`` and from every copy, is where a search *to* ``N``
  ends.

Real intersections keep the node ids ``0 .. n_nodes - 1``; the added nodes follow.
``TravelGraph.original_node`` maps every search node to its intersection and
``TravelGraph.target_node`` every intersection to the node a search ends at (its sink where
restricted, else itself). Via-way restrictions are not applied (counted and logged).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import NetworkBuildError

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

Direction = Literal["from", "to"]
log = logging.getLogger(__name__)

__all__ = ["Restriction", "TurnReport", "from_file", "read_restrictions", "restricted_turns",
           "split_nodes"]


@dataclass(frozen=True)
class Restriction:
    """One via-node turn restriction as tagged in OSM.

    Attributes
    ----------
    from_way, to_way
        OSM way ids of the ``from`` and ``to`` members.
    via_node
        OSM node id of the ``via`` member.
    only
        True for ``only_*`` (the one turn allowed), False for ``no_*`` (the turn forbidden).
    value
        The tag value (``no_left_turn``, ``only_straight_on``, ...).
    """

    from_way: int
    via_node: int
    to_way: int
    only: bool
    value: str = ""


@dataclass
class TurnReport:
    """What became of the restriction relations of an OSM file.

    Attributes
    ----------
    applied
        Restrictions mapped onto the graph.
    turns
        Per applied restriction and road pair, ``(from, via, to, only)``: OSM node ids of the
        intersection the in-edge comes from, the via node and the intersection the out-edge
        leads to; ``only`` True for an ``only_*`` turn (every other turn from that in-edge is
        forbidden), False for a forbidden turn.
    skipped
        Count of relations left out, per reason.
    """

    applied: list[Restriction] = field(default_factory=list)
    turns: list[tuple[int, int, int, bool]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def _excepts_cars(tags: Any) -> bool:
    values = {v.strip() for v in str(tags.get("except", "")).split(";")}
    return bool(values & {"motorcar", "motor_vehicle", "vehicle"})


def read_restrictions(path: Path, report: TurnReport) -> list[Restriction]:
    """Read the car turn restrictions of an OSM file (via-node ones; others counted in report).

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
            if any(role == "via" and t == "w" for t, _, role in members):
                skip["via way (not applied)"] += 1
                continue
            if len(froms) != 1 or len(tos) != 1 or len(via_nodes) != 1:
                skip["not one from way, one via node and one to way"] += 1
                continue
            out.append(Restriction(froms[0], via_nodes[0], tos[0], value.startswith("only_"),
                                   value))
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
              enabled: bool = True, report: TurnReport | None = None
              ) -> dict[int, npt.NDArray[np.int64]]:
    """Return :func:`restricted_turns` for an OSM file's relations ({} when not ``enabled``).

    Logs how many restrictions were applied and, per reason, how many were not (also kept in
    ``report`` when given).
    """
    if not enabled:
        return {}
    report = TurnReport() if report is None else report
    allowed = restricted_turns(read_restrictions(path, report), report, osmid, is_end, u, v,
                               geom_ptr, geom_nodes, raw)
    log.info("%s: %d turn restrictions applied, %d not (%s)", path.name, len(report.applied),
             sum(report.skipped.values()),
             "; ".join(f"{k}: {c}" for k, c in sorted(report.skipped.items())) or "none")
    return allowed


def split_nodes(
    n: int,
    u: npt.NDArray[np.int64],
    v: npt.NDArray[np.int64],
    travel_time: npt.NDArray[np.float64],
    length: npt.NDArray[np.float64],
    geom_ptr: npt.NDArray[np.int64],
    allowed: dict[int, npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[Any], ...]:
    """Return the turn-expanded edges: ``u, v, travel_time, length, geom_ptr`` and node maps.

    Parameters
    ----------
    n
        Number of intersections (node ids ``0 .. n - 1``).
    u, v, travel_time, length, geom_ptr
        The edges (seconds, metres) and their shape-point offsets.
    allowed
        From :func:`restricted_turns`, in the same edge indices.

    Returns
    -------
    tuple
        ``(u, v, travel_time, length, geom_ptr, original_node, target_node)``: the road edges
        keep their indices (their ends moved to ports and copies), the 0 s turn edges follow
        without shape points; ``original_node`` per search node, ``target_node`` per
        intersection.
    """
    u, v = u.copy(), v.copy()
    e_in = np.array(sorted(allowed), dtype=np.int64)
    restricted = np.unique(v[e_in])
    e_port = np.flatnonzero(np.isin(u, restricted))
    port = n + np.arange(len(e_port), dtype=np.int64)
    copy = n + len(e_port) + np.arange(len(e_in), dtype=np.int64)
    sink = n + len(e_port) + len(e_in) + np.arange(len(restricted), dtype=np.int64)
    sink_of = dict(zip(restricted.tolist(), sink.tolist(), strict=True))
    port_of = np.full(len(u), -1, dtype=np.int64)
    port_of[e_port] = port
    original = np.concatenate([np.arange(n, dtype=np.int64), u[e_port], v[e_in], restricted])
    turn_a = [u[e_port], copy, restricted]
    turn_b = [port, np.array([sink_of[int(x)] for x in v[e_in]], dtype=np.int64), sink]
    for c, e in zip(copy.tolist(), e_in.tolist(), strict=True):
        turn_a.append(np.full(len(allowed[e]), c, dtype=np.int64))
        turn_b.append(port_of[allowed[e]])
    u[e_port] = port
    v[e_in] = copy
    a, b = np.concatenate(turn_a), np.concatenate(turn_b)
    target = np.arange(n, dtype=np.int64)
    target[restricted] = sink
    zeros = np.zeros(len(a))
    ptr = np.concatenate([geom_ptr, np.full(len(a), geom_ptr[-1], dtype=np.int64)])
    log.info("turn restrictions: %d intersections split, %d nodes and %d turn edges added",
             len(restricted), len(original) - n, len(a))
    return (np.concatenate([u, a]), np.concatenate([v, b]), np.concatenate([travel_time, zeros]),
            np.concatenate([length, zeros]), ptr, original, target)


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
    """Return ``edges`` without the turn edges inside split intersections."""
    if not tg.turn_restricted:
        return edges
    return edges[~tg.is_turn_edge()[edges]]


def intersections(tg: TravelGraph, nodes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the intersections a sequence of search nodes passes, consecutive repeats dropped."""
    if not tg.turn_restricted:
        return nodes
    out = tg.original_node[nodes]
    keep = np.ones(len(out), dtype=bool)
    keep[1:] = out[1:] != out[:-1]
    return out[keep]
