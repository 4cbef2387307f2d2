"""Via-way turn restrictions mapped onto a built graph: ``from -> via path -> to`` edges.

The via path is the run of built edges lying wholly on the via ways that leads from where a
``from`` edge arrives to where a ``to`` edge leaves, using every via way; the expansion
(:mod:`navigator.roads.turn_graph`) then cuts exactly that sequence.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from navigator.roads.turn_graph import Restriction, Sequence, TurnReport

__all__ = ["via_way_sequences"]

#: Longest via path followed (edges); real via ways are one or two short links.
_MAX_VIA_EDGES = 16


def via_way_sequences(
    restrictions: list[Restriction],
    report: TurnReport,
    osmid: npt.NDArray[np.int64],
    u: npt.NDArray[np.int64],
    v: npt.NDArray[np.int64],
    geom_ptr: npt.NDArray[np.int64],
    geom_nodes: npt.NDArray[np.int64],
    raw: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> list[Sequence]:
    """Return the restricted edge sequences of via-way restrictions (others counted).

    Parameters and edge ids as in :func:`navigator.roads.turns.restricted_turns`; each applied
    relation adds ``(OSM node ids along from + via path, OSM node ids the to-edges reach,
    only)`` to ``report.via_turns``.
    """
    rs = [r for r in restrictions if r.via_ways]
    if not rs:
        return []
    ru, rv, rway = raw
    wanted = {w for r in rs for w in (r.from_way, r.to_way, *r.via_ways)}
    near = np.isin(rway, np.array(sorted(wanted), dtype=np.int64))
    ways: dict[tuple[int, int], set[int]] = defaultdict(set)
    for a, b, w in zip(ru[near].tolist(), rv[near].tolist(), rway[near].tolist(), strict=True):
        ways[(a, b)].add(w)
    present = set(rway[near].tolist())
    touched = np.unique(np.concatenate([ru[near], rv[near]]))
    cand = np.flatnonzero(np.isin(u, touched) | np.isin(v, touched))
    seg_sets: dict[int, list[set[int]]] = {}
    for e in cand.tolist():
        chain = [int(u[e]), *geom_nodes[geom_ptr[e]:geom_ptr[e + 1]].tolist(), int(v[e])]
        seg_sets[e] = [ways.get((a, b), set()) for a, b in pairwise(chain)]
    out: list[Sequence] = []
    for r in rs:
        reason = _map_one(r, seg_sets, present, u, v, osmid, out, report)
        if reason:
            report.skipped[f"via way: {reason}"] += 1
    return out


def _map_one(r: Restriction, seg_sets: dict[int, list[set[int]]], present: set[int],
             u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], osmid: npt.NDArray[np.int64],
             out: list[Sequence], report: TurnReport) -> str:
    """Append the sequences of one relation to ``out``; return why not ("" when applied)."""
    via = set(r.via_ways)
    if not {r.from_way, r.to_way, *via} <= present:
        return "a from, via or to way is not in the road network"
    via_edges = {e for e, segs in seg_sets.items() if all(s & via for s in segs)}
    if not via_edges:
        return "via ways are not whole roads of the graph (merged by simplification)"
    leaving: dict[int, list[int]] = defaultdict(list)
    for e in via_edges:
        leaving[int(u[e])].append(e)
    froms = [e for e, segs in seg_sets.items() if r.from_way in segs[-1]
             and int(v[e]) in leaving and e not in via_edges]
    tos: dict[int, set[int]] = defaultdict(set)
    for e, segs in seg_sets.items():
        if r.to_way in segs[0] and e not in via_edges:
            tos[int(u[e])].add(e)
    found: list[tuple[tuple[int, ...], frozenset[int]]] = []
    for a in froms:
        paths: list[tuple[int, ...]] = []
        stack: list[tuple[int, ...]] = [(a,)]
        while stack:
            path = stack.pop()
            x = int(v[path[-1]])
            if len(path) > 1 and x in tos and _covers(path[1:], seg_sets, via):
                paths.append(path)
            if len(path) > _MAX_VIA_EDGES:
                continue
            seen = {int(u[e]) for e in path[1:]} | {int(v[a])}
            stack.extend((*path, e) for e in leaving.get(x, ()) if int(v[e]) not in seen)
        if len(paths) > 1:
            return "via ways join the from and to ways in more than one way"
        if paths:
            found.append((paths[0], frozenset(tos[int(v[paths[0][-1]])])))
    if not found:
        return "via ways do not join the from and to ways by road"
    for path, to in found:
        out.append((path, to, r.only))
        nodes = (int(osmid[u[path[0]]]), *(int(osmid[v[e]]) for e in path))
        report.via_turns.append((nodes, tuple(sorted(int(osmid[v[b]]) for b in to)), r.only))
    report.applied.append(r)
    return ""


def _covers(path: tuple[int, ...], seg_sets: dict[int, list[set[int]]], via: set[int]) -> bool:
    used: set[int] = set()
    for e in path:
        for s in seg_sets[e]:
            used |= s & via
    return used == via
