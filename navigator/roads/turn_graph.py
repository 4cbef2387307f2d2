"""Turn expansion: split intersections into ports, copies, ghost chains and sinks.

The one place where turn rules (restrictions via a node or via ways, turn penalties) become
nodes and edges, so every node-based search runs on the result unchanged. At an *expanded*
intersection ``N``:

- each out-edge ``N -> w`` leaves from its own *port* (``N -> port`` costs 0 s: a search
  starting at ``N`` may take any road);
- each in-edge with turn rules (a via-node restriction, the first edge of a via-way
  restriction, or any in-edge where turns are penalised) arrives at its own *copy*, joined by
  *turn edges* to the ports of the turns allowed after it, weighted by the turn's penalty
  (0 s without a profile); other in-edges arrive at ``N`` itself;
- a *sink*, reached at 0 s from ``N`` and from every copy, is where a search *to* ``N`` ends.

A via-way restriction ``from -> via ways -> to`` needs to remember, along the via path, that
the drive came from ``from``: each prefix ``(from, p1, ..., pi)`` of a restricted sequence is
a *ghost state*, a duplicate of road edge ``pi`` (a *ghost edge*, from a ghost port to a ghost
copy) whose copy keeps the rules of every restricted sequence ending there. A turn goes to the
ghost of the longest restricted prefix the drive then ends with, else to the real port (the
automaton of Aho and Corasick over edge sequences), so exactly the restricted sequences are
cut and every other drive stays possible. Ghost edges are recorded (``ghost_edge`` and the
road edge each duplicates, ``ghost_road``): routes report the road edge, closures close both,
snapping never lands on a ghost.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from navigator.roads.graph import take_rows

if TYPE_CHECKING:
    from navigator.roads.turn_costs import TurnCosts

log = logging.getLogger(__name__)

__all__ = ["Expanded", "Restriction", "Sequence", "TurnReport", "TurnRules", "expand"]

#: A via-way restriction on built edges: ``(from edge, via edges...)``, the to-edges, only.
Sequence = tuple[tuple[int, ...], frozenset[int], bool]


@dataclass(frozen=True)
class Restriction:
    """One turn restriction as tagged in OSM (via a node or via ways).

    Attributes
    ----------
    from_way, to_way
        OSM way ids of the ``from`` and ``to`` members.
    via_node
        OSM node id of the ``via`` member (0 when the via members are ways).
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
    via_ways: tuple[int, ...] = ()


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
    via_turns
        Per applied via-way restriction and from-edge, ``(path, to, only)``: the OSM node ids
        the from-edge and the via path pass (tail of the from-edge, then each edge's head), the
        intersections the to-edges lead to, and whether it is an ``only_*`` restriction.
    skipped
        Count of relations left out, per reason.
    """

    applied: list[Restriction] = field(default_factory=list)
    turns: list[tuple[int, int, int, bool]] = field(default_factory=list)
    via_turns: list[tuple[tuple[int, ...], tuple[int, ...], bool]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class TurnRules:
    """The turn rules of a built graph, in its edge indices.

    Attributes
    ----------
    allowed
        Via-node restrictions: in-edge -> the out-edges a driver arriving on it may take.
    sequences
        Via-way restrictions: ``((from, p1, ..., pk), to-edges, only)``; with ``only`` False
        the to-edges may not follow the sequence, with True only they may.
    costs
        Turn penalties (:mod:`navigator.roads.turn_costs`), or None (every turn 0 s).
    """

    allowed: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict)
    sequences: list[Sequence] = field(default_factory=list)
    costs: TurnCosts | None = None

    def __bool__(self) -> bool:
        """Whether there is anything to expand."""
        return bool(self.allowed or self.sequences or self.costs is not None)


@dataclass(frozen=True)
class Expanded:
    """The turn-expanded edges (road edges first, ghost edges next, turn edges last)."""

    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    travel_time: npt.NDArray[np.float64]
    length: npt.NDArray[np.float64]
    geom_ptr: npt.NDArray[np.int64]
    geom_xy: npt.NDArray[np.float64]
    original_node: npt.NDArray[np.int64]
    target_node: npt.NDArray[np.int64]
    ghost_edge: npt.NDArray[np.int64]
    ghost_road: npt.NDArray[np.int64]


def expand(n: int, u: npt.NDArray[np.int64], v: npt.NDArray[np.int64],
           travel_time: npt.NDArray[np.float64], length: npt.NDArray[np.float64],
           geom_ptr: npt.NDArray[np.int64], geom_xy: npt.NDArray[np.float64],
           rules: TurnRules) -> Expanded:
    """Return the turn-expanded graph of edges ``u -> v`` over intersections ``0 .. n - 1``.

    Parameters
    ----------
    n
        Number of intersections.
    u, v, travel_time, length, geom_ptr, geom_xy
        The road edges (seconds, metres) and their shape points (lon, lat).
    rules
        What to apply.

    Returns
    -------
    Expanded
        Road edges keep their indices (ends moved to ports and copies); ``original_node`` per
        search node, ``target_node`` per intersection.
    """
    n_edges = len(u)
    by_tail = np.argsort(u, kind="stable")
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=out_ptr[1:])
    costs = rules.costs
    need = set(rules.allowed) | {path[0] for path, _, _ in rules.sequences}
    c_edges = np.array(sorted(need), dtype=np.int64)
    if costs is not None:
        c_edges = np.union1d(c_edges, np.flatnonzero(costs.nodes[v]))
    ghosts: dict[tuple[int, ...], int] = {}
    ends: dict[tuple[int, ...], list[tuple[frozenset[int], bool]]] = {}
    for path, to, only in rules.sequences:
        for i in range(2, len(path) + 1):
            ghosts.setdefault(path[:i], len(ghosts))
        ends.setdefault(path, []).append((to, only))
    g_keys = list(ghosts)
    g_edge = np.array([k[-1] for k in g_keys], dtype=np.int64)
    expanded = np.unique(np.concatenate([v[c_edges], v[g_edge]]))
    e_port = np.flatnonzero(np.isin(u, expanded))
    nxt = n
    port = nxt + np.arange(len(e_port), dtype=np.int64)
    nxt += len(e_port)
    copy = nxt + np.arange(len(c_edges), dtype=np.int64)
    nxt += len(c_edges)
    g_port = nxt + np.arange(len(g_keys), dtype=np.int64)
    nxt += len(g_keys)
    g_copy = nxt + np.arange(len(g_keys), dtype=np.int64)
    nxt += len(g_keys)
    sink = nxt + np.arange(len(expanded), dtype=np.int64)
    sink_at = np.full(n, -1, dtype=np.int64)
    sink_at[expanded] = sink
    port_of = np.full(n_edges, -1, dtype=np.int64)
    port_of[e_port] = port

    def allowed_after(e: int) -> npt.NDArray[np.int64]:
        x = int(v[e])
        outs = by_tail[out_ptr[x]:out_ptr[x + 1]]
        return rules.allowed.get(e, outs)

    def weight(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.zeros(len(a)) if costs is None else costs.weight(a, b)

    # real copies: every out-edge of the head, then the via-node rules (vectorised)
    deg = out_ptr[v[c_edges] + 1] - out_ptr[v[c_edges]]
    pair_in = np.repeat(c_edges, deg)
    pair_copy = np.repeat(copy, deg)
    pair_out = take_rows(out_ptr, by_tail, v[c_edges])[1]
    if rules.allowed:
        keys = pair_in * n_edges + pair_out
        limited = np.isin(pair_in, np.array(sorted(rules.allowed), dtype=np.int64))
        ok = np.concatenate([e * n_edges + a for e, a in rules.allowed.items()])
        keep = ~limited | np.isin(keys, ok)
        pair_in, pair_copy, pair_out = pair_in[keep], pair_copy[keep], pair_out[keep]
    pair_w = weight(pair_in, pair_out)
    pair_to = port_of[pair_out]
    for key, g in ghosts.items():  # a restricted sequence starts: on into its ghost
        if len(key) == 2:
            hit = np.flatnonzero((pair_in == key[0]) & (pair_out == key[1]))
            pair_to[hit] = g_port[g]
    # ghost copies: the rules of every restricted sequence the drive ends with
    ga: list[int] = []
    gb: list[int] = []
    gin: list[int] = []
    gout: list[int] = []
    for key, g in ghosts.items():
        outs = set(allowed_after(key[-1]).tolist())
        for i in range(len(key) - 1):
            for to, only in ends.get(key[i:], ()):
                outs = outs & to if only else outs - to
        for f in sorted(outs):
            seq = (*key, f)
            on = next((ghosts[seq[i:]] for i in range(len(seq) - 1) if seq[i:] in ghosts), -1)
            ga.append(int(g_copy[g]))
            gb.append(int(port_of[f] if on < 0 else g_port[on]))
            gin.append(key[-1])
            gout.append(f)
    g_w = weight(np.array(gin, dtype=np.int64), np.array(gout, dtype=np.int64))
    original = np.concatenate([np.arange(n, dtype=np.int64), u[e_port], v[c_edges], u[g_edge],
                               v[g_edge], expanded])
    u2, v2 = u.copy(), v.copy()
    u2[e_port] = port
    v2[c_edges] = copy
    a = np.concatenate([u[e_port], expanded, copy, g_copy, pair_copy,
                        np.array(ga, dtype=np.int64)])
    b = np.concatenate([port, sink, sink_at[v[c_edges]], sink_at[v[g_edge]], pair_to,
                        np.array(gb, dtype=np.int64)])
    w = np.concatenate([np.zeros(len(e_port) + len(expanded) + len(c_edges) + len(g_keys)),
                        pair_w, g_w])
    # ghost edges: duplicates of their road edges, shape points included
    g_ptr, g_xy = take_rows(geom_ptr, geom_xy, g_edge)
    ptr = np.concatenate([geom_ptr, geom_ptr[-1] + g_ptr[1:],
                          np.full(len(a), geom_ptr[-1] + g_ptr[-1], dtype=np.int64)])
    target = np.arange(n, dtype=np.int64)
    target[expanded] = sink
    log.info("turn expansion: %d intersections expanded, %d nodes, %d ghost edges and %d turn "
             "edges added", len(expanded), len(original) - n, len(g_keys), len(a))
    return Expanded(
        u=np.concatenate([u2, g_port, a]), v=np.concatenate([v2, g_copy, b]),
        travel_time=np.concatenate([travel_time, travel_time[g_edge], w]),
        length=np.concatenate([length, length[g_edge], np.zeros(len(a))]),
        geom_ptr=ptr, geom_xy=np.concatenate([geom_xy, g_xy]).reshape(-1, 2),
        original_node=original, target_node=target,
        ghost_edge=n_edges + np.arange(len(g_keys), dtype=np.int64), ghost_road=g_edge)
