"""Turn-rule references for the tests: line graphs of road edges built from what a build reports.

The references are independent of the search graph's ports, copies and ghosts: nodes are road
edges (or, for sequences, the last few road edges driven), arcs the turns the OSM relations
allow, weighted by the next edge's travel time plus the turn's cost.
"""

from __future__ import annotations

import heapq
from itertools import pairwise

import networkx as nx
import numpy as np


def road_edge(tg):
    """Return {(tail intersection, head intersection): road edge id}."""
    tails, heads = tg.road_ends()
    road = np.flatnonzero(tg.is_road_edge())
    return dict(zip(zip(tails[road].tolist(), heads[road].tolist(), strict=True),
                    road.tolist(), strict=True))


def forbidden_turns(tg, report):
    """Return the set of ``(in-edge, out-edge)`` road-edge pairs the restrictions forbid."""
    pair = road_edge(tg)
    heads = tg.road_ends()[1]
    node = {int(o): i for i, o in enumerate(tg.osmid)}
    only, banned = {}, {}
    for f, v, t, is_only in report.turns:
        a, b = pair[(node[f], node[v])], pair[(node[v], node[t])]
        (only if is_only else banned).setdefault(a, set()).add(b)
    leaving = {}
    for (x, _), e in pair.items():
        leaving.setdefault(x, set()).add(e)
    bad = set()
    for a in set(only) | set(banned):
        outs = leaving[int(heads[a])]
        allowed = only.get(a, outs) - banned.get(a, set())
        bad.update((a, b) for b in outs - allowed)
    return bad


def line_graph(tg, forbidden, closed=(), weight=None):
    """Return the edge-based reference: nodes are open road edges, arcs the allowed turns.

    An arc ``a -> b`` weighs ``b``'s travel time, plus ``weight(a, b)`` (a turn's seconds).
    """
    tails, heads = tg.road_ends()
    shut = set(np.asarray(closed).tolist())
    road = [e for e in np.flatnonzero(tg.is_road_edge()).tolist() if e not in shut]
    into, out = {}, {}
    for e in road:
        into.setdefault(int(heads[e]), []).append(e)
        out.setdefault(int(tails[e]), []).append(e)
    L = nx.DiGraph()
    L.add_nodes_from(road)
    tt = tg.travel_time
    L.add_weighted_edges_from(
        (a, b, tt[b] + (weight(a, b) if weight else 0.0)) for x, ins in into.items()
        for a in ins for b in out.get(x, ()) if (a, b) not in forbidden)
    L.graph.update(into=into, out=out)
    return L


def reference_from(tg, L, s):
    """Return seconds from intersection ``s`` to every intersection, by the line graph."""
    tt = tg.travel_time
    G = L.copy()
    G.add_weighted_edges_from(("S", e, tt[e]) for e in L.graph["out"].get(s, ()))
    dist = nx.single_source_dijkstra_path_length(G, "S")
    out = np.full(tg.n_nodes, np.inf)
    out[s] = 0.0
    for x, ins in L.graph["into"].items():
        best = min((dist.get(e, np.inf) for e in ins), default=np.inf)
        out[x] = min(out[x], best)
    return out


def reference_to(tg, L, t):
    """Return seconds from every intersection to ``t``, by the reversed line graph."""
    G = L.reverse(copy=True)
    tt = tg.travel_time
    # reversed: an edge's label is the time from its tail onward, its own time included
    for a, b in G.edges():
        G[a][b]["weight"] = tt[b]
    G.add_weighted_edges_from(("T", e, tt[e]) for e in L.graph["into"].get(t, ()))
    dist = nx.single_source_dijkstra_path_length(G, "T")
    out = np.full(tg.n_nodes, np.inf)
    out[t] = 0.0
    for x, outs in L.graph["out"].items():
        out[x] = min(out[x], min((dist.get(e, np.inf) for e in outs), default=np.inf))
    return out


def turns_taken(edges):
    """Return the consecutive (edge, edge) pairs of a route."""
    return set(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def via_sequences(tg, report):
    """Return the via-way restrictions a build reports as ``(road edges, to-edges, only)``."""
    pair = road_edge(tg)
    node = {int(o): i for i, o in enumerate(tg.osmid)}
    out = []
    for nodes, tos, only in report.via_turns:
        ids = [node[x] for x in nodes]
        path = tuple(pair[(a, b)] for a, b in pairwise(ids))
        out.append((path, frozenset(pair[(ids[-1], node[t])] for t in tos), only))
    return out


def history_times(tg, s, forbidden, sequences=(), weight=None):
    """Return seconds from intersection ``s`` to every intersection, turn rules obeyed.

    Dijkstra over *histories*: a state is the last ``k`` road edges driven (``k`` the longest
    restricted sequence, at least 1), so a sequence is cut where it would be completed.
    ``forbidden`` holds banned ``(in, out)`` pairs; ``weight(a, b)`` the seconds of a turn.
    """
    tails, heads = tg.road_ends()
    tt = tg.travel_time
    out_of = {}
    for e in np.flatnonzero(tg.is_road_edge()).tolist():
        out_of.setdefault(int(tails[e]), []).append(e)
    k = max([len(p) for p, _, _ in sequences] + [1])

    def allowed(hist, f):
        if (hist[-1], f) in forbidden:
            return False
        for path, to, only in sequences:
            if hist[-len(path):] == path and (f in to) != only:
                return False
        return True

    best = np.full(tg.n_nodes, np.inf)
    best[s] = 0.0
    heap = [(float(tt[f]), (f,)) for f in out_of.get(s, ())]
    heapq.heapify(heap)
    done = set()
    while heap:
        d, hist = heapq.heappop(heap)
        if hist in done:
            continue
        done.add(hist)
        x = int(heads[hist[-1]])
        best[x] = min(best[x], d)
        for f in out_of.get(x, ()):
            if allowed(hist, f):
                w = float(tt[f]) + (weight(hist[-1], f) if weight else 0.0)
                heapq.heappush(heap, (d + w, (*hist, f)[-k:]))
    return best
